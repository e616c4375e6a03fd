package auditlog

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSecret is returned by Append for an entry that looks like it carries a private key.
var ErrSecret = errors.New("looks like it holds a secret")

// minSecretRun is the shortest base64 run taken for key material. A PEM body line is 64
// characters and a raw Ed25519 secret 88, while the longest base64 the log legitimately holds,
// a fingerprint, is 43.
const minSecretRun = 60

// checkNoSecrets is defence in depth for rotation invariant 6: callers are meant to pass names
// and fingerprints only, but a key pasted into Detail by mistake must not reach a file that is
// kept forever and shipped around. The error names the field, never the value.
func checkNoSecrets(e Entry) error {
	fields := []struct {
		name  string
		value string
	}{
		{"who", e.Who}, {"host", e.Host}, {"command", e.Command}, {"profile", e.Profile},
		{"action", e.Action}, {"outcome", e.Outcome}, {"detail", e.Detail},
	}
	for _, v := range e.KeyNames {
		fields = append(fields, struct{ name, value string }{"keyNames", v})
	}
	for _, v := range e.Fingerprints {
		fields = append(fields, struct{ name, value string }{"fingerprints", v})
	}
	for _, f := range fields {
		if looksSecret(f.value) {
			return fmt.Errorf("audit entry not written: field %s %w (a PEM block or a long base64 run); log key names and fingerprints only", f.name, ErrSecret)
		}
	}
	return nil
}

// looksSecret reports whether s holds a PEM private key header or a run of at least
// minSecretRun base64 characters that looks random. Looking random means upper case, lower
// case and digits all present (so a hex hash or a word does not count) and few of '+', '/',
// '-', '_' (so a path or a key name such as organizations/<uuid>/apiKeys/<uuid> does not
// count: those separate words every few characters, while in base64 each is 1 in 64).
func looksSecret(s string) bool {
	if strings.Contains(strings.ToUpper(s), "PRIVATE KEY") {
		return true
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isBase64Char(s[i]) {
			continue
		}
		if i-start >= minSecretRun && randomLooking(s[start:i]) {
			return true
		}
		start = i + 1
	}
	return false
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}

func randomLooking(run string) bool {
	var upper, lower, digit bool
	seps := 0
	for _, c := range []byte(run) {
		switch {
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case '0' <= c && c <= '9':
			digit = true
		case c != '=':
			seps++
		}
	}
	// 1 in 12 leaves room for the 1 in 32 that random base64 averages.
	return upper && lower && digit && seps*12 <= len(run)
}
