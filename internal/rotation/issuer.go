package rotation

import (
	"context"
	"errors"
	"fmt"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// ErrUnreadableAnswer is an issuer's answer to create that could not be read: the issuer ran,
// and may have made one key or more whose names waasctl never learnt. The request is listed
// for the operator to check in the portal, whatever find answers later.
var ErrUnreadableAnswer = errors.New("the issuer's answer could not be read")

// An Issuer makes and revokes API keys: the part of a rotation that only
// the key's issuer can do. WaaS has no key API, so the issuer is the
// developer portal, worked by an operator (manual), by a plugin that
// automates it (exec), or, in tests and demos, the sandbox's key-admin API.
type Issuer interface {
	// Name is the issuer's type, as config.yaml names it.
	Name() string
	// Create makes a new key. requestID was recorded in the journal before
	// the call, so that a key whose answer was lost can be found again.
	Create(ctx context.Context, requestID string) (*NewKey, error)
	// Find returns the name of the key an earlier Create with requestID
	// made, if the issuer can tell; found is false when it made none.
	Find(ctx context.Context, requestID string) (name string, found bool, err error)
	// Revoke revokes the key called name. Revoking a revoked key succeeds.
	Revoke(ctx context.Context, name string) error
}

// NewKey is a key an issuer created. Secret is its private key in the
// stored form (SEC1 PEM or base64 Ed25519); it goes to the keyring and the
// configured sinks and nowhere else.
type NewKey struct {
	Key    *credentials.APIKey
	Secret string
}

// ErrCreatedButLost says that the issuer holds a key made by this
// requestID whose secret never reached us: it must be revoked, and a new
// key created under a new requestID.
var ErrCreatedButLost = errors.New("the issuer created a key for this request, but its secret was lost")

func newKeyFrom(name, secret, source string) (*NewKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	k, err := credentials.NewAPIKey(name, secret, source)
	if err != nil {
		return nil, err
	}
	canonical, err := k.SecretText()
	if err != nil {
		return nil, err
	}
	return &NewKey{Key: k, Secret: canonical}, nil
}

// checkKeyName refuses a key name an issuer answered with characters that
// are unsafe on a terminal (controls, escape sequences, bidi overrides).
// The name goes to the journal, the keyring, the audit log and the
// operator's screen, so it is refused rather than cleaned: a cleaned name
// would not be the key's name.
func checkKeyName(name string) error {
	if !textsafe.Safe(name) {
		return fmt.Errorf("the issuer answered a key name with control or bidirectional characters (%.80q): refusing it", name)
	}
	return nil
}
