package credentials

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
)

// Scanning text for key material, as a last line of defence for invariant 6: journals, the
// audit log and keys revoke's --reason refuse text that holds a private key, even though
// callers only ever pass names and fingerprints. The scan looks for key MATERIAL, never for
// words: "private key is truncated or corrupt" or "private key pasted in a public issue" is the
// very text an incident must be able to record.
//
// What counts as key material:
//   - a PEM private key: a "-----BEGIN ... PRIVATE KEY-----" header followed by a base64 body,
//     with real line breaks (LF, CRLF) or \n escapes as JSON and .env files write them;
//   - a base64 run (standard or URL alphabet, padded or not; PEM body lines joined) that
//     decodes to an Ed25519 secret (a seed followed by its public key, the CDP form), to a DER
//     private key or the start of one (SEC1, PKCS#8, PKCS#1: a SEQUENCE opening with a version
//     INTEGER), to 32 random-looking bytes (an Ed25519 seed or a P-256 scalar; not a
//     fingerprint, which its SHA256: prefix marks, nor a path), or that is 60 characters or
//     more and random-looking (a stray line of a PEM body);
//   - a hex run that decodes to an Ed25519 secret (a seed followed by its public key) or to a
//     DER private key. A hex run of 32 bytes is left alone: it cannot be told from a SHA-256
//     hash, which the audit log is full of. A Guard built with the profile's keys refuses the
//     exact keys in those forms too.
//
// Key names (organizations/{uuid}/apiKeys/{uuid}), UUIDs, paths, hex hashes and fingerprints
// pass: a key name mixes the URL alphabet's '-' with the standard one's '/', so it is not
// base64, and a fingerprint is marked by its SHA256: prefix.

// Guard refuses text holding private key material: any key, by the rules above, and the exact
// secrets it was built with in any of their encodings. The zero Guard, and a nil one, guard
// against any key only.
type Guard struct {
	needles    []string // base64 forms and raw text lines of the known secrets
	hexNeedles []string // lower-case hex forms of the known secrets
}

// NewGuard returns a Guard that also refuses the given secrets (as the keyring stores them: PEM
// or base64) in any encoding: PEM, DER, the raw scalar or seed, in base64 or hex. A secret that
// does not parse is still guarded as the text it is.
func NewGuard(secrets ...string) *Guard {
	g := &Guard{}
	for _, secret := range secrets {
		signer, err := ParsePrivateKey(secret)
		if err != nil {
			// Its lines, then. (Not for a key that parses: the last lines of a PEM are the
			// public key, which may be quoted.)
			for _, line := range strings.Split(normalizeBreaks(secret), "\n") {
				if line = strings.TrimSpace(line); len(line) >= minNeedle && !strings.HasPrefix(line, "-----") {
					g.needles = append(g.needles, line)
				}
			}
			continue
		}
		var raws, ders [][]byte
		var secretPart []byte // the bytes that are the secret itself, inside each DER
		switch k := signer.(type) {
		case *ecdsa.PrivateKey:
			scalar := make([]byte, 32)
			k.D.FillBytes(scalar)
			raws, secretPart = append(raws, scalar), scalar
			if der, err := x509.MarshalECPrivateKey(k); err == nil {
				ders = append(ders, der)
			}
			if der, err := x509.MarshalPKCS8PrivateKey(k); err == nil {
				ders = append(ders, der)
			}
		case ed25519.PrivateKey:
			raws, secretPart = append(raws, k.Seed(), []byte(k)), k.Seed()
			if der, err := x509.MarshalPKCS8PrivateKey(k); err == nil {
				ders = append(ders, der)
			}
		}
		for _, raw := range append(raws, ders...) {
			g.needles = append(g.needles, base64.RawStdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw))
			g.hexNeedles = append(g.hexNeedles, hex.EncodeToString(raw))
		}
		// A PEM's body is the DER in base64, where the secret does not start on a
		// 3-byte boundary: its own base64 is not a substring of the PEM text. The
		// characters that encode only secret bytes are, so a fragment of the PEM
		// (its first body line alone, split in two) is caught too.
		for _, der := range ders {
			if n := secretRun(der, secretPart); n != "" {
				g.needles = append(g.needles, n, strings.NewReplacer("+", "-", "/", "_").Replace(n))
			}
		}
	}
	return g
}

// minNeedle is the shortest line of a secret's text that is searched for: shorter lines (the
// last of a PEM body) may be common words.
const minNeedle = 16

// LooksSecret reports whether s holds private key material (see Guard).
func LooksSecret(s string) bool { return (*Guard)(nil).Refuses(s) }

// Refuses reports whether s holds private key material: any key, or one of g's.
func (g *Guard) Refuses(s string) bool {
	s = normalizeBreaks(s)
	if hasPEMKey(s) || hasBase64Key(s) || hasHexKey(s) {
		return true
	}
	if g == nil || len(g.needles)+len(g.hexNeedles) == 0 {
		return false
	}
	// The known secrets are looked for with every separator a copy may have gained removed:
	// line breaks of a PEM, spaces, and the colons of `openssl ec -text`.
	flat := strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', ' ', '\t', ':':
			return -1
		}
		return r
	}, s)
	for _, n := range g.needles {
		if strings.Contains(flat, n) {
			return true
		}
	}
	lower := strings.ToLower(flat)
	for _, n := range g.hexNeedles {
		if strings.Contains(lower, n) {
			return true
		}
	}
	return false
}

// normalizeBreaks turns the escaped line breaks of JSON and .env text (\n, \r) into real ones,
// and CRLF into LF, so that a PEM reads the same however it was written.
func normalizeBreaks(s string) string {
	if strings.Contains(s, `\`) {
		s = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n").Replace(s)
	}
	return strings.ReplaceAll(s, "\r", "\n")
}

// pemHeader finds a PEM private key header; lower case too, as a copy may have been mangled.
var pemHeader = regexp.MustCompile(`(?i)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)

// minPEMBody is how much base64 after a header makes it a key rather than a header quoted in
// help text ("privateKey": "-----BEGIN EC PRIVATE KEY-----..."): 12 bytes, less than any key.
const minPEMBody = 16

func hasPEMKey(s string) bool {
	if !strings.Contains(s, "-----") {
		return false
	}
	for _, loc := range pemHeader.FindAllStringIndex(s, -1) {
		body := strings.TrimLeft(s[loc[1]:], " \t\n")
		// PEM headers of an encrypted key ("Proc-Type: 4,ENCRYPTED") come before the body.
		for strings.Contains(firstLine(body), ": ") {
			_, body, _ = strings.Cut(body, "\n")
			body = strings.TrimLeft(body, " \t\n")
		}
		n := 0
		for n < len(body) && (isBase64Char(body[n]) || body[n] == '\n' || body[n] == ' ' || body[n] == '\t') {
			n++
		}
		if len(strings.Join(strings.Fields(body[:n]), "")) >= minPEMBody {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// pemLineMin is the shortest line taken for a full line of a PEM body (64 characters, or 76
// in MIME's wrapping), after which the next line continues the same base64.
const pemLineMin = 60

// base64Runs returns the maximal runs of base64 characters in s, with each run's start. A run
// that ends a full PEM line goes on over the line break; the lines of such a run are returned
// on their own too, as the next line may be text that only follows a key. Padding ends a run:
// "NAME=value" is two runs.
func base64Runs(s string) (runs []string, starts []int) {
	var joined strings.Builder // the run so far, when it spans lines
	lineStart, runStart := -1, -1
	endLine := func(end int) {
		runs, starts = append(runs, s[lineStart:end]), append(starts, lineStart)
		if joined.Len() > 0 || runStart != lineStart {
			joined.WriteString(s[lineStart:end])
		}
	}
	flush := func(end int) {
		if lineStart >= 0 {
			endLine(end)
			if runStart != lineStart {
				runs, starts = append(runs, joined.String()), append(starts, runStart)
			}
		}
		joined.Reset()
		lineStart, runStart = -1, -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			if lineStart >= 0 {
				for i+1 < len(s) && s[i+1] == '=' {
					i++
				}
				flush(i + 1)
			}
		case isBase64Char(c):
			if lineStart < 0 {
				lineStart, runStart = i, i
			}
		case c == '\n' && lineStart >= 0 && i-lineStart >= pemLineMin:
			// The run goes on if the next line is base64 too, after any indentation; a line
			// starting with '-' is the -----END line, not more body.
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && isBase64Char(s[j]) && s[j] != '=' && s[j] != '-' {
				endLine(i)
				if joined.Len() == 0 {
					joined.WriteString(s[lineStart:i])
				}
				lineStart = j
				i = j - 1
				continue
			}
			flush(i)
		default:
			flush(i)
		}
	}
	flush(len(s))
	return runs, starts
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}

// minKeyRun is the shortest base64 of 32 bytes, the smallest key material.
const minKeyRun = 43

func hasBase64Key(s string) bool {
	runs, starts := base64Runs(s)
	for i, run := range runs {
		if len(run) < minKeyRun {
			continue
		}
		raw, ok := decodeBase64(run)
		if !ok || len(raw) < 32 {
			continue
		}
		switch {
		case isDERKeyStart(raw), isEd25519Secret(raw):
			return true
		case isPublicKey(raw):
			// Not a secret, and an operator may well paste one.
		case len(raw) == 32:
			// A seed or a scalar: 32 random bytes, which nothing tells apart from a hash but
			// context. A fingerprint is marked by its prefix, a path by its leading '/'.
			before := s[:starts[i]]
			fingerprint := len(before) >= 7 && strings.EqualFold(before[len(before)-7:], "SHA256:")
			if !fingerprint && run[0] != '/' && randomLooking(run) {
				return true
			}
		case len(run) >= minRandomRun && randomLooking(run):
			return true
		}
	}
	return false
}

// decodeBase64 decodes run in whichever alphabet it is written, padded or not. A run mixing
// the alphabets ('+' or '/' with '-' or '_'), such as a key name, is not base64.
func decodeBase64(run string) ([]byte, bool) {
	body := strings.TrimRight(run, "=")
	if strings.Contains(body, "=") {
		return nil, false
	}
	std := strings.ContainsAny(body, "+/")
	url := strings.ContainsAny(body, "-_")
	enc := base64.RawStdEncoding
	switch {
	case std && url:
		return nil, false
	case url:
		enc = base64.RawURLEncoding
	}
	raw, err := enc.DecodeString(body)
	return raw, err == nil
}

// isDERKeyStart reports whether raw is a DER private key, or its start: a SEQUENCE whose first
// element is a small version INTEGER, as SEC1 (version 1), PKCS#8 (0 or 1) and PKCS#1 (0) keys
// begin. Random bytes start so once in 2^32 or so; a certificate or public key starts with a
// SEQUENCE inside the SEQUENCE instead.
func isDERKeyStart(raw []byte) bool {
	if len(raw) < 8 || raw[0] != 0x30 {
		return false
	}
	i := 2
	switch l := raw[1]; {
	case l == 0x81:
		i = 3
	case l == 0x82:
		i = 4
	case l >= 0x80:
		return false
	}
	return i+3 <= len(raw) && raw[i] == 0x02 && raw[i+1] == 0x01 && raw[i+2] <= 1
}

func isPublicKey(raw []byte) bool {
	_, err := x509.ParsePKIXPublicKey(raw)
	return err == nil
}

// isEd25519Secret reports whether raw is an Ed25519 private key: a seed followed by its public
// key, which random bytes never are.
func isEd25519Secret(raw []byte) bool {
	if len(raw) != ed25519.PrivateKeySize {
		return false
	}
	pub := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize]).Public().(ed25519.PublicKey)
	return pub.Equal(ed25519.PublicKey(raw[ed25519.SeedSize:]))
}

// minRandomRun is the shortest run of other sizes taken for key material when it looks random:
// a PEM body line is 64 characters, and a path of a test's temporary folder, the longest
// mixed-case run this program logs, stays under it unless it has more separators.
const minRandomRun = 60

// randomLooking is the fallback for a run of 32 bytes or more that is neither a key's size nor
// DER: upper case, lower case and digits all present (so a hex hash or a word does not count)
// and few of '+', '/', '-', '_' (so a path does not count: those separate its words every few
// characters, while in base64 each is 1 in 32 on average).
func randomLooking(run string) bool {
	var upper, lower, digit bool
	seps, lowerPairs := 0, 0
	for i, c := range []byte(run) {
		if i > 0 && 'a' <= c && c <= 'z' && 'a' <= run[i-1] && run[i-1] <= 'z' {
			lowerPairs++
		}
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
	// Words (a long test name in a temporary folder's path, a camelCase identifier) are runs
	// of lower case letters: in random base64 a letter pair is lower-lower about one time in
	// six, in words most of the time. Past one in three, it is text.
	return upper && lower && digit && seps*12 <= len(run) && lowerPairs*3 <= len(run)-1
}

// hexRuns returns the runs of hex digits in s long enough to hold a key.
func hexRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && ('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f' || 'A' <= s[i] && s[i] <= 'F') {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 64 {
			runs = append(runs, s[start:i])
		}
		start = -1
	}
	return runs
}

func hasHexKey(s string) bool {
	for _, run := range hexRuns(s) {
		if len(run)%2 != 0 {
			continue
		}
		raw, err := hex.DecodeString(run)
		if err != nil {
			continue
		}
		if isDERKeyStart(raw) || isEd25519Secret(raw) {
			return true
		}
	}
	return false
}

// secretRun returns the base64 characters of der that encode bytes of part
// (found inside der) and nothing else: the 3-byte groups wholly inside it.
func secretRun(der, part []byte) string {
	off := bytes.Index(der, part)
	if off < 0 {
		return ""
	}
	from, to := (off+2)/3*3, (off+len(part))/3*3
	if to-from < 18 { // 24 characters: too short to tell from chance
		return ""
	}
	enc := base64.StdEncoding.EncodeToString(der)
	return enc[from/3*4 : to/3*4]
}
