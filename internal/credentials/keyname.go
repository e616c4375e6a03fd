package credentials

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"
)

// Key names are checked before any use, wherever they come from (a key file, the environment,
// the keyring, a rotation journal, an issuer): a name is printed, logged and sent in every
// JWT's kid and sub, so a private key pasted into the name field must stop here. Both forms
// are made of UUIDs, which no key material fits: an Ed25519 seed or a P-256 scalar is 32
// bytes, 43 characters of base64 at least, and no UUID segment holds base64.
const uuidPattern = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

var (
	legacyKeyName = regexp.MustCompile(`^organizations/` + uuidPattern + `/apiKeys/` + uuidPattern + `$`)
	bareKeyID     = regexp.MustCompile(`^` + uuidPattern + `$`)
)

// KeyNameForms says what CheckKeyName accepts, for errors and help.
const KeyNameForms = "organizations/{org-uuid}/apiKeys/{key-uuid} or a CDP key ID (a UUID)"

// ErrKeyName matches every error CheckKeyName returns.
var ErrKeyName = errors.New("not a key name")

// keyNameError never holds the rejected name: it may be a secret pasted into the wrong field.
type keyNameError struct{ length int }

func (e keyNameError) Error() string {
	return fmt.Sprintf("key name (%d characters) is not %s", e.length, KeyNameForms)
}

func (e keyNameError) Is(target error) bool { return target == ErrKeyName }

// CheckKeyName accepts organizations/{org-uuid}/apiKeys/{key-uuid}, the Coinbase Cloud / WaaS
// form, and a bare UUID, the CDP key ID. Its error gives the name's length, never the name.
func CheckKeyName(name string) error {
	if legacyKeyName.MatchString(name) || bareKeyID.MatchString(name) {
		return nil
	}
	return keyNameError{length: utf8.RuneCountInString(name)}
}
