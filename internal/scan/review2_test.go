package scan

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

// TestDetectFindsSecondReviewGaps holds the forms a second adversarial review (the hold-out
// corpus of holdout_test.go) found missed, each with the key name it must be paired with.
func TestDetectFindsSecondReviewGaps(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	unpadded := base64.RawStdEncoding.EncodeToString(raw)
	rawURL := base64.RawURLEncoding.EncodeToString(raw)
	k := newP256(t)
	cases := []struct{ name, text, keyName string }{
		// An unpadded secret as the value of a lower-case name, after ':'.
		{"yaml secret", "cdp:\n  key_id: " + testKeyID + "\n  secret: " + unpadded + "\n", testKeyID},
		{"yaml api_key_secret, url alphabet", "api_key_id: " + testKeyID + "\napi_key_secret: " + rawURL + "\n", testKeyID},
		{"yaml private_key quoted", "coinbase:\n  id: " + testKeyID + "\n  private_key: '" + unpadded + "'\n", testKeyID},
		{"yaml tab", "cdp:\n  id:\t" + testKeyID + "\n  secret:\t" + unpadded + "\n", testKeyID},
		{"json secret", `{"key_id": "` + testKeyID + `", "secret": "` + unpadded + `"}`, testKeyID},
		{"python dict", `CFG = {"api_key_id": "` + testKeyID + `", "api_key_secret": "` + unpadded + `"}`, testKeyID},
		{"ruby hash", `CDP = { key_id: "` + testKeyID + `", api_key_secret: "` + unpadded + `" }`, testKeyID},
		// PHP's "=>": the value, and the key id as the value of an id-like name.
		{"php array", "return ['api_key_id' => '" + testKeyID + "', 'api_key_secret' => '" + unpadded + "'];", testKeyID},
		{"php array padded", "return ['api_key_id' => '" + testKeyID + "', 'api_key_secret' => '" + e.b64 + "'];", testKeyID},
		// A Kubernetes Secret: the secret's text base64-encoded once more.
		{"k8s secret padded", "kind: Secret\nmetadata:\n  name: cdp-api-key\ndata:\n  CDP_API_KEY_SECRET: " + b64(e.b64) + "\n", ""},
		{"k8s secret unpadded, lower-case name", "kind: Secret\nmetadata:\n  name: cdp\ndata:\n  api-key-secret: " + b64(unpadded) + "\n", ""},
		{"k8s secret with echo's line break", "kind: Secret\ndata:\n  CDP_API_KEY_SECRET: " + b64(e.b64+"\n") + "\n", ""},
		{"k8s secret hex", "kind: Secret\ndata:\n  cdp_api_key_secret: " + b64(hex.EncodeToString(raw)) + "\n", ""},
		// UTF-16 without a byte order mark, and nothing but an unpadded secret to find it by.
		{"utf16le no bom", "\x00" + utf16LE("CDP_API_KEY_ID="+testKeyID+"\r\nCDP_API_KEY_SECRET="+unpadded+"\r\n", false), testKeyID},
		{"utf16be no bom", u16(`{"id": "`+testKeyID+`", "privateKey": "`+rawURL+`"}`, true, false), testKeyID},
		// An Android string resource: the value is the element's text.
		{"android string resource", `<resources><string name="cdp_api_key_id">` + testKeyID + `</string><string name="cdp_api_key_secret">` + unpadded + `</string></resources>`, testKeyID},
		// The key id further than 4 KiB from the key, in the same file.
		{"key id 8 KiB away", "{\n  \"id\": \"" + testKeyID + "\",\n  \"notes\": \"" + strings.Repeat("x", 8<<10) + "\",\n  \"privateKey\": \"" + e.b64 + "\"\n}\n", testKeyID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Detect([]byte(c.text), false)
			if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].Kind != KindCDPEd25519 {
				t.Fatalf("found %+v, want the one %s key %s", got.Keys, KindCDPEd25519, e.fp)
			}
			if got.Keys[0].KeyName != c.keyName {
				t.Fatalf("paired with %q, want %q", got.Keys[0].KeyName, c.keyName)
			}
		})
	}
	// UTF-16 without a byte order mark of text whose key is found only in a base64 layer.
	for _, text := range []string{
		u16(b64(keyFileJSON(testName, k.pkcs8)), false, false),
		u16(`{"name": "`+testName+`", "privateKey": "`+derB64(t, k.pkcs8)+`"}`, false, false),
	} {
		got := Detect([]byte(text), false)
		if len(got.Keys) != 1 || got.Keys[0].Fingerprint != k.fp || got.Keys[0].KeyName != testName {
			t.Fatalf("utf16 without bom, key in a base64 layer: found %+v", got.Keys)
		}
	}
}

func derB64(t *testing.T, p string) string {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	return base64.StdEncoding.EncodeToString(b.Bytes)
}

// TestPublishedTestVectorsAreNotReported: RFC test vectors are keys, but everyone has them.
func TestPublishedTestVectorsAreNotReported(t *testing.T) {
	seed, _ := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60") // RFC 8032 TEST 1
	tv := ed25519.NewKeyFromSeed(seed)
	if hex.EncodeToString(tv[32:]) != "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" {
		t.Fatal("RFC 8032 TEST 1's public key is not the one derived")
	}
	d, _ := hex.DecodeString("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		t.Fatal(err)
	}
	rfc6979, _ := x509.MarshalECPrivateKey(k)
	for _, text := range []string{
		"# RFC 8032\nCDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(tv) + "\n",
		"api_key_secret = \"" + hex.EncodeToString(tv) + "\"\n",
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: rfc6979})), // RFC 6979 A.2.5
	} {
		if got := Detect([]byte(text), true); len(got.Keys) != 0 {
			t.Fatalf("a published test vector was reported: %+v", got.Keys)
		}
	}
}
