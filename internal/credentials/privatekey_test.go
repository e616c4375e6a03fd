package credentials

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coinbase/waas-client-library-go/auth"
)

// officialTemplate is the placeholder from waas-client-library-go v1.0.8's
// example.go; users copy it verbatim surprisingly often.
const officialTemplate = "-----BEGIN EC PRIVATE KEY-----\nmy-private-key\n-----END EC PRIVATE KEY-----\n"

// Test keys are generated once per process; RSA generation in particular is
// too slow to repeat per subtest under -race.
var fixtures = sync.OnceValue(func() testFixtures {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return testFixtures{p256: p256, p384: p384, ed: ed, rsa: rsaKey}
})

type testFixtures struct {
	p256 *ecdsa.PrivateKey
	p384 *ecdsa.PrivateKey
	ed   ed25519.PrivateKey
	rsa  *rsa.PrivateKey
}

func pemOf(t testing.TB, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// must keeps fixture construction terse; fixture failures are programming
// errors, so a panic (which still fails the test, with a stack) is fine.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sec1PEM(t testing.TB, k *ecdsa.PrivateKey) string {
	return pemOf(t, "EC PRIVATE KEY", must(x509.MarshalECPrivateKey(k)))
}

func pkcs8PEM(t testing.TB, k any) string {
	return pemOf(t, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(k)))
}

func publicPEM(t testing.TB, pub any) string {
	return pemOf(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(pub)))
}

// escapeNewlines renders a PEM the way .env files and JSON-in-env-vars do.
func escapeNewlines(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

var oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

// secp256k1SEC1 hand-builds a syntactically valid SEC1 key on a curve that
// crypto/x509 does not know, which must be reported as an unsupported curve.
func secp256k1SEC1(t testing.TB) []byte {
	priv := make([]byte, 32)
	priv[31] = 7
	return must(asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: priv, NamedCurveOID: oidSecp256k1}))
}

func secp256k1PKCS8(t testing.TB) []byte {
	params := must(asn1.Marshal(oidSecp256k1))
	inner := must(asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: make([]byte, 32)}))
	return must(asn1.Marshal(pkcs8{
		Algo:       pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}},
		PrivateKey: inner,
	}))
}

// withStoredPublic returns the SEC1 DER of k storing pubOf's public key in form
// ("uncompressed", "compressed" or "hybrid", as openssl ec -conv_form writes them). Another
// key's point is a file stitched from two keys, or one whose scalar was damaged; wrongParity
// stores the other Y's prefix (compressed and hybrid only).
func withStoredPublic(t testing.TB, k, pubOf *ecdsa.PrivateKey, form string, wrongParity bool) []byte {
	var raw ecPrivateKey
	must(asn1.Unmarshal(must(x509.MarshalECPrivateKey(k)), &raw))
	pub := must(pubOf.PublicKey.Bytes()) // 0x04 || X || Y
	parity := pub[len(pub)-1] & 1
	switch form {
	case "compressed":
		pub = append([]byte{2 + parity}, pub[1:33]...)
	case "hybrid":
		pub = append([]byte{6 + parity}, pub[1:]...)
	}
	if wrongParity {
		pub[0] ^= 1
	}
	raw.PublicKey = asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}
	return must(asn1.Marshal(raw))
}

// withStoredPublicOf returns the SEC1 DER of k storing other's public key, uncompressed.
func withStoredPublicOf(t testing.TB, k, other *ecdsa.PrivateKey) []byte {
	return withStoredPublic(t, k, other, "uncompressed", false)
}

// pkcs8WithStoredPublicOf is the same in a PKCS#8 envelope.
func pkcs8WithStoredPublicOf(t testing.TB, k, other *ecdsa.PrivateKey) []byte {
	var raw pkcs8
	must(asn1.Unmarshal(must(x509.MarshalPKCS8PrivateKey(k)), &raw))
	raw.PrivateKey = withStoredPublicOf(t, k, other)
	return must(asn1.Marshal(raw))
}

// ed25519PKCS8v2 returns k as an RFC 8410 OneAsymmetricKey (PKCS#8 version 2) storing pub as
// its public key, as openssl pkey -traditional does not but some tools (BoringSSL, Java) do.
func ed25519PKCS8v2(t testing.TB, k ed25519.PrivateKey, pub ed25519.PublicKey) []byte {
	var raw pkcs8
	must(asn1.Unmarshal(must(x509.MarshalPKCS8PrivateKey(k)), &raw))
	return must(asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
		PublicKey  asn1.BitString `asn1:"optional,tag:1"`
	}{1, raw.Algo, raw.PrivateKey, asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}}))
}

func selfSignedCertPEM(t testing.TB, k *ecdsa.PrivateKey) string {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	return pemOf(t, "CERTIFICATE", must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)))
}

func TestParsePrivateKeyAccepts(t *testing.T) {
	f := fixtures()
	sec1 := sec1PEM(t, f.p256)
	edB64 := base64.StdEncoding.EncodeToString(f.ed)
	paramsBlock := pemOf(t, "EC PARAMETERS", must(asn1.Marshal(oidP256)))

	cases := []struct {
		name   string
		secret string
		want   crypto.PublicKey
	}{
		{"SEC1", sec1, f.p256.Public()},
		{"SEC1 no trailing newline", strings.TrimSpace(sec1), f.p256.Public()},
		{"SEC1 storing its public key compressed", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, f.p256, "compressed", false)), f.p256.Public()},
		{"SEC1 storing its public key in the hybrid form", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, f.p256, "hybrid", false)), f.p256.Public()},
		{"SEC1 escaped newlines", escapeNewlines(sec1), f.p256.Public()},
		{"SEC1 escaped and double quoted", `"` + escapeNewlines(sec1) + `"`, f.p256.Public()},
		{"SEC1 single quoted", "'" + sec1 + "'", f.p256.Public()},
		{"SEC1 escaped CRLF", strings.ReplaceAll(sec1, "\n", `\r\n`), f.p256.Public()},
		{"SEC1 CRLF", strings.ReplaceAll(sec1, "\n", "\r\n"), f.p256.Public()},
		{"SEC1 surrounding whitespace", "\n\t  " + sec1 + "  \n\n", f.p256.Public()},
		{"SEC1 indented (YAML)", "    " + strings.ReplaceAll(sec1, "\n", "\n    "), f.p256.Public()},
		{"SEC1 with BOM", "\ufeff" + sec1, f.p256.Public()},
		{"SEC1 after EC PARAMETERS", paramsBlock + sec1, f.p256.Public()},
		{"SEC1 with public key block", sec1 + publicPEM(t, f.p256.Public()), f.p256.Public()},
		{"SEC1 after text", "Bag Attributes\n    localKeyID: 01\n" + sec1, f.p256.Public()},
		{"PKCS8 P-256", pkcs8PEM(t, f.p256), f.p256.Public()},
		{"PKCS8 P-256 escaped", escapeNewlines(pkcs8PEM(t, f.p256)), f.p256.Public()},
		{"PKCS8 Ed25519", pkcs8PEM(t, f.ed), f.ed.Public()},
		{"PKCS8 v2 Ed25519 storing its public key", pemOf(t, "PRIVATE KEY", ed25519PKCS8v2(t, f.ed, f.ed.Public().(ed25519.PublicKey))), f.ed.Public()},
		{"Ed25519 base64", edB64, f.ed.Public()},
		{"Ed25519 base64 quoted", `"` + edB64 + `"`, f.ed.Public()},
		{"Ed25519 base64 wrapped", edB64[:44] + "\n" + edB64[44:] + "\n", f.ed.Public()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tc.secret)
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			if !got.Public().(equaler).Equal(tc.want) {
				t.Fatal("parsed key does not match the original")
			}
			if fp, want := Fingerprint(got.Public()), Fingerprint(tc.want); fp != want {
				t.Fatalf("fingerprint %s, want %s", fp, want)
			}
		})
	}
}

func TestParsePrivateKeyReturnsUsableSigners(t *testing.T) {
	f := fixtures()
	ec := must(ParsePrivateKey(sec1PEM(t, f.p256)))
	if _, ok := ec.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("SEC1 gave %T, want *ecdsa.PrivateKey", ec)
	}
	ed := must(ParsePrivateKey(EncodeEd25519(f.ed)))
	edKey, ok := ed.(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("base64 Ed25519 gave %T, want ed25519.PrivateKey", ed)
	}
	msg := []byte("hello")
	if !ed25519.Verify(f.ed.Public().(ed25519.PublicKey), msg, ed25519.Sign(edKey, msg)) {
		t.Fatal("signature by parsed Ed25519 key does not verify")
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	f := fixtures()
	sec1 := sec1PEM(t, f.p256)
	body := strings.Split(strings.TrimSpace(sec1), "\n")
	edB64 := base64.StdEncoding.EncodeToString(f.ed)
	// A 64-byte value whose second half is not the public key of the first.
	mismatched := append(append([]byte{}, f.ed[:32]...), make([]byte, 32)...)
	mismatched[40] = 1
	x25519 := must(ecdh.X25519().GenerateKey(rand.Reader))
	other := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))

	cases := []struct {
		name   string
		secret string
		want   error
	}{
		{"empty", "", ErrEmpty},
		{"blank", " \n\t ", ErrEmpty},
		{"empty quotes", `""`, ErrEmpty},
		{"escaped newlines only", `\n\n`, ErrEmpty},

		{"official README template", officialTemplate, ErrPlaceholder},
		{"official template escaped", escapeNewlines(officialTemplate), ErrPlaceholder},
		{"bare my-private-key", "my-private-key", ErrPlaceholder},
		{"angle brackets", "<your-private-key>", ErrPlaceholder},
		{"env placeholder", "YOUR_PRIVATE_KEY", ErrPlaceholder},
		{"elided PEM (cdp-sdk docstring)", `-----BEGIN EC PRIVATE KEY-----\n...\n...\n...==\n-----END EC PRIVATE KEY-----\n`, ErrPlaceholder},
		{"x-ed base64 (cdp-sdk docstring)", strings.Repeat("x", 86) + "==", ErrPlaceholder},
		{"empty armour", "-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n", ErrPlaceholder},
		{"REDACTED", "-----BEGIN EC PRIVATE KEY-----\nREDACTED\n-----END EC PRIVATE KEY-----", ErrPlaceholder},

		{"P-384 SEC1", sec1PEM(t, f.p384), ErrUnsupportedCurve},
		{"P-384 PKCS8", pkcs8PEM(t, f.p384), ErrUnsupportedCurve},
		{"secp256k1 SEC1", pemOf(t, "EC PRIVATE KEY", secp256k1SEC1(t)), ErrUnsupportedCurve},
		{"secp256k1 PKCS8", pemOf(t, "PRIVATE KEY", secp256k1PKCS8(t)), ErrUnsupportedCurve},

		{"RSA PKCS1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(f.rsa)), ErrUnsupportedKey},
		{"RSA PKCS8", pkcs8PEM(t, f.rsa), ErrUnsupportedKey},
		{"X25519 PKCS8", pkcs8PEM(t, x25519), ErrUnsupportedKey},

		{"EC public key", publicPEM(t, f.p256.Public()), ErrPublicKey},
		{"Ed25519 public key", publicPEM(t, f.ed.Public()), ErrPublicKey},
		{"certificate", selfSignedCertPEM(t, f.p256), ErrPublicKey},

		{"encrypted PKCS8", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), ErrEncrypted},
		{"legacy encrypted PEM", string(pem.EncodeToMemory(&pem.Block{
			Type:    "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
			Bytes:   []byte{1, 2, 3, 4},
		})), ErrEncrypted},

		{"truncated: no END line", strings.Join(body[:3], "\n"), ErrCorrupt},
		{"truncated: body line missing", strings.Join(append(body[:1:1], body[2:]...), "\n"), ErrCorrupt},
		{"truncated: half a line", strings.Join(body[:2], "\n") + "\n" + body[2][:10] + "\n" + body[len(body)-1], ErrCorrupt},
		{"non-base64 body", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI!!!\n-----END EC PRIVATE KEY-----", ErrCorrupt},
		{"garbage DER", pemOf(t, "EC PRIVATE KEY", []byte("definitely not DER")), ErrCorrupt},
		{"garbage PKCS8", pemOf(t, "PRIVATE KEY", []byte{0x30, 0x01, 0x00}), ErrCorrupt},
		{"truncated second block", sec1 + "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE", ErrCorrupt},
		{"Ed25519 halves mismatch", base64.StdEncoding.EncodeToString(mismatched), ErrCorrupt},
		{"P-256 SEC1 storing another key's public key", pemOf(t, "EC PRIVATE KEY", withStoredPublicOf(t, f.p256, other)), ErrCorrupt},
		{"P-256 SEC1 storing its public key compressed, Y's parity wrong", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, f.p256, "compressed", true)), ErrCorrupt},
		{"P-256 SEC1 storing another key's public key compressed", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, other, "compressed", false)), ErrCorrupt},
		{"P-256 SEC1 storing its public key hybrid, Y's parity wrong", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, f.p256, "hybrid", true)), ErrCorrupt},
		{"P-256 SEC1 storing another key's public key hybrid", pemOf(t, "EC PRIVATE KEY", withStoredPublic(t, f.p256, other, "hybrid", false)), ErrCorrupt},
		{"Ed25519 PKCS8 v2 storing another key's public key", pemOf(t, "PRIVATE KEY", ed25519PKCS8v2(t, f.ed, otherEd25519Public(t))), ErrCorrupt},
		{"P-256 PKCS8 storing another key's public key", pemOf(t, "PRIVATE KEY", pkcs8WithStoredPublicOf(t, f.p256, other)), ErrCorrupt},

		{"two private keys", sec1 + sec1PEM(t, must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))), ErrMultipleKeys},
		{"32-byte Ed25519 seed", base64.StdEncoding.EncodeToString(f.ed.Seed()), ErrEd25519Seed},
		{"wallet secret (base64 PKCS8 DER)", base64.StdEncoding.EncodeToString(must(x509.MarshalPKCS8PrivateKey(f.p256))), ErrWalletSecret},

		{"Ed25519 base64 truncated", edB64[:60], ErrUnrecognized},
		{"URL-safe base64", "Zm9v-YmFy_YmF6", ErrUnrecognized},
		{"hex", "deadbeefcafe0123456789", ErrUnrecognized},
		{"OpenSSH", pemOf(t, "OPENSSH PRIVATE KEY", []byte("openssh-key-v1\x00")), ErrUnrecognized},
		{"unknown PEM type", pemOf(t, "DSA PRIVATE KEY", []byte{1}), ErrUnrecognized},
		{"JSON key file pasted whole", `{"name":"organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022","privateKey":"` + escapeNewlines(sec1) + `"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tc.secret)
			if err == nil {
				t.Fatalf("accepted (%T)", k)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			assertNoLeak(t, err, tc.secret)
			assertKnownMessage(t, err)
		})
	}
}

// assertNoLeak fails if any 10-character window of the secret appears in the
// error message. Sentinel messages are lower-case English, PEM armour is
// upper-case, so genuine key material is the only thing this can catch.
func assertNoLeak(t testing.TB, err error, secret string) {
	t.Helper()
	msg := err.Error()
	const window = 10
	for i := 0; i+window <= len(secret); i++ {
		if w := secret[i : i+window]; strings.Contains(msg, w) {
			t.Fatalf("error message %q echoes input fragment %q", msg, w)
		}
	}
}

// knownMessages is every error text ParsePrivateKey may produce. Checking
// membership proves that no input-derived text is ever part of an error.
var knownMessages = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range []error{
		ErrEmpty, ErrPlaceholder, ErrPublicKey, ErrUnsupportedCurve, ErrUnsupportedKey, ErrEncrypted,
		ErrCorrupt, ErrMultipleKeys, ErrEd25519Seed, ErrWalletSecret, ErrUnrecognized,
	} {
		m[e.Error()] = true
	}
	m[ErrUnsupportedKey.Error()+" (RSA)"] = true
	m[ErrUnrecognized.Error()+" (OpenSSH format; export it as PKCS#8 PEM)"] = true
	m[ErrCorrupt.Error()+" (Ed25519 public half does not match its seed)"] = true
	m[errPublicMismatch.Error()] = true
	return m
}()

func assertKnownMessage(t testing.TB, err error) {
	t.Helper()
	if !knownMessages[err.Error()] {
		t.Fatalf("unexpected error text %q", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error text %q is not one line", err)
	}
}

func TestFingerprintStableAcrossEncodings(t *testing.T) {
	f := fixtures()
	forms := []string{
		sec1PEM(t, f.p256),
		pkcs8PEM(t, f.p256),
		`"` + escapeNewlines(sec1PEM(t, f.p256)) + `"`,
		strings.ReplaceAll(pkcs8PEM(t, f.p256), "\n", "\r\n"),
	}
	want := Fingerprint(f.p256.Public())
	for i, s := range forms {
		k := must(ParsePrivateKey(s))
		if got := Fingerprint(k.Public()); got != want {
			t.Errorf("form %d: fingerprint %s, want %s", i, got, want)
		}
	}
	edWant := Fingerprint(f.ed.Public())
	for i, s := range []string{pkcs8PEM(t, f.ed), EncodeEd25519(f.ed)} {
		if got := Fingerprint(must(ParsePrivateKey(s)).Public()); got != edWant {
			t.Errorf("ed form %d: fingerprint %s, want %s", i, got, edWant)
		}
	}
	if want == edWant {
		t.Fatal("different keys share a fingerprint")
	}
}

func TestFingerprintKnownAnswer(t *testing.T) {
	// Seed 00 01 .. 1f. Expected value computed independently with
	//   openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public()
	const want = "SHA256:oFCDfYUHBYLM9zlLCYiEfMMSy4glm4lImfbyOc8XkaU"
	if got := Fingerprint(pub); got != want {
		t.Fatalf("Fingerprint = %s, want %s", got, want)
	}
	if got := ShortFingerprint(want); got != "SHA256:oFCDfYUHBYLM" {
		t.Fatalf("ShortFingerprint = %s", got)
	}
}

func TestFingerprintUnsupported(t *testing.T) {
	if got := Fingerprint(struct{}{}); got != "" {
		t.Fatalf("Fingerprint(unsupported) = %q, want empty", got)
	}
	if got := Fingerprint(nil); got != "" {
		t.Fatalf("Fingerprint(nil) = %q, want empty", got)
	}
}

func TestShortFingerprint(t *testing.T) {
	for in, want := range map[string]string{
		"SHA256:abcdefghijklmnopqrstuvwxyz": "SHA256:abcdefghijkl",
		"SHA256:abc":                        "SHA256:abc",
		"abcdefghijklmnop":                  "SHA256:abcdefghijkl",
		"SHA256:":                           "",
		"":                                  "",
	} {
		if got := ShortFingerprint(in); got != want {
			t.Errorf("ShortFingerprint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeSEC1PEMRoundTrip(t *testing.T) {
	f := fixtures()
	// A PKCS#8 key, which the official client cannot load, converted to SEC1.
	k := must(ParsePrivateKey(pkcs8PEM(t, f.p256))).(*ecdsa.PrivateKey)
	out := must(EncodeSEC1PEM(k))
	if !strings.HasPrefix(out, "-----BEGIN EC PRIVATE KEY-----\n") || !strings.HasSuffix(out, "-----END EC PRIVATE KEY-----\n") {
		t.Fatal("not a SEC1 PEM block")
	}
	back := must(ParsePrivateKey(out))
	if Fingerprint(back.Public()) != Fingerprint(f.p256.Public()) {
		t.Fatal("round trip changed the key")
	}
	// The official client loads exactly this form.
	a := auth.NewAuthenticator(&auth.APIKey{Name: "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022", PrivateKey: out})
	if _, err := a.BuildJWT("waas_pool_service", "GET example.com/v1/pools"); err != nil {
		t.Fatalf("official client rejects EncodeSEC1PEM output: %v", err)
	}
}

func TestEncodeSEC1PEMRejects(t *testing.T) {
	if _, err := EncodeSEC1PEM(nil); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := EncodeSEC1PEM(fixtures().p384); !errors.Is(err, ErrUnsupportedCurve) {
		t.Errorf("P-384: err = %v, want ErrUnsupportedCurve", err)
	}
}

func TestEncodeEd25519(t *testing.T) {
	f := fixtures()
	s := EncodeEd25519(f.ed)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		t.Fatalf("not std base64 of 64 bytes: len %d err %v", len(raw), err)
	}
	back := must(ParsePrivateKey(s))
	if !back.Public().(ed25519.PublicKey).Equal(f.ed.Public()) {
		t.Fatal("round trip changed the key")
	}
	if got := EncodeEd25519(f.ed[:32]); got != "" {
		t.Fatalf("short key encoded as %q", got)
	}
}

func FuzzParsePrivateKey(f *testing.F) {
	fx := fixtures()
	for _, s := range []string{
		"", officialTemplate, "my-private-key",
		sec1PEM(f, fx.p256), escapeNewlines(sec1PEM(f, fx.p256)), pkcs8PEM(f, fx.p256),
		pkcs8PEM(f, fx.ed), EncodeEd25519(fx.ed), sec1PEM(f, fx.p384),
		pemOf(f, "EC PRIVATE KEY", secp256k1SEC1(f)), pemOf(f, "PRIVATE KEY", secp256k1PKCS8(f)),
		publicPEM(f, fx.p256.Public()), strings.Repeat("x", 86) + "==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secret string) {
		k, err := ParsePrivateKey(secret)
		if err != nil {
			if k != nil {
				t.Fatal("non-nil key with error")
			}
			assertKnownMessage(t, err)
			return
		}
		// Whatever is accepted must be a key we can actually use and store.
		switch key := k.(type) {
		case *ecdsa.PrivateKey:
			if key.Curve != elliptic.P256() {
				t.Fatal("accepted a non-P-256 ECDSA key")
			}
			out, err := EncodeSEC1PEM(key)
			if err != nil {
				t.Fatalf("accepted key cannot be re-encoded: %v", err)
			}
			back, err := ParsePrivateKey(out)
			if err != nil || Fingerprint(back.Public()) != Fingerprint(key.Public()) {
				t.Fatal("SEC1 round trip failed")
			}
		case ed25519.PrivateKey:
			if len(key) != ed25519.PrivateKeySize {
				t.Fatal("bad Ed25519 key length")
			}
		default:
			t.Fatalf("unexpected key type %T", k)
		}
		if Fingerprint(k.Public()) == "" {
			t.Fatal("accepted key has no fingerprint")
		}
	})
}

func otherEd25519Public(t testing.TB) ed25519.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// A key whose stored public key is not its own says what the operator can do about it: the file
// cannot be repaired, only fetched again.
func TestStoredPublicKeyMismatchSaysWhatToDo(t *testing.T) {
	f := fixtures()
	other := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	_, err := ParsePrivateKey(pemOf(t, "EC PRIVATE KEY", withStoredPublicOf(t, f.p256, other)))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "download the key again") {
		t.Fatalf("ParsePrivateKey of a stitched key: %v; want ErrCorrupt saying to download the key again", err)
	}
}
