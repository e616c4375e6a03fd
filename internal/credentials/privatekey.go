// Package credentials parses, normalises and fingerprints WaaS / CDP API key
// secrets.
//
// Secrets reach waasctl through many hands: pasted from the portal, copied out
// of a .env file with escaped newlines, exported by OpenSSL as PKCS#8, or
// downloaded as the newer CDP base64 Ed25519 form. ParsePrivateKey accepts all
// of those and returns a crypto.Signer; EncodeSEC1PEM and EncodeEd25519 write
// the canonical forms the official clients expect.
//
// Every error returned here is built from fixed strings only: a secret must
// never end up in a log line or a terminal because it failed to parse.
package credentials

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers can match them with errors.Is; some are wrapped
// with a short fixed detail (never with any part of the input).
var (
	ErrEmpty            = errors.New("private key is empty")
	ErrPlaceholder      = errors.New("private key is a placeholder, not a real key")
	ErrPublicKey        = errors.New("this is a public key; the private key is needed")
	ErrUnsupportedCurve = errors.New("unsupported curve: ECDSA keys must use P-256")
	ErrUnsupportedKey   = errors.New("unsupported key type: need an ECDSA P-256 or Ed25519 key")
	ErrEncrypted        = errors.New("private key is encrypted; decrypt it first")
	ErrCorrupt          = errors.New("private key is truncated or corrupt")
	ErrMultipleKeys     = errors.New("more than one private key found; supply exactly one")
	ErrEd25519Seed      = errors.New("a 32-byte Ed25519 seed is not a CDP key secret; expected 64 bytes (seed followed by public key)")
	ErrWalletSecret     = errors.New("this looks like a CDP Wallet Secret (base64 DER), not an API key secret")
	ErrUnrecognized     = errors.New("unrecognized private key format: expected a PEM EC/PKCS#8 key or a base64 Ed25519 key")
)

// PEM block types we recognise. Anything else is reported as unrecognised.
const (
	pemSEC1        = "EC PRIVATE KEY"
	pemPKCS8       = "PRIVATE KEY"
	pemECParams    = "EC PARAMETERS" // emitted before the key by `openssl ecparam -genkey`
	pemEncrypted   = "ENCRYPTED PRIVATE KEY"
	pemRSA         = "RSA PRIVATE KEY"
	pemOpenSSH     = "OPENSSH PRIVATE KEY"
	pemPublic      = "PUBLIC KEY"
	pemECPublic    = "EC PUBLIC KEY"
	pemRSAPublic   = "RSA PUBLIC KEY"
	pemCertificate = "CERTIFICATE"
)

// Object identifiers used to classify keys that crypto/x509 refuses to parse,
// so that e.g. a secp256k1 key is reported as "unsupported curve" rather
// than "corrupt".
var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

// ParsePrivateKey parses an API key secret. It accepts:
//
//   - SEC1 "EC PRIVATE KEY" PEM on P-256 (the WaaS / Coinbase Cloud form);
//   - PKCS#8 "PRIVATE KEY" PEM holding a P-256 ECDSA or an Ed25519 key;
//   - standard base64 of a 64-byte Ed25519 private key (seed || public key),
//     the newer CDP form.
//
// Before parsing it strips surrounding whitespace and one pair of matching
// quotes, turns literal `\n` escapes (as found in .env files) into newlines and
// CRLF into LF. The result is an *ecdsa.PrivateKey or an ed25519.PrivateKey.
//
// A bare 32-byte Ed25519 seed is deliberately rejected: every official CDP SDK
// (Go, Python, TypeScript) requires the 64-byte form, so a 32-byte value is
// more likely a truncated or different kind of secret than a valid key.
func ParsePrivateKey(secret string) (crypto.Signer, error) {
	s := normalize(secret)
	if s == "" {
		return nil, ErrEmpty
	}
	if strings.Contains(s, "-----BEGIN") {
		return parsePEM(s)
	}
	return parseBase64(s)
}

// normalize undoes the usual damage done to secrets by shells, .env files and
// copy-paste, without touching the key material itself.
func normalize(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "\ufeff")
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	s = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", "\r\n", "\n", "\r", "\n").Replace(s)
	// Indented PEM (from YAML, heredocs, ...) is fine once each line is trimmed;
	// base64 and PEM armour never carry meaningful leading or trailing blanks.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parsePEM walks every PEM block so that a leading "EC PARAMETERS" block, an
// accompanying public key or certificate, and explanatory text (e.g. OpenSSL
// "Bag Attributes") are tolerated, while two private keys in one secret or a
// truncated trailing block are not.
func parsePEM(s string) (crypto.Signer, error) {
	var (
		key       crypto.Signer
		sawPublic bool
		rest      = []byte(s)
	)
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		switch block.Type {
		case pemECParams:
			continue
		case pemPublic, pemECPublic, pemRSAPublic, pemCertificate:
			sawPublic = true
			continue
		}
		if key != nil {
			return nil, ErrMultipleKeys
		}
		k, err := parsePEMBlock(block)
		if errors.Is(err, ErrCorrupt) {
			return nil, classifyFailure(s, err)
		}
		if err != nil {
			return nil, err
		}
		key = k
	}
	switch {
	case bytes.Contains(rest, []byte("-----BEGIN")):
		// pem.Decode gives up silently on a missing END line or a body that
		// is not base64; that is either a template or a damaged paste.
		return nil, classifyFailure(s, ErrCorrupt)
	case key != nil:
		return key, nil
	case sawPublic:
		return nil, ErrPublicKey
	default:
		return nil, classifyFailure(s, ErrCorrupt)
	}
}

// parsePEMBlock dispatches on the block type.
func parsePEMBlock(b *pem.Block) (crypto.Signer, error) {
	if _, ok := b.Headers["Proc-Type"]; ok {
		return nil, ErrEncrypted // legacy OpenSSL "Proc-Type: 4,ENCRYPTED"
	}
	switch b.Type {
	case pemSEC1:
		return parseSEC1(b.Bytes)
	case pemPKCS8:
		return parsePKCS8(b.Bytes)
	case pemEncrypted:
		return nil, ErrEncrypted
	case pemRSA:
		return nil, fmt.Errorf("%w (RSA)", ErrUnsupportedKey)
	case pemOpenSSH:
		return nil, fmt.Errorf("%w (OpenSSH format; export it as PKCS#8 PEM)", ErrUnrecognized)
	default:
		return nil, ErrUnrecognized
	}
}

// ecPrivateKey mirrors RFC 5915 just far enough to read the curve OID of a
// key that crypto/x509 refuses (it only knows the NIST curves).
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

func parseSEC1(der []byte) (crypto.Signer, error) {
	k, err := x509.ParseECPrivateKey(der)
	if err != nil {
		var raw ecPrivateKey
		if rest, perr := asn1.Unmarshal(der, &raw); perr == nil && len(rest) == 0 && raw.Version == 1 && len(raw.PrivateKey) > 0 {
			if !raw.NamedCurveOID.Equal(oidP256) {
				return nil, ErrUnsupportedCurve
			}
		}
		return nil, ErrCorrupt
	}
	if !StoredPublicKeyMatches(der, k) {
		return nil, errPublicMismatch
	}
	return checkECDSA(k)
}

// errPublicMismatch: crypto/x509 derives an EC key's public key from its scalar and ignores
// the one stored beside it, so a key whose scalar was damaged (or a file stitched from two
// keys) would parse, and every request it signs be refused with a 401 that says nothing of
// why. As for an Ed25519 secret whose public half disagrees, refuse it now.
var errPublicMismatch = fmt.Errorf("%w (the public key stored in it is not its private key's: a damaged file, or one pieced together from two keys; download the key again)", ErrCorrupt)

// StoredPublicKeyMatches reports whether the public key a SEC1 (RFC 5915) EC key stores, if it
// stores one, is k's.
func StoredPublicKeyMatches(sec1 []byte, k *ecdsa.PrivateKey) bool {
	var raw ecPrivateKey
	if _, err := asn1.Unmarshal(sec1, &raw); err != nil {
		return false
	}
	if len(raw.PublicKey.Bytes) == 0 {
		return true // optional, and absent
	}
	want, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return false
	}
	got := raw.PublicKey.Bytes
	if len(got) == 1+(len(want)-1)/2 && (got[0] == 2 || got[0] == 3) {
		// The compressed form (openssl ec -conv_form compressed): X, and Y's parity.
		return bytes.Equal(got[1:], want[1:len(got)]) && got[0]&1 == want[len(want)-1]&1
	}
	if len(got) == len(want) && (got[0] == 6 || got[0] == 7) {
		// The hybrid form (openssl ec -conv_form hybrid): X and Y, the prefix naming Y's parity.
		return bytes.Equal(got[1:], want[1:]) && got[0]&1 == want[len(want)-1]&1
	}
	return bytes.Equal(got, want)
}

// pkcs8 mirrors RFC 5208 to classify keys crypto/x509 cannot parse.
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// oneAsymmetricKey is PKCS#8 version 2 (RFC 5958), which may carry the public key.
type oneAsymmetricKey struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

// PKCS8StoredPublicKeyMatches reports whether the public key a PKCS#8 key k was parsed from
// stores, if it stores one, is k's: inside the SEC1 key for ECDSA, beside the seed in version 2
// (RFC 8410) for Ed25519. crypto/x509 ignores both, so a damaged key would parse.
func PKCS8StoredPublicKeyMatches(der []byte, k crypto.Signer) bool {
	var raw oneAsymmetricKey
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return false
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return StoredPublicKeyMatches(raw.PrivateKey, k)
	case ed25519.PrivateKey:
		return len(raw.PublicKey.Bytes) == 0 || bytes.Equal(raw.PublicKey.Bytes, k.Public().(ed25519.PublicKey))
	}
	return true
}

func parsePKCS8(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, classifyPKCS8(der)
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if !PKCS8StoredPublicKeyMatches(der, k) {
			return nil, errPublicMismatch
		}
		return checkECDSA(k)
	case ed25519.PrivateKey:
		if !PKCS8StoredPublicKeyMatches(der, k) {
			return nil, errPublicMismatch
		}
		return k, nil
	case *rsa.PrivateKey:
		return nil, fmt.Errorf("%w (RSA)", ErrUnsupportedKey)
	default:
		return nil, ErrUnsupportedKey // e.g. X25519, which cannot sign
	}
}

// classifyPKCS8 explains why crypto/x509 rejected a PKCS#8 blob.
func classifyPKCS8(der []byte) error {
	var raw pkcs8
	if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) != 0 {
		return ErrCorrupt
	}
	switch {
	case raw.Algo.Algorithm.Equal(oidECPublicKey):
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(raw.Algo.Parameters.FullBytes, &curve); err == nil && !curve.Equal(oidP256) {
			return ErrUnsupportedCurve
		}
		return ErrCorrupt
	case raw.Algo.Algorithm.Equal(oidRSA):
		return fmt.Errorf("%w (RSA)", ErrUnsupportedKey)
	default:
		return ErrUnsupportedKey
	}
}

func checkECDSA(k *ecdsa.PrivateKey) (crypto.Signer, error) {
	if k.Curve != elliptic.P256() {
		return nil, ErrUnsupportedCurve
	}
	return k, nil
}

// parseBase64 handles everything without PEM armour: the CDP Ed25519 secret,
// plus recognisable mistakes (a bare seed, a Wallet Secret, a template).
func parseBase64(s string) (crypto.Signer, error) {
	compact := strings.Join(strings.Fields(s), "")
	raw, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return nil, classifyFailure(s, ErrUnrecognized)
	}
	switch {
	case len(raw) == ed25519.PrivateKeySize:
		k := ed25519.PrivateKey(raw)
		// The public half is only a cache of seed*B; if it disagrees, every
		// signature would fail verification server-side, so refuse now.
		derived := ed25519.NewKeyFromSeed(k.Seed())
		if !bytes.Equal(derived[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, classifyFailure(s, fmt.Errorf("%w (Ed25519 public half does not match its seed)", ErrCorrupt))
		}
		return derived, nil
	case len(raw) == ed25519.SeedSize:
		return nil, classifyFailure(s, ErrEd25519Seed)
	case isDERPrivateKey(raw):
		return nil, ErrWalletSecret
	default:
		return nil, classifyFailure(s, ErrUnrecognized)
	}
}

// isDERPrivateKey reports whether raw is an unarmoured DER private key, which
// is how CDP hands out Wallet Secrets (a second, different credential).
func isDERPrivateKey(raw []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(raw); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(raw)
	return err == nil
}

// classifyFailure turns a parse failure into ErrPlaceholder when the input
// is evidently a template (like the official README's "my-private-key"), so
// the user is told to paste the real secret rather than hunt for corruption.
// It is consulted only after parsing failed, so a real key that happens to
// contain, say, "xxx" in its base64 is never affected.
func classifyFailure(s string, err error) error {
	if looksLikePlaceholder(pemBody(s)) {
		return ErrPlaceholder
	}
	return err
}

// pemBody returns the text between the first BEGIN line and the following END
// line (or the end of input), or s itself when there is no armour.
func pemBody(s string) string {
	i := strings.Index(s, "-----BEGIN")
	if i < 0 {
		return s
	}
	body := s[i:]
	if nl := strings.IndexByte(body, '\n'); nl >= 0 {
		body = body[nl+1:]
	} else {
		return ""
	}
	if j := strings.Index(body, "-----END"); j >= 0 {
		body = body[:j]
	}
	return body
}

// placeholderWords are fragments seen in documentation and templates. Each
// is matched in lower, UPPER and Title case only, and either contains a
// character outside the base64 alphabet or is long enough that real key
// material contains it only by rare coincidence; we only look after a parse
// failure anyway.
var placeholderWords = []string{
	"private-key", "private_key", "privatekey", "my-", "your", "xxxxxx",
	"redacted", "example", "placeholder", "changeme", "insert", "replace",
	"paste",
}

func looksLikePlaceholder(body string) bool {
	compact := strings.TrimRight(strings.Join(strings.Fields(body), ""), "=")
	if compact == "" {
		return true // armour with nothing inside
	}
	// None of these is in the base64 alphabet: elisions and <your-key-here>.
	if strings.Contains(compact, "...") || strings.ContainsAny(compact, "<>…{}") {
		return true
	}
	if strings.Count(compact, compact[:1]) == len(compact) {
		return true // "AAAA…" or "xxxx…"
	}
	for _, w := range placeholderWords {
		if strings.Contains(compact, w) ||
			strings.Contains(compact, strings.ToUpper(w)) ||
			strings.Contains(compact, strings.ToUpper(w[:1])+w[1:]) {
			return true
		}
	}
	return false
}

// EncodeSEC1PEM encodes k as a SEC1 "EC PRIVATE KEY" PEM block, the only form
// the official Go client (waas-client-library-go v1.0.8) can load. Only P-256
// keys are accepted because that client always signs with ES256.
func EncodeSEC1PEM(k *ecdsa.PrivateKey) (string, error) {
	if k == nil {
		return "", errors.New("nil ECDSA key")
	}
	if k.Curve != elliptic.P256() {
		return "", ErrUnsupportedCurve
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", ErrCorrupt // the library's message is not guaranteed secret-free
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: pemSEC1, Bytes: der})), nil
}

// EncodeEd25519 encodes k as standard base64 of its 64 bytes (seed || public
// key), the CDP secret form. It returns "" if k is not 64 bytes long.
func EncodeEd25519(k ed25519.PrivateKey) string {
	if len(k) != ed25519.PrivateKeySize {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k)
}

// fingerprintPrefix names the hash, in the style of OpenSSH fingerprints.
const fingerprintPrefix = "SHA256:"

// Fingerprint identifies a public key without revealing anything secret:
// "SHA256:" + unpadded std base64 of SHA-256 over the PKIX (SubjectPublicKeyInfo)
// DER. Hashing the PKIX form makes it independent of how the private key was
// encoded (SEC1, PKCS#8, escaped, base64). It returns "" for key types that
// x509 cannot marshal.
func Fingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return fingerprintPrefix + base64.RawStdEncoding.EncodeToString(sum[:])
}

// shortFingerprintLen is 72 bits of hash: enough to tell a handful of keys
// apart at a glance, short enough for a table column.
const shortFingerprintLen = 12

// ShortFingerprint abbreviates a Fingerprint for display. Input without the
// "SHA256:" prefix is treated as the bare hash part.
func ShortFingerprint(fp string) string {
	h := strings.TrimPrefix(fp, fingerprintPrefix)
	if h == "" {
		return ""
	}
	if len(h) > shortFingerprintLen {
		h = h[:shortFingerprintLen]
	}
	return fingerprintPrefix + h
}
