package credentials

import "strings"

// Scanning text for key material, as a last line of defence for invariant 6:
// journals and the audit log refuse a field that looks like a private key,
// even though callers only ever pass names and fingerprints.

// minSecretRun is the shortest base64 run taken for key material. A PEM body line is 64
// characters and a raw Ed25519 secret 88, while the longest base64 the log legitimately holds,
// a fingerprint, is 43.
const minSecretRun = 60

// LooksSecret reports whether s holds a PEM private key header or a run of at least
// minSecretRun base64 characters that looks random. Looking random means upper case, lower
// case and digits all present (so a hex hash or a word does not count) and few of '+', '/',
// '-', '_' (so a path or a key name such as organizations/<uuid>/apiKeys/<uuid> does not
// count: those separate words every few characters, while in base64 each is 1 in 64).
func LooksSecret(s string) bool {
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
