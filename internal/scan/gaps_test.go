package scan

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

// TestDetectFindsReviewGaps holds the forms an adversarial review found missed.
func TestDetectFindsReviewGaps(t *testing.T) {
	k := newP256(t)
	e := newEd(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	indent := func(s, pre string) string {
		return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre)
	}
	der := func(p string) string {
		b, _ := pem.Decode([]byte(p))
		return base64.StdEncoding.EncodeToString(b.Bytes)
	}
	escapedPEM := strings.ReplaceAll(k.sec1, "\n", `\n`)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	edP8, _ := pem.Decode([]byte(e.pkcs8))
	_ = x509.MarshalPKCS8PrivateKey
	_ = ed25519.SeedSize
	cases := []struct{ name, text, fp, kind string }{
		{"base64 pem in yaml block scalar", "secret:\n  key.pem: |\n" + indent(wrap(b64(k.sec1), 64), "    ") + "\n", k.fp, KindWaaSP256},
		{"base64 pem in yaml folded scalar", "data:\n  key: >-\n" + indent(wrap(b64(k.pkcs8), 76), "    ") + "\nother: 1\n", k.fp, KindWaaSP256},
		{"base64 pem key file in k8s secret", "apiVersion: v1\nkind: Secret\ndata:\n  key.json: " + b64(keyFileJSON(testName, k.sec1)) + "\n", k.fp, KindWaaSP256},
		{"base64 of pem with escapes in json", `{"key": "` + b64(escapedPEM) + `"}`, k.fp, KindWaaSP256},
		{"base64 with escaped slashes in json", `{"key": "` + strings.ReplaceAll(b64(k.sec1), "/", `\/`) + `"}`, k.fp, KindWaaSP256},
		{"base64 of json-escaped pem, wrapped", `{"key": "` + strings.ReplaceAll(wrap(b64(escapedPEM), 64), "\n", `\n`) + `"}`, k.fp, KindWaaSP256},
		{"unarmored sec1 in json", `{"name": "` + testName + `", "privateKey": "` + der(k.sec1) + `"}`, k.fp, KindWaaSP256},
		{"unarmored pkcs8 in dotenv", "WAAS_KEY=" + der(k.pkcs8) + "\n", k.fp, KindWaaSP256},
		{"unarmored sec1 wrapped with escapes", `{"privateKey": "` + strings.ReplaceAll(wrap(der(k.sec1), 64), "\n", `\n`) + `"}`, k.fp, KindWaaSP256},
		{"unarmored sec1 url-safe", "key=" + strings.NewReplacer("+", "-", "/", "_").Replace(der(k.sec1)), k.fp, KindWaaSP256},
		{"unarmored ed25519 pkcs8 near cdp", "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(edP8.Bytes), e.fp, KindCDPEd25519},
		{"base64 of utf16le pem", "blob: " + b64(utf16LE(k.sec1, true)), k.fp, KindWaaSP256},
		{"base64 of utf16le pem, no bom", "blob: " + b64(utf16LE(k.sec1, false)), k.fp, KindWaaSP256},
		{"base64 of utf16be pem", "blob: " + b64(utf16BE(k.sec1)), k.fp, KindWaaSP256},
		{"ed25519 unpadded", "CDP_API_KEY_SECRET=" + strings.TrimRight(e.b64, "="), e.fp, KindCDPEd25519},
		{"ed25519 unpadded json", `{"id": "` + testKeyID + `", "privateKey": "` + strings.TrimRight(e.b64, "=") + `"}`, e.fp, KindCDPEd25519},
		{"ed25519 raw url-safe", "apiKeySecret: " + base64.RawURLEncoding.EncodeToString(raw), e.fp, KindCDPEd25519},
		{"ed25519 unpadded, a base64-looking line next", "CDP_API_KEY_SECRET=" + strings.TrimRight(e.b64, "=") + "\npackage main\n", e.fp, KindCDPEd25519},
		{"ed25519 hex", "api_key_secret = \"" + hex.EncodeToString(raw) + "\"", e.fp, KindCDPEd25519},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Detect([]byte(c.text), false)
			if len(got.Keys) != 1 {
				t.Fatalf("found %d keys, want 1: %+v", len(got.Keys), got.Keys)
			}
			if m := got.Keys[0]; m.Fingerprint != c.fp || m.Kind != c.kind {
				t.Fatalf("found %s %s, want %s %s", m.Kind, m.Fingerprint, c.kind, c.fp)
			}
		})
	}
}

// TestDetectReviewGapsNoDecoy: the new forms report nothing that does not parse as a key.
func TestDetectReviewGapsNoDecoy(t *testing.T) {
	k := newP256(t)
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	mismatched := append([]byte{}, raw...)
	mismatched[40] ^= 1
	blk, _ := pem.Decode([]byte(k.sec1))
	damaged := append([]byte{}, blk.Bytes...)
	damaged[10] ^= 1
	full := base64.StdEncoding.EncodeToString(blk.Bytes)
	rnd := make([]byte, 64)
	for i := range rnd {
		rnd[i] = byte(i * 37)
	}
	decoys := map[string]string{
		"unarmored elided":              `{"privateKey": "MHcCAQEEIB..."}`,
		"unarmored truncated":           `{"privateKey": "` + full[:len(full)-12] + `"}`,
		"unarmored scalar damaged":      `{"privateKey": "` + base64.StdEncoding.EncodeToString(damaged) + `"}`,
		"unarmored after BEGIN, no END": "-----BEGIN EC PRIVATE KEY-----\n" + wrap(full, 64),
		"unpadded mismatched":           "CDP_API_KEY_SECRET=" + base64.RawStdEncoding.EncodeToString(mismatched),
		"unpadded random":               "CDP_API_KEY_SECRET=" + base64.RawStdEncoding.EncodeToString(rnd),
		"hex random":                    `api_key_secret = "` + hex.EncodeToString(rnd) + `"`,
		"unpadded seed only":            "apiKeySecret: " + base64.RawStdEncoding.EncodeToString(raw[:32]),
		"base64 yaml of public key":     "data:\n  pub.pem: |\n    " + base64.StdEncoding.EncodeToString([]byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")) + "\n",
	}
	for name, text := range decoys {
		t.Run(name, func(t *testing.T) {
			if got := Detect([]byte(text), true); len(got.Keys) != 0 {
				t.Fatalf("decoy reported: %+v", got.Keys)
			}
		})
	}
}
