package auditlog

import (
	"errors"
	"fmt"

	"github.com/waasctl/waasctl/internal/credentials"
)

// ErrSecret is returned by Append for an entry that looks like it carries a private key.
var ErrSecret = errors.New("looks like it holds a secret")

// checkNoSecrets is defence in depth for rotation invariant 6: callers are meant to pass names
// and fingerprints only, but a key pasted into Detail by mistake must not reach a file that is
// kept forever and shipped around. The error names the field, never the value.
func checkNoSecrets(e Entry, guard *credentials.Guard) error {
	fields := []struct {
		name  string
		value string
	}{
		{"who", e.Who}, {"host", e.Host}, {"identity", e.Identity}, {"command", e.Command}, {"profile", e.Profile},
		{"action", e.Action}, {"outcome", e.Outcome}, {"detail", e.Detail},
	}
	for _, v := range e.KeyNames {
		fields = append(fields, struct{ name, value string }{"keyNames", v})
	}
	for _, v := range e.Fingerprints {
		fields = append(fields, struct{ name, value string }{"fingerprints", v})
	}
	for _, f := range fields {
		if guard.Refuses(f.value) {
			return fmt.Errorf("audit entry not written: field %s %w (a PEM private key, or a private key in base64 or hex); log key names and fingerprints only", f.name, ErrSecret)
		}
	}
	return nil
}
