package scan

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestDetectFindsSecretsInElementsAndOnLaterLines: an unpadded Ed25519 secret as the text of
// an XML element named by its own tag, and as a value that is not on its name's line (a YAML
// block scalar, the value indented below its name, wrapped across lines, after a line
// continuation), each paired with its key id.
func TestDetectFindsSecretsInElementsAndOnLaterLines(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	for _, enc := range []struct {
		name string
		s    string
	}{
		{"raw", base64.RawStdEncoding.EncodeToString(raw)},
		{"rawurl", base64.RawURLEncoding.EncodeToString(raw)},
		{"padded", e.b64},
		{"hex", hex.EncodeToString(raw)},
	} {
		s := enc.s
		half := len(s) / 2
		cases := []struct{ name, text string }{
			{"element", "<config>\n  <keyId>" + testKeyID + "</keyId>\n  <secret>" + s + "</secret>\n</config>\n"},
			{"snake element", "<cdp><api_key_id>" + testKeyID + "</api_key_id><api_key_secret>" + s + "</api_key_secret></cdp>"},
			{"camel element", "<apiKeyId>" + testKeyID + "</apiKeyId>\n<privateKey>" + s + "</privateKey>"},
			{"element on its own lines", "<credentials>\n  <id>" + testKeyID + "</id>\n  <secret>\n    " + s + "\n  </secret>\n</credentials>\n"},
			{"element wrapped", "<credentials>\n  <id>" + testKeyID + "</id>\n  <private_key>\n    " + s[:half] + "\n    " + s[half:] + "\n  </private_key>\n</credentials>\n"},
			{"yaml folded", "api_key_id: " + testKeyID + "\napi_key_secret: >-\n  " + s + "\n"},
			{"yaml literal", "cdp:\n  key_id: " + testKeyID + "\n  secret: |\n    " + s + "\n"},
			{"yaml literal crlf", "cdp:\r\n  key_id: " + testKeyID + "\r\n  secret: |-\r\n    " + s + "\r\n"},
			{"yaml on the next line", "cdp:\n  key_id: " + testKeyID + "\n  secret:\n    " + s + "\n"},
			{"yaml wrapped", "api_key_id: " + testKeyID + "\napi_key_secret: " + s[:half] + "\n  " + s[half:] + "\n"},
			{"yaml folded wrapped", "api_key_id: " + testKeyID + "\napi_key_secret: >\n  " + s[:40] + "\n  " + s[40:] + "\n"},
			{"yaml quoted wrapped", "api_key_id: " + testKeyID + "\napi_key_secret: \"" + s[:50] + "\n  " + s[50:] + "\"\n"},
			{"properties continuation", "cdp.api.key.id=" + testKeyID + "\ncdp.api.key.secret=\\\n    " + s + "\n"},
			{"env next line", "CDP_API_KEY_ID=" + testKeyID + "\nCDP_API_KEY_SECRET=\n" + s + "\n"},
			{"php next line", "return [\n  'api_key_id' => '" + testKeyID + "',\n  'api_key_secret' =>\n    '" + s + "',\n];\n"},
			{"at the end of the text", "api_key_id: " + testKeyID + "\napi_key_secret: >-\n  " + s},
		}
		for _, c := range cases {
			t.Run(enc.name+"/"+c.name, func(t *testing.T) {
				got := Detect([]byte(c.text), false)
				if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].Kind != KindCDPEd25519 {
					t.Fatalf("found %+v, want the one %s key %s", got.Keys, KindCDPEd25519, e.fp)
				}
				if got.Keys[0].KeyName != testKeyID {
					t.Fatalf("paired with %q, want %q", got.Keys[0].KeyName, testKeyID)
				}
				if strings.Contains(got.Keys[0].Redacted, s[:16]) {
					t.Fatalf("the redacted form %q shows the seed", got.Keys[0].Redacted)
				}
			})
		}
	}
}

// TestDetectIgnoresLookalikesInElementsAndOnLaterLines: placeholders, public keys, random
// 64-byte values and a secret whose public half is not its seed's are not keys, wherever they
// are; a real secret with nothing CDP or secret about its place is an Ed25519 key, reported
// only as another key.
func TestDetectIgnoresLookalikesInElementsAndOnLaterLines(t *testing.T) {
	e := newEdWithoutCDP(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	random := make([]byte, 64)
	rand.Read(random)
	wrongPub := append(append([]byte{}, raw[:32]...), random[32:]...)
	pub := base64.RawStdEncoding.EncodeToString(raw[32:])
	for _, text := range []string{
		"<cdp>\n  <keyId>" + testKeyID + "</keyId>\n  <secret>YOUR_SECRET_HERE</secret>\n</cdp>\n",
		"<secret>" + strings.Repeat("x", 86) + "</secret>",
		"<cdp><keyId>" + testKeyID + "</keyId><publicKey>" + pub + "</publicKey><secret>" + pub + "</secret></cdp>",
		"<cdp><keyId>" + testKeyID + "</keyId><secret>" + base64.RawStdEncoding.EncodeToString(random) + "</secret></cdp>",
		"<cdp><keyId>" + testKeyID + "</keyId><secret>" + base64.RawStdEncoding.EncodeToString(wrongPub) + "</secret></cdp>",
		"api_key_id: " + testKeyID + "\napi_key_secret: >-\n  " + base64.RawStdEncoding.EncodeToString(random) + "\n",
		"api_key_id: " + testKeyID + "\napi_key_secret: >-\n  " + base64.RawStdEncoding.EncodeToString(wrongPub)[:43] + "\n  " + base64.RawStdEncoding.EncodeToString(wrongPub)[43:] + "\n",
		"api_key_secret:\n  " + pub + "\n  " + pub + "\n",
		"checksum:\n  " + base64.RawStdEncoding.EncodeToString(random) + "\n",
		"<data>" + base64.RawStdEncoding.EncodeToString(random) + "</data>",
	} {
		if got := Detect([]byte(text), true); len(got.Keys) != 0 {
			t.Errorf("reported %+v in %q", got.Keys, text)
		}
	}
	// A real Ed25519 secret with nothing CDP or secret near it: not a CDP key.
	s := base64.RawStdEncoding.EncodeToString(raw)
	for _, text := range []string{
		"<data>\n  " + s + "\n</data>\n",
		"<value>" + s + "</value>",
		"digest:\n  " + s[:43] + "\n  " + s[43:] + "\n",
	} {
		if got := Detect([]byte(text), false); len(got.Keys) != 0 {
			t.Errorf("reported %+v in %q", got.Keys, text)
		}
	}
	if got := Detect([]byte("digest:\n  "+s[:43]+"\n  "+s[43:]+"\n"), true); len(got.Keys) != 1 || got.Keys[0].Kind != KindOtherPrivateKey {
		t.Errorf("with other keys: found %+v, want one %s", got.Keys, KindOtherPrivateKey)
	}
}

// TestDetectReportsASecretStartingWithAnEscapedSlashOnce: a padded secret whose first
// character is a JSON-escaped slash was reported twice, from its padding (starting at the
// backslash) and from its name (starting after it), one time in 64 keys.
func TestDetectReportsASecretStartingWithAnEscapedSlashOnce(t *testing.T) {
	found := 0
	for i := 0; found < 3 && i < 1<<16; i++ {
		seed := make([]byte, 32)
		seed[0], seed[1] = byte(i), byte(i>>8)
		s := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed))
		if s[0] != '/' {
			continue
		}
		found++
		text := `{"id":"` + testKeyID + `","privateKey":"` + strings.ReplaceAll(s, "/", `\/`) + `"}`
		if got := Detect([]byte(text), false); len(got.Keys) != 1 {
			t.Fatalf("found %d keys in %s, want 1: %+v", len(got.Keys), text, got.Keys)
		}
	}
	if found == 0 {
		t.Fatal("no seed gave a secret starting with '/'")
	}
}

// TestDetectFindsSecretsInReviewedLaterLineForms: forms of the element and later-line values
// the review found missed: a block scalar's four lines below its name (the name's line was
// counted as one of the four), a value indented more than 16 blanks below its name (a
// Kubernetes manifest's env nests deeper), trailing blanks after a piece, a CDATA section, a
// blank before a closing tag's '>', an element named by an attribute in single quotes or
// with its text on lines of its own, a comment after a block scalar's indicator.
func TestDetectFindsSecretsInReviewedLaterLineForms(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	s := base64.RawStdEncoding.EncodeToString(raw)
	h := hex.EncodeToString(raw)
	deep := strings.Repeat(" ", 40)
	for name, text := range map[string]string{
		"hex in 4 lines of a block":                 "id: " + testKeyID + "\nsecret: |\n  " + h[:32] + "\n  " + h[32:64] + "\n  " + h[64:96] + "\n  " + h[96:] + "\n",
		"4 lines of a block":                        "id: " + testKeyID + "\nsecret: >-\n  " + s[:22] + "\n  " + s[22:44] + "\n  " + s[44:66] + "\n  " + s[66:] + "\n",
		"deep next line":                            "id: " + testKeyID + "\n" + deep[:30] + "secret:\n" + deep + s + "\n",
		"deep next line quoted":                     "id: " + testKeyID + "\n" + deep[:30] + "secret:\n" + deep + "\"" + s + "\"\n",
		"trailing blanks":                           "id: " + testKeyID + "\nsecret: |\n  " + s + "   \n",
		"trailing blanks wrapped":                   "id: " + testKeyID + "\nsecret: >\n  " + s[:43] + " \n  " + s[43:] + "\t\n",
		"blank before continuation":                 "CDP_API_KEY_ID=" + testKeyID + "\nCDP_API_KEY_SECRET=" + s[:43] + " \\\n" + s[43:] + "\n",
		"cdata":                                     "<cdp><id>" + testKeyID + "</id><secret><![CDATA[" + s + "]]></secret></cdp>",
		"cdata on its own lines":                    "<cdp>\n <id>" + testKeyID + "</id>\n <secret><![CDATA[\n   " + s + "\n ]]></secret>\n</cdp>",
		"blank in closing tag":                      "<cdp><id>" + testKeyID + "</id><secret>" + s + "</secret ></cdp>",
		"attribute, text below":                     "<resources>\n  <string name=\"cdp_api_key_id\">" + testKeyID + "</string>\n  <string name=\"cdp_api_key_secret\">\n    " + s + "\n  </string>\n</resources>\n",
		"attribute in single quotes":                "<resources><string name='cdp_api_key_id'>" + testKeyID + "</string><string name='cdp_api_key_secret'>" + s + "</string></resources>",
		"comment after the block":                   "id: " + testKeyID + "\nsecret: |  # production\n  " + s + "\n",
		"comment after a folded block":              "id: " + testKeyID + "\nsecret: > # production\n  " + s[:43] + "\n  " + s[43:] + "\n",
		"comment after the block crlf":              "id: " + testKeyID + "\r\nsecret: >- # production\r\n  " + s[:43] + "\r\n  " + s[43:] + "\r\n",
		"attribute, text below, closed on its line": "<resources>\n  <string name=\"cdp_api_key_id\">" + testKeyID + "</string>\n  <string name=\"cdp_api_key_secret\">\n    " + s + "</string>\n</resources>\n",
		"json, value below, closed on its line":     "{\"name\": \"" + testKeyID + "\", \"privateKey\":\n  \"" + s + "\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := Detect([]byte(text), false)
			if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].Kind != KindCDPEd25519 {
				t.Fatalf("found %+v, want the one %s key %s", got.Keys, KindCDPEd25519, e.fp)
			}
			if got.Keys[0].KeyName != testKeyID {
				t.Fatalf("paired with %q, want %q", got.Keys[0].KeyName, testKeyID)
			}
		})
	}
	// Still no more than maxWrappedLines lines (18 of 5 characters), and CDATA holding a
	// placeholder or a public key is nothing.
	for _, text := range []string{
		"id: " + testKeyID + "\nsecret: |\n  " + strings.Join(every(s, 5), "\n  ") + "\n",
		"<secret><![CDATA[YOUR_SECRET_HERE]]></secret>",
		"<resources>\n  <string name=\"cdp_api_key_secret\">\n    " + s[:85] + "</string>\n</resources>\n",
		"{\"name\": \"" + testKeyID + "\", \"privateKey\":\n  \"" + base64.RawStdEncoding.EncodeToString(append(append([]byte{}, raw[32:]...), raw[:32]...)) + "\"}\n",
		"<secret><![CDATA[" + base64.RawStdEncoding.EncodeToString(raw[32:]) + "]]></secret>",
		"<secret><![CDATA[" + base64.RawStdEncoding.EncodeToString(append(append([]byte{}, raw[32:]...), raw[:32]...)) + "]]></secret>",
	} {
		if got := Detect([]byte(text), true); len(got.Keys) != 0 {
			t.Errorf("reported %+v in %q", got.Keys, text)
		}
	}
}
