package scan

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/waasctl/waasctl/internal/credentials"
)

const (
	testOrg   = "0b1e3c5a-1111-4222-8333-944455556666"
	testKeyID = "7c2d9e4f-aaaa-4bbb-8ccc-dddd11112222"
	testName  = "organizations/" + testOrg + "/apiKeys/" + testKeyID
)

type testKey struct {
	sec1, pkcs8 string // PEM
	// sec1Compressed stores the public key compressed (openssl ec -conv_form compressed).
	sec1Compressed string
	fp             string
}

func newP256(t testing.TB) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	var raw sec1Key
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		t.Fatal(err)
	}
	pub := raw.PublicKey.Bytes
	compressed := append([]byte{2 + pub[len(pub)-1]&1}, pub[1:33]...)
	raw.PublicKey = asn1.BitString{Bytes: compressed, BitLength: 8 * len(compressed)}
	derCompressed, err := asn1.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{
		sec1:           string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
		pkcs8:          string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		sec1Compressed: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: derCompressed})),
		fp:             credentials.Fingerprint(&k.PublicKey),
	}
}

type edKey struct {
	b64, pkcs8, fp string
}

func newEd(t testing.TB) edKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(priv)
	return edKey{
		b64:   base64.StdEncoding.EncodeToString(priv),
		pkcs8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		fp:    credentials.Fingerprint(pub),
	}
}

// newEdWithoutCDP is newEd for a test of a key with nothing CDP about its place: one whose
// base64 holds "cdp" in any case, which is CDP context, would be a CDP key (such a test failed
// 54 times in 20,000).
func newEdWithoutCDP(t testing.TB) edKey {
	for {
		if e := newEd(t); !strings.Contains(strings.ToLower(e.b64), "cdp") {
			return e
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func utf16LE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func utf16BE(s string) string {
	b := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

func keyFileJSON(name, priv string) string {
	// encoding/json escapes no slash; Coinbase's own files escape them, as PHP and others do.
	return `{"name": "` + strings.ReplaceAll(name, "/", `\/`) + `", "privateKey": ` + jsonString(priv) + `}`
}

const filler = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\") // ----- a rule -----\n\tif a == b { return }\n}\n"

func TestDetectFindsEveryEncoding(t *testing.T) {
	k := newP256(t)
	e := newEd(t)
	yamlBlock := "cdp:\n  name: " + testName + "\n  private_key: |\n    " + strings.ReplaceAll(strings.TrimSpace(k.sec1), "\n", "\n    ") + "\n"
	lines := strings.Split(strings.TrimSpace(k.sec1), "\n")
	var js strings.Builder
	js.WriteString("const name = '" + testName + "';\nconst key =\n")
	for i, l := range lines {
		js.WriteString("  \"" + l + "\\n\"")
		if i < len(lines)-1 {
			js.WriteString(" +\n")
		}
	}
	js.WriteString(";\n")
	pretty, _ := json.MarshalIndent(map[string]string{"name": testName, "privateKey": k.sec1}, "", "  ")
	edJSON := `{"id": "` + testKeyID + `", "privateKey": "` + e.b64 + `"}`
	cases := []struct {
		name, text, fp, kind, keyName string
	}{
		{"sec1 pem", filler + k.sec1, k.fp, KindWaaSP256, ""},
		{"sec1 pem, public key compressed", k.sec1Compressed, k.fp, KindWaaSP256, ""},
		{"crlf", strings.ReplaceAll(k.sec1, "\n", "\r\n"), k.fp, KindWaaSP256, ""},
		{"lower-case header", strings.ToLower(k.sec1[:30]) + k.sec1[30:len(k.sec1)-26] + strings.ToLower(k.sec1[len(k.sec1)-26:]), k.fp, KindWaaSP256, ""},
		{"ECDSA label", strings.ReplaceAll(k.sec1, "EC PRIVATE", "ECDSA Private"), k.fp, KindWaaSP256, ""},
		{"pkcs8", k.pkcs8, k.fp, KindWaaSP256, ""},
		{"key file, escaped slashes", keyFileJSON(testName, k.sec1), k.fp, KindWaaSP256, testName},
		{"pretty json", string(pretty), k.fp, KindWaaSP256, testName},
		{"json in a json string", `{"secret": ` + jsonString(keyFileJSON(testName, k.sec1)) + `}`, k.fp, KindWaaSP256, testName},
		{"dotenv quoted multiline", "COINBASE_CLOUD_API_KEY_NAME=" + testName + "\nCOINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"" + k.sec1 + "\"\n", k.fp, KindWaaSP256, testName},
		{"dotenv escaped", "KEY=\"" + strings.ReplaceAll(k.sec1, "\n", `\n`) + "\"\n", k.fp, KindWaaSP256, ""},
		{"yaml block scalar", yamlBlock, k.fp, KindWaaSP256, testName},
		{"js concatenation", js.String(), k.fp, KindWaaSP256, testName},
		{"base64 of key file", "data: " + base64.StdEncoding.EncodeToString([]byte(keyFileJSON(testName, k.sec1))) + "\n", k.fp, KindWaaSP256, testName},
		{"base64 wrapped at 76", wrap(base64.StdEncoding.EncodeToString([]byte(keyFileJSON(testName, k.sec1))), 76), k.fp, KindWaaSP256, testName},
		{"base64 of base64", "x=" + base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(k.sec1)))), k.fp, KindWaaSP256, ""},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte("  " + k.pkcs8)), k.fp, KindWaaSP256, ""},
		{"url encoded", "https://x.test/?key=" + url.QueryEscape(k.sec1) + "&name=" + url.QueryEscape(testName), k.fp, KindWaaSP256, testName},
		{"url path encoded", "key=" + url.PathEscape(k.sec1), k.fp, KindWaaSP256, ""},
		{"utf16le", utf16LE(keyFileJSON(testName, k.sec1), true), k.fp, KindWaaSP256, testName},
		{"utf16le no bom", "\x00" + utf16LE(filler+k.sec1, false), k.fp, KindWaaSP256, ""},
		{"utf16be", utf16BE(keyFileJSON(testName, k.sec1)), k.fp, KindWaaSP256, testName},
		{"name 2 KB away", "NAME=" + testName + "\n" + strings.Repeat("# filler line of a long .env file\n", 64) + "KEY=\"" + k.sec1 + "\"\n", k.fp, KindWaaSP256, testName},
		{"ed25519 key file", edJSON, e.fp, KindCDPEd25519, testKeyID},
		{"ed25519 dotenv", "CDP_API_KEY_ID=" + testKeyID + "\nCDP_API_KEY_SECRET=" + e.b64 + "\n", e.fp, KindCDPEd25519, testKeyID},
		{"ed25519 escaped slashes", `{"id":"` + testKeyID + `","privateKey":"` + strings.ReplaceAll(e.b64, "/", `\/`) + `"}`, e.fp, KindCDPEd25519, testKeyID},
		{"ed25519 url encoded", "cdp_secret=" + url.QueryEscape(e.b64), e.fp, KindCDPEd25519, ""},
		{"ed25519 base64 of key file", base64.StdEncoding.EncodeToString([]byte(edJSON)), e.fp, KindCDPEd25519, testKeyID},
		{"ed25519 utf16", utf16LE("apiKeySecret = \""+e.b64+"\"", true), e.fp, KindCDPEd25519, ""},
		{"properties line continuations", "cdp.key=" + strings.ReplaceAll(strings.TrimSpace(k.sec1), "\n", "\\n\\\n    ") + "\n", k.fp, KindWaaSP256, ""},
		{"xml character references", "<string name=\"cdp_key\">" + strings.ReplaceAll(k.sec1, "\n", "&#10;") + "</string>", k.fp, KindWaaSP256, ""},
		{"ed25519 utf16 dotenv, no quotes", utf16LE("CDP_API_KEY_SECRET="+e.b64+"\r\n", true), e.fp, KindCDPEd25519, ""},
		{"ed25519 utf16be", utf16BE("CDP_API_KEY_ID=" + testKeyID + "\nCDP_API_KEY_SECRET=" + e.b64 + "\n"), e.fp, KindCDPEd25519, testKeyID},
		{"ed25519 pkcs8 near cdp", "# cdp key\n" + e.pkcs8, e.fp, KindCDPEd25519, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Detect([]byte(c.text), false)
			if len(got.Keys) != 1 {
				t.Fatalf("found %d keys, want 1: %+v", len(got.Keys), got.Keys)
			}
			m := got.Keys[0]
			if m.Fingerprint != c.fp || m.Kind != c.kind {
				t.Fatalf("found %s %s, want %s %s", m.Kind, m.Fingerprint, c.kind, c.fp)
			}
			if c.keyName != "" && m.KeyName != c.keyName {
				t.Fatalf("key name %q, want %q", m.KeyName, c.keyName)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s + "\n"
}

// pkcs8v2 is a PKCS#8 version 2 key (RFC 5958), which may store the public key.
type pkcs8v2 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

func TestDetectReportsNoDecoy(t *testing.T) {
	k := newP256(t)
	e := newEdWithoutCDP(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	mismatched := append([]byte{}, raw...)
	mismatched[40] ^= 1
	other := newEd(t)
	otherRaw, _ := base64.StdEncoding.DecodeString(other.b64)
	spliced := append(append([]byte{}, raw[:32]...), otherRaw[32:]...)
	rnd := make([]byte, 64)
	rand.Read(rnd)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ecdsa.PublicKey{})
	_ = pubDER
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ = x509.MarshalPKIXPublicKey(&ek.PublicKey)
	body := strings.Split(k.sec1, "\n")
	truncated := strings.Join(append(body[:2], body[len(body)-2:]...), "\n")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalECPrivateKey(p384)
	flipped, _ := pem.Decode([]byte(k.sec1))
	flippedDER := append([]byte{}, flipped.Bytes...)
	flippedDER[10] ^= 1 // inside the private scalar: it still parses, but the stored public key is not its own
	p8Block, _ := pem.Decode([]byte(k.pkcs8))
	p8DER := append([]byte{}, p8Block.Bytes...)
	scalarAt := bytes.Index(p8DER, flipped.Bytes[7:39])
	p8DER[scalarAt+3] ^= 1
	// An RFC 8410 PKCS#8 (version 2) holding e's seed and another key's public key.
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	edP8, _ := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(raw[:32]))
	if _, err := asn1.Unmarshal(edP8, &p8); err != nil {
		t.Fatal(err)
	}
	stitchedP8, _ := asn1.Marshal(pkcs8v2{1, p8.Algo, p8.PrivateKey, asn1.BitString{Bytes: otherRaw[32:], BitLength: 256}})
	decoys := map[string]string{
		"ed25519 pkcs8 v2 stitched": "CDP_API_KEY_SECRET=\"" + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: stitchedP8})) + "\"",
		"pkcs8 scalar damaged":      string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8DER})),
		"sec1 scalar damaged":       string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: flippedDER})),
		"placeholder":               `{"name": "` + testName + `", "privateKey": "-----BEGIN EC PRIVATE KEY-----\nmy-private-key\n-----END EC PRIVATE KEY-----\n"}`,
		"elided":                    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB...\n-----END EC PRIVATE KEY-----\n",
		"public key":                string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		"truncated":                 truncated,
		"no end line":               k.sec1[:len(k.sec1)-27],
		"ed25519 mismatched":        "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(mismatched),
		"ed25519 spliced":           "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(spliced),
		"ed25519 seed only":         "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(raw[:32]),
		"random 64 bytes":           "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(rnd),
		"ed25519 no context":        "value = " + e.b64,
		"rsa":                       rsaPEM,
		"p384":                      string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: p384DER})),
		"markdown rules":            "-----\n-----BEGIN-----\n----- END -----\n" + filler,
		"template":                  "COINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"-----BEGIN EC PRIVATE KEY-----\\n<your key>\\n-----END EC PRIVATE KEY-----\"",
	}
	t.Run("ed25519 pkcs8 v2 storing its own public key is found", func(t *testing.T) {
		good, _ := asn1.Marshal(pkcs8v2{1, p8.Algo, p8.PrivateKey, asn1.BitString{Bytes: raw[32:], BitLength: 256}})
		text := "CDP_API_KEY_SECRET=\"" + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: good})) + "\""
		if got := Detect([]byte(text), false); len(got.Keys) != 1 || got.Keys[0].Kind != KindCDPEd25519 {
			t.Fatalf("got %+v, want one %s", got.Keys, KindCDPEd25519)
		}
	})
	for name, text := range decoys {
		t.Run(name, func(t *testing.T) {
			if got := Detect([]byte(text), false); len(got.Keys) != 0 {
				t.Fatalf("decoy reported: %+v", got.Keys)
			}
		})
	}
	t.Run("other keys on request", func(t *testing.T) {
		for _, text := range []string{rsaPEM, decoys["p384"], decoys["ed25519 no context"]} {
			got := Detect([]byte(text), true)
			if len(got.Keys) != 1 || got.Keys[0].Kind != KindOtherPrivateKey {
				t.Fatalf("got %+v, want one %s", got.Keys, KindOtherPrivateKey)
			}
		}
	})
}

func TestDetectLineNumbersAndRedaction(t *testing.T) {
	k := newP256(t)
	e := newEd(t)
	text := "a\nb\n" + k.sec1 + "\n\nCDP_API_KEY_SECRET=" + e.b64 + "\n"
	got := Detect([]byte(text), false)
	if len(got.Keys) != 2 || got.Keys[0].Line != 3 || got.Keys[1].Line != 3+strings.Count(k.sec1, "\n")+2 {
		t.Fatalf("got %+v", got.Keys)
	}
	for _, m := range got.Keys {
		for _, secret := range []string{k.sec1, e.b64} {
			if leaks(m.Redacted, secret) {
				t.Fatalf("redacted form %q shows the secret", m.Redacted)
			}
		}
	}
}

// leaks reports whether s holds 12 or more characters in a row of the secret part of secret
// (its PEM body past the DER header, or an Ed25519 seed's base64).
func leaks(s, secret string) bool {
	body := strings.Join(strings.Fields(strings.NewReplacer("-----BEGIN EC PRIVATE KEY-----", "", "-----END EC PRIVATE KEY-----", "").Replace(secret)), "")
	body = body[8:min(len(body), 60)]
	for i := 0; i+12 <= len(body); i++ {
		if strings.Contains(s, body[i:i+12]) {
			return true
		}
	}
	return false
}

func FuzzDetect(f *testing.F) {
	k := newP256(f)
	e := newEd(f)
	f.Add([]byte(keyFileJSON(testName, k.sec1)))
	f.Add([]byte("CDP_API_KEY_SECRET=" + e.b64))
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte(k.pkcs8))))
	f.Add([]byte(utf16LE(k.sec1, true)))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\n-----END"))
	blk, _ := pem.Decode([]byte(k.sec1))
	f.Add([]byte(`{"privateKey": "` + base64.StdEncoding.EncodeToString(blk.Bytes) + `"}`))
	f.Add([]byte("CDP_API_KEY_SECRET=" + strings.TrimRight(e.b64, "=")))
	f.Add([]byte("data:\n  k: |\n    " + strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString([]byte(k.sec1)), 64), "\n", "\n    ")))
	unpadded := strings.TrimRight(e.b64, "=")
	f.Add([]byte("<cdp><secret>\n  " + unpadded[:43] + "\n  " + unpadded[43:] + "\n</secret></cdp>"))
	f.Add([]byte("api_key_secret: >-\n  " + unpadded[:40] + "\n  " + unpadded[40:] + "\n"))
	f.Add([]byte("<secret><![CDATA[" + unpadded + "]]></secret >"))
	f.Add([]byte("secret: |\n  " + unpadded[:22] + " \n  " + unpadded[22:44] + "\t\n  " + unpadded[44:66] + "\n  " + unpadded[66:] + "  \\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := Detect(data, true)
		for _, m := range got.Keys {
			if m.Offset < 0 || m.Offset > len(data) || m.Line < 1 || m.Fingerprint == "" {
				t.Fatalf("bad match %+v", m)
			}
		}
	})
}

// TestAKeyIsNotItsOwnCDPContext: an Ed25519 secret whose own base64 holds "cdp" (in any
// case: one key in 370) was its own CDP context, so such a key with nothing CDP about its
// place was reported as a CDP key, without --other-keys.
func TestAKeyIsNotItsOwnCDPContext(t *testing.T) {
	e := newEd(t)
	for !strings.Contains(strings.ToLower(e.b64), "cdp") {
		e = newEd(t)
	}
	text := "value = " + e.b64 + "\n"
	if got := Detect([]byte(text), false); len(got.Keys) != 0 {
		t.Fatalf("reported %+v", got.Keys)
	}
	if got := Detect([]byte(text), true); len(got.Keys) != 1 || got.Keys[0].Kind != KindOtherPrivateKey {
		t.Fatalf("with other keys: found %+v, want one %s", got.Keys, KindOtherPrivateKey)
	}
}
