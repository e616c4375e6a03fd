package credentials

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

// keyEncodings is every form a generated key can be pasted in, by name. The generic rules
// refuse each of them; seedForms are the 32-byte forms only a Guard built with the key refuses
// for certain (a bare 32 bytes cannot be told from a hash).
func keyEncodings(t testing.TB, ec *ecdsa.PrivateKey, ed ed25519.PrivateKey) (all, seedForms map[string]string) {
	t.Helper()
	sec1 := must(EncodeSEC1PEM(ec))
	ecPKCS8 := pkcs8PEM(t, ec)
	edPKCS8 := pkcs8PEM(t, ed)
	sec1DER := must(x509.MarshalECPrivateKey(ec))
	ecPKCS8DER := must(x509.MarshalPKCS8PrivateKey(ec))
	scalar := must(ec.Bytes())
	all = map[string]string{
		"SEC1 PEM, LF":                  sec1,
		"SEC1 PEM, CRLF":                strings.ReplaceAll(sec1, "\n", "\r\n"),
		"SEC1 PEM, \\n escapes":         escapeNewlines(sec1),
		"SEC1 PEM, \\r\\n escapes":      strings.ReplaceAll(sec1, "\n", `\r\n`),
		"SEC1 PEM in JSON":              `{"name":"x","privateKey":"` + escapeNewlines(sec1) + `"}`,
		"SEC1 PEM indented in YAML":     "key: |\n  " + strings.ReplaceAll(sec1, "\n", "\n  "),
		"PKCS#8 P-256 PEM, LF":          ecPKCS8,
		"PKCS#8 P-256 PEM, CRLF":        strings.ReplaceAll(ecPKCS8, "\n", "\r\n"),
		"PKCS#8 P-256 PEM, \\n escapes": escapeNewlines(ecPKCS8),
		"PKCS#8 Ed25519 PEM":            edPKCS8,
		"PKCS#8 Ed25519 PEM, CRLF":      strings.ReplaceAll(edPKCS8, "\n", "\r\n"),
		"PEM body without armour":       strings.Join(strings.Split(strings.TrimSpace(sec1), "\n")[1:4], "\n"),
		"first PEM body line alone":     "vault said " + strings.Split(sec1, "\n")[1],
		"SEC1 DER, base64 on one line":  base64.StdEncoding.EncodeToString(sec1DER),
		"PKCS#8 DER, URL base64":        base64.RawURLEncoding.EncodeToString(ecPKCS8DER),
		"SEC1 DER, hex":                 hex.EncodeToString(sec1DER),
		"Ed25519 secret, std":           EncodeEd25519(ed),
		"Ed25519 secret, std no pad":    base64.RawStdEncoding.EncodeToString(ed),
		"Ed25519 secret, URL":           base64.URLEncoding.EncodeToString(ed),
		"Ed25519 secret, URL no pad":    base64.RawURLEncoding.EncodeToString(ed),
		"Ed25519 secret, hex":           hex.EncodeToString(ed),
		"Ed25519 secret, HEX":           strings.ToUpper(hex.EncodeToString(ed)),
		"Ed25519 secret in a .env":      EnvOfficialPrivateKey + "=" + EncodeEd25519(ed),
		"Ed25519 secret in a sentence":  "failed: the plugin printed " + EncodeEd25519(ed) + " instead",
	}
	seedForms = map[string]string{
		"Ed25519 seed, base64": base64.StdEncoding.EncodeToString(ed.Seed()),
		"P-256 scalar, base64": base64.RawURLEncoding.EncodeToString(scalar),
		"P-256 scalar, hex":    hex.EncodeToString(scalar),
		"Ed25519 seed, hex":    "seed " + hex.EncodeToString(ed.Seed()),
		"P-256 scalar, openssl": func() string { // `openssl ec -text` prints it as colon-separated hex lines
			var parts []string
			for _, b := range scalar {
				parts = append(parts, hex.EncodeToString([]byte{b}))
			}
			return "priv:\n    " + strings.Join(parts[:15], ":") + ":\n    " + strings.Join(parts[15:], ":")
		}(),
	}
	return all, seedForms
}

func generateKeys(t testing.TB) (*ecdsa.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	ec := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	_, ed := must2(ed25519.GenerateKey(rand.Reader))
	return ec, ed
}

func must2[A, B any](_ A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	var a A
	return a, b
}

func TestGuardRefusesKeyMaterial(t *testing.T) {
	ec, ed := generateKeys(t)
	all, seedForms := keyEncodings(t, ec, ed)
	for what, s := range all {
		if !LooksSecret(s) {
			t.Errorf("%s: not refused", what)
		}
	}
	guard := NewGuard(must(EncodeSEC1PEM(ec)), EncodeEd25519(ed))
	for what, s := range seedForms {
		if !guard.Refuses(s) {
			t.Errorf("%s: not refused by a guard built with the key", what)
		}
	}
	for what, s := range all {
		if !guard.Refuses(s) {
			t.Errorf("%s: not refused by a guard built with the key", what)
		}
	}
	// A secret the guard knows that does not even parse is still refused as its text.
	corrupt := "-----BEGIN EC PRIVATE KEY-----\n" + strings.Split(must(EncodeSEC1PEM(ec)), "\n")[1][:40] + "\n-----END EC PRIVATE KEY-----\n"
	if !NewGuard(corrupt).Refuses("vault said " + strings.Split(corrupt, "\n")[1]) {
		t.Error("a known corrupt secret's text is not refused")
	}
}

// TestGuardPassesWhatLogsHold: words about keys, the errors waasctl itself writes, and the
// names, fingerprints, hashes and paths the audit log and journals are made of.
func TestGuardPassesWhatLogsHold(t *testing.T) {
	ec, ed := generateKeys(t)
	sum := sha256.Sum256([]byte("entry"))
	fp := Fingerprint(ec.Public())
	mustPass := []string{
		"private key pasted in a public issue",
		"PRIVATE KEY pasted in a public issue",
		"an ec private key",
		"-----BEGIN PRIVATE KEY",
		"-----BEGIN EC PRIVATE KEY-----...",
		`not a key file: want JSON like {"name": "organizations/.../apiKeys/...", "privateKey": "-----BEGIN EC PRIVATE KEY-----..."}`,
		`a bare private key has no name: give the key file the portal downloads ({"name", "privateKey"}) or a .env file with ` + EnvOfficialName,
		`issuer command "vault" create: ` + ErrCorrupt.Error(),
		"envfile /etc/waas-proxy/.env: " + EnvOfficialPrivateKey + ": " + ErrCorrupt.Error() + " (Ed25519 public half does not match its seed)",
		"rotation journal of profile prod not saved: events[3].message holds key material (a PEM private key, or a private key in base64 or hex)",
		"profile \"prod\": the current key " + testKeyName("k") + ": its fingerprint SHA256:o0VS9xLmTuUq is not that of its private key (SHA256:lBKVVFWj82K2)",
		fp,
		"wrote " + fp + " to envfile /etc/waas-proxy/.env",
		"fingerprint sha256:" + base64.RawStdEncoding.EncodeToString(sum[:]),
		ShortFingerprint(fp),
		testKeyName("k"),
		"organizations/2d8b1c7e-0c4f-4b6a-9a51-3f1e2d4c5b6a/apiKeys/8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b",
		"8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b",
		"rotation 0190c0de-7a1b-7c2d-8e3f-4a5b6c7d8e9f: revoked organizations/…/apiKeys/8f7e6d5c…",
		hex.EncodeToString(sum[:]), // the audit log's hashes
		"prev " + strings.ToUpper(hex.EncodeToString(sum[:])),
		"/home/alice/projects/walletproxy/deploy/production/secrets/env",
		"/srv/Containers/Volumes/WalletProxy2/Config/Production/Secrets/dotenv",
		"/tmp/TestEngineAbortBeforePromote3355026412/001/.env",
		"/tmp/TestEngineAbortBeforePromote33550264/",
		"pools/4b5c7d9e-1f2a-4b3c-8d9e-0f1a2b3c4d5e/mpcWallets/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
		"keys rotate prod --resume",
		strings.Repeat("A", 88),
		// A public key is no secret.
		string(must(x509.MarshalPKIXPublicKey(ed.Public()))),
		base64.StdEncoding.EncodeToString(must(x509.MarshalPKIXPublicKey(ec.Public()))),
	}
	guard := NewGuard(must(EncodeSEC1PEM(ec)), EncodeEd25519(ed))
	for _, s := range mustPass {
		if LooksSecret(s) {
			t.Errorf("refused: %q", s)
		}
		if guard.Refuses(s) {
			t.Errorf("refused by a guard with keys: %q", s)
		}
	}
	var nilGuard *Guard
	if nilGuard.Refuses("private key") || !nilGuard.Refuses(EncodeEd25519(ed)) {
		t.Error("a nil Guard does not guard like LooksSecret")
	}
}

// FuzzGuard: the guard never panics, and a generated key in every encoding is refused: by the
// generic rules, and in its 32-byte forms by a guard that knows it.
func FuzzGuard(f *testing.F) {
	f.Add("private key is truncated or corrupt", uint8(0))
	f.Add("-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE", uint8(1))
	f.Add("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", uint8(2))
	f.Add("\\r\\n==\n\r=-_/+", uint8(3))
	f.Fuzz(func(t *testing.T, s string, cut uint8) {
		g := NewGuard(s)
		_ = g.Refuses(s)
		_ = LooksSecret(s)
		if len(s) > 64 {
			return // keep key generation to the short inputs: it is the slow part
		}
		ec, ed := generateKeys(t)
		all, seedForms := keyEncodings(t, ec, ed)
		guard := NewGuard(must(EncodeSEC1PEM(ec)), EncodeEd25519(ed))
		prefix := s[:min(int(cut), len(s))]
		for what, enc := range all {
			// Text around the key: separated from it, as a key in a message is.
			text := prefix + "\n" + enc + "\n" + s
			if !LooksSecret(text) || !guard.Refuses(text) {
				t.Fatalf("%s not refused in %q", what, text)
			}
		}
		for what, enc := range seedForms {
			if text := prefix + "\n" + enc + "\n" + s; !guard.Refuses(text) {
				t.Fatalf("%s not refused by the key's guard in %q", what, text)
			}
		}
	})
}

// The first body line of the profile's own PEM holds the whole P-256 scalar;
// pasted alone, or split in two by a space or a line break, it is refused.
func TestGuardRefusesAFragmentOfTheProfilesPEM(t *testing.T) {
	for _, gen := range []func() (any, error){
		func() (any, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
		func() (any, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
	} {
		key, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		var block *pem.Block
		if k, ok := key.(*ecdsa.PrivateKey); ok {
			der, _ := x509.MarshalECPrivateKey(k)
			block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
		} else {
			der, _ := x509.MarshalPKCS8PrivateKey(key)
			block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		}
		text := string(pem.EncodeToMemory(block))
		g := NewGuard(text)
		first := strings.Split(text, "\n")[1]
		for _, s := range []string{
			first,
			first[:30] + " " + first[30:],
			first[:25] + "\n" + first[25:],
			"reason: " + first[:33] + " " + first[33:] + " (pasted by mistake)",
		} {
			if !g.Refuses(s) {
				t.Errorf("%s: the guard lets through %q", block.Type, s)
			}
		}
	}
}

// Long identifiers in paths (a Go test's temporary folder, a deployment path) are text, not
// key material: a journal naming such a sink was refused.
func TestGuardPassesLongIdentifierPaths(t *testing.T) {
	for _, s := range []string{
		"envfile /tmp/TestEngineRefusesToRevokeWhenTheNewKeyIsNotCurrentold_key_back_as_CURRENT1234/001/proxy.env",
		"envfile /srv/Deployments/ProductionEuWest1/WaasProxyConfiguration2026/secrets/proxy.env",
		"TestSecretAsKeyNameIsRefusedFromEverySourceAndTheOtherThingsThatMatter2891",
	} {
		if LooksSecret(s) {
			t.Errorf("LooksSecret(%q) = true", s)
		}
	}
}

// TestRandomLookingDecisions pins the fallback rule for runs that are not a
// key's size or DER: upper case, lower case and digits all present, at most
// one separator in 12 characters, and at most one lower-lower letter pair in 3.
// Each case sits on one edge of one rule ('A', 'Z', 'a', 'z', '0', '9' being
// the only letter or digit of their class; the separator and pair limits).
func TestRandomLookingDecisions(t *testing.T) {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	for _, tc := range []struct {
		name string
		run  string
		want bool
	}{
		{"base64-looking", "q8Zr3Kx0Vt7Lm2Np5Bw9Hc4Jd6Fg1Sy8Ue3Ri0Ok7Wa2Xb5Yv9Tn4Mz6Pl1Qh8C", true},
		{"only A, a and 0", rep("Aa0", 22), true},
		{"only Z, z and 9", rep("Zz9", 22), true},
		{"no upper case", rep("a0b1", 16), false},
		{"no lower case", rep("A0B1", 16), false},
		{"no digit", rep("AbCd", 16), false},
		{"padding is not a separator", rep("Aa0", 20) + "==", true},
		{"one separator in 12", rep("Aa0Bb1Cc2Dd+", 5), true},
		{"more than one separator in 12", rep("Aa0Bb1Cc2D+/", 5), false},
		{"a path", "/tmp/TestSomething/001/state/waasctl/rates-2026-12-06.json/x/y/z", false},
		{"one lower pair in 3", rep("Ab0cd", 12) + "E", true},
		{"words", "thisIsAVeryLongCamelCaseIdentifierWithNumbers123AndMoreWordsHere", false},
	} {
		if got := randomLooking(tc.run); got != tc.want {
			t.Errorf("%s: randomLooking(%q) = %v, want %v", tc.name, tc.run, got, tc.want)
		}
	}
}

// TestBare32ByteValues: 32 bytes in base64 (an Ed25519 seed, a P-256 scalar)
// are refused unless they are marked as a fingerprint, and 45 bytes (no
// key's size) only when the run is at least 60 characters, nearly a PEM line.
func TestBare32ByteValues(t *testing.T) {
	seed := sha256.Sum256([]byte("a seed for TestBare32ByteValues"))
	b64 := base64.StdEncoding.EncodeToString(seed[:])
	if !randomLooking(b64) {
		t.Fatalf("the fixture %s does not look random; pick another", b64)
	}
	if !LooksSecret("seed: " + b64) {
		t.Errorf("a bare 32-byte value %s was not refused", b64)
	}
	if LooksSecret("fingerprint SHA256:" + strings.TrimRight(b64, "=")) {
		t.Errorf("a fingerprint was refused: SHA256:%s", b64)
	}
	h := sha256.Sum256(seed[:])
	raw45 := append(seed[:], h[:13]...)
	b45 := base64.RawStdEncoding.EncodeToString(raw45) // 60 characters: minRandomRun
	if len(b45) != minRandomRun || !randomLooking(b45) {
		t.Fatalf("the fixture %s is not %d random-looking characters; pick another", b45, minRandomRun)
	}
	if !LooksSecret("token " + b45) {
		t.Errorf("a 45-byte random run of 60 characters was not refused")
	}
	if LooksSecret("token " + b45[:56]) {
		t.Errorf("a 42-byte run of 56 characters (shorter than minRandomRun, no key's size) was refused")
	}
}

// TestDERKeyStartHeaders: the start of a DER private key is a SEQUENCE with
// a definite length (short, or long in one or two bytes) and an INTEGER
// version 0 or 1 (PKCS#8, SEC1). An indefinite length (0x80, not DER) or a
// longer length form is not one.
func TestDERKeyStartHeaders(t *testing.T) {
	pad := make([]byte, 8)
	for _, tc := range []struct {
		name string
		raw  []byte
		want bool
	}{
		{"short length, version 1", []byte{0x30, 0x77, 0x02, 0x01, 0x01}, true},
		{"one length byte, version 0", []byte{0x30, 0x81, 0x87, 0x02, 0x01, 0x00}, true},
		{"two length bytes", []byte{0x30, 0x82, 0x01, 0x20, 0x02, 0x01, 0x00}, true},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0x00}, false},
		{"three length bytes", []byte{0x30, 0x83, 0x01, 0x00, 0x00, 0x02, 0x01, 0x00}, false},
		{"version 2", []byte{0x30, 0x77, 0x02, 0x01, 0x02}, false},
		{"not a SEQUENCE", []byte{0x31, 0x77, 0x02, 0x01, 0x01}, false},
	} {
		if got := isDERKeyStart(append(tc.raw, pad...)); got != tc.want {
			t.Errorf("%s: isDERKeyStart(% x) = %v, want %v", tc.name, tc.raw, got, tc.want)
		}
	}
}
