package team

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/waasctl/waasctl/internal/credentials"
)

// IdentityEnv holds an age identity (AGE-SECRET-KEY-1...) for hosts without
// a keyring: a CI job reads it from its secret store. internal/process never
// passes it to a child.
const IdentityEnv = "WAASCTL_AGE_IDENTITY"

// identitySecret is the name of the host's identity in the OS keyring
// (credentials.SecretStore).
const identitySecret = "age-identity"

// Identity is this host's age X25519 identity. Its private half never leaves
// the value: every fmt verb, String and GoString print the public key only
// (age's own X25519Identity.String returns the secret).
type Identity struct {
	id     *age.X25519Identity
	Source string // "keyring secret-service", "env WAASCTL_AGE_IDENTITY"
}

// Recipient is the identity's public key, age1...
func (i *Identity) Recipient() string { return i.id.Recipient().String() }

func (i *Identity) String() string   { return "age identity " + i.Recipient() }
func (i *Identity) GoString() string { return "team.Identity{" + i.Recipient() + "}" }

// Format sends every verb to String or GoString.
func (i *Identity) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, i.GoString())
		return
	}
	io.WriteString(f, i.String())
}

// ErrNoIdentity: this host has no age identity (neither in the keyring nor
// in WAASCTL_AGE_IDENTITY).
var ErrNoIdentity = errors.New("this host has no age identity: run 'waasctl team identity new' and ask a team member to add the public key it prints with 'waasctl team recipients add NAME age1...' (a CI job sets WAASCTL_AGE_IDENTITY instead)")

// ParseIdentity reads an identity in age-keygen's format: comment lines and
// one AGE-SECRET-KEY-1... line. Its errors never quote the input.
func ParseIdentity(text, source string) (*Identity, error) {
	var found []*age.X25519Identity
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			return nil, fmt.Errorf("%s: not an age X25519 identity (want one line AGE-SECRET-KEY-1..., as 'waasctl team identity new' or age-keygen makes)", source)
		}
		found = append(found, id)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: holds no age identity (want a line AGE-SECRET-KEY-1...)", source)
	case 1:
		return &Identity{id: found[0], Source: source}, nil
	}
	return nil, fmt.Errorf("%s: holds %d age identities; give exactly one", source, len(found))
}

// LoadIdentity finds this host's identity: WAASCTL_AGE_IDENTITY first (CI),
// then the keyring. It returns an error matching ErrNoIdentity when neither
// has one. keyring may be nil (no keyring to look in).
func LoadIdentity(ctx context.Context, getenv func(string) string, keyring credentials.SecretStore, backend string) (*Identity, error) {
	if v := getenv(IdentityEnv); strings.TrimSpace(v) != "" {
		return ParseIdentity(v, "env "+IdentityEnv)
	}
	if keyring == nil {
		return nil, ErrNoIdentity
	}
	v, err := keyring.GetSecret(ctx, identitySecret)
	if errors.Is(err, credentials.ErrSecretNotFound) {
		return nil, ErrNoIdentity
	}
	if err != nil {
		return nil, err
	}
	return ParseIdentity(v, "keyring "+backend)
}

// ErrIdentityExists: NewIdentity found one in the keyring already.
var ErrIdentityExists = errors.New("this host already has an age identity in its keyring")

// NewIdentity makes an X25519 identity and keeps it in keyring. It refuses
// to replace one (that would lock this host out of everything encrypted to
// the old one) unless replace is set.
func NewIdentity(ctx context.Context, keyring credentials.SecretStore, backend string, replace bool) (*Identity, error) {
	if !replace {
		if old, err := keyring.GetSecret(ctx, identitySecret); err == nil {
			if id, err := ParseIdentity(old, "keyring "+backend); err == nil {
				return id, fmt.Errorf("%w (%s); --replace makes a new one, which cannot read what was encrypted to the old one", ErrIdentityExists, id.Recipient())
			}
			return nil, fmt.Errorf("%w (unreadable); --replace makes a new one", ErrIdentityExists)
		} else if !errors.Is(err, credentials.ErrSecretNotFound) {
			return nil, err
		}
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	text := "# waasctl team identity; public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := keyring.PutSecret(ctx, identitySecret, text); err != nil {
		return nil, err
	}
	return &Identity{id: id, Source: "keyring " + backend}, nil
}

// ParseRecipient checks an age1... public key. Its error quotes a short
// value only.
func ParseRecipient(s string) (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "AGE-SECRET-KEY-") {
			return nil, errors.New("that is an age identity (the private half), not a recipient: give its public key, age1..., which 'waasctl team identity new' prints")
		}
		return nil, errors.New("not an age X25519 recipient: want the age1... public key that 'waasctl team identity new' prints")
	}
	return r, nil
}

// encrypt seals plaintext to every recipient.
func encrypt(plaintext []byte, recipients []*age.X25519Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, ErrNoRecipients
	}
	rs := make([]age.Recipient, len(recipients))
	for i, r := range recipients {
		rs[i] = r
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errNotARecipient is matched by decrypt's error when id is not among the
// ciphertext's recipients.
var errNotARecipient = errors.New("not a recipient")

// maxPlaintext caps what decrypt reads: an item of three keys is ~2 KiB.
const maxPlaintext = 1 << 20

func decrypt(ciphertext []byte, id *Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), id.id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, errNotARecipient
		}
		return nil, fmt.Errorf("the ciphertext is damaged (age: %s)", oneLine(err.Error()))
	}
	out, err := io.ReadAll(io.LimitReader(r, maxPlaintext+1))
	if err != nil {
		return nil, errors.New("the ciphertext is damaged (its payload does not authenticate)")
	}
	if len(out) > maxPlaintext {
		return nil, fmt.Errorf("the plaintext is over %d bytes", maxPlaintext)
	}
	return out, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
