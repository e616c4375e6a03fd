package scan

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Forms of an unpadded (or hex) CDP Ed25519 secret that issue 14 found missed: Apple property
// lists, wrapped values whose first piece is short or that take more than 4 lines, escapes and
// string concatenation between the pieces, and elements that take their CDP name from around
// them (Java properties XML, .NET app.config). Each form is a function of the secret's text,
// so that the same shape can be filled with a decoy.

// pieces cuts s into pieces of the lengths given, the last taking the rest.
func pieces(s string, lens ...int) []string {
	var out []string
	for _, n := range lens {
		if n >= len(s) {
			break
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// every cuts s into pieces of n characters.
func every(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

type secretForm struct {
	name string
	text func(s string) string
	hex  bool // also for 128 hex digits (the form's piece lengths are for 86 characters)
}

var issue14Forms = []secretForm{
	// 1. Apple property lists.
	{"plist", func(s string) string {
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>cdp_api_key_id</key>\n\t<string>" + testKeyID + "</string>\n\t<key>cdp_api_key_secret</key>\n\t<string>" + s + "</string>\n</dict>\n</plist>\n"
	}, true},
	{"plist same line", func(s string) string {
		return "<dict><key>cdp_api_key_id</key><string>" + testKeyID + "</string><key>cdp_api_key_secret</key><string>" + s + "</string></dict>"
	}, true},
	{"plist next lines", func(s string) string {
		return "<dict>\n  <key>keyId</key>\n  <string>" + testKeyID + "</string>\n  <key>apiKeySecret</key>\n\n  <string>\n    " + s + "\n  </string>\n</dict>\n"
	}, true},
	{"plist private_key", func(s string) string { // a name with '_' holding no other CDP word
		return "<dict>\n\t<key>key_id</key>\n\t<string>" + testKeyID + "</string>\n\t<key>private_key</key>\n\t<string>" + s + "</string>\n</dict>\n"
	}, true},
	{"plist CDPSecret", func(s string) string {
		return "<dict>\n\t<key>CDPKeyID</key>\n\t<string>" + testKeyID + "</string>\n\t<key>CDPSecret</key>\n\t<string>" + s + "</string>\n</dict>\n"
	}, false},
	{"plist privateKey", func(s string) string {
		return "<dict>\r\n\t<key>name</key>\r\n\t<string>" + testKeyID + "</string>\r\n\t<key>privateKey</key>\r\n\t<string>" + s + "</string>\r\n</dict>\r\n"
	}, false},
	// 2. A wrapped value whose first piece is short.
	// Found before issue 14 too: kept as a check.
	{"block, short first line", func(s string) string {
		return "api_key_id: " + testKeyID + "\napi_key_secret: |\n  " + strings.Join(pieces(s, 12, 40), "\n  ") + "\n"
	}, false},
	{"short piece on the name's line", func(s string) string {
		return "api_key_id: " + testKeyID + "\napi_key_secret: " + strings.Join(pieces(s, 12, 40), "\n  ") + "\n"
	}, true},
	{"very short piece on the name's line", func(s string) string {
		return "api_key_id: " + testKeyID + "\nsecret: " + strings.Join(pieces(s, 3, 43), "\n  ") + "\n"
	}, true},
	{"short first line below the name", func(s string) string {
		return "cdp:\n  key_id: " + testKeyID + "\n  secret:\n    " + strings.Join(pieces(s, 12, 40), "\n    ") + "\n"
	}, true},
	{"short quoted piece, continuation", func(s string) string {
		return "CDP_API_KEY_ID=" + testKeyID + "\nCDP_API_KEY_SECRET=\"" + strings.Join(pieces(s, 10), "\\\n") + "\"\n"
	}, true},
	// 3. More than 4 lines.
	{"8 lines of 11 in a block", func(s string) string {
		return "id: " + testKeyID + "\nsecret: >-\n  " + strings.Join(every(s, 11), "\n  ") + "\n"
	}, false},
	{"8 lines of 11 below the name", func(s string) string {
		return "id: " + testKeyID + "\nsecret:\n  " + strings.Join(every(s, 11), "\n  ") + "\n"
	}, false},
	{"8 lines of 11 from the name's line", func(s string) string {
		return "id: " + testKeyID + "\nsecret: " + strings.Join(every(s, 11), "\n  ") + "\n"
	}, false},
	// Found before issue 14 too: kept as a check.
	{"8 lines of 11 in an element", func(s string) string {
		return "<cdp>\n  <id>" + testKeyID + "</id>\n  <secret>\n    " + strings.Join(every(s, 11), "\n    ") + "\n  </secret>\n</cdp>\n"
	}, false},
	{"6 lines of 16 in a block", func(s string) string {
		return "id: " + testKeyID + "\nsecret: |\n  " + strings.Join(every(s, 16), "\n  ") + "\n"
	}, true},
	// 4. Escapes and concatenation between the pieces.
	// Found before issue 14 too: kept as a check.
	{"json \\n escapes", func(s string) string {
		return `{"id": "` + testKeyID + `", "secret": "` + strings.Join(pieces(s, 29, 29), `\n`) + `\n"}`
	}, true},
	{"json \\n escapes, short pieces", func(s string) string {
		return `{"id": "` + testKeyID + `", "api_key_secret": "` + strings.Join(every(s, 7), `\n`) + `"}`
	}, true},
	{"js concat +", func(s string) string {
		return "const apiKeyId = \"" + testKeyID + "\";\nconst secret = \"" + strings.Join(pieces(s, 30, 30), "\" +\n  \"") + "\";\n"
	}, true},
	{"js concat, + first", func(s string) string {
		return "const apiKeyId = '" + testKeyID + "';\nconst secret = '" + strings.Join(pieces(s, 12, 40), "'\n  + '") + "';\n"
	}, true},
	{"go concat", func(s string) string {
		return "package cfg\n\nconst keyID = \"" + testKeyID + "\"\n\nconst apiKeySecret = \"" + strings.Join(every(s, 24), "\" +\n\t\"") + "\"\n"
	}, true},
	{"java concat", func(s string) string {
		return "class Cfg {\n  static final String KEY_ID = \"" + testKeyID + "\";\n  static final String PRIVATE_KEY = \"" + strings.Join(pieces(s, 8, 40), "\" +\n      \"") + "\";\n}\n"
	}, true},
	{"php concat .", func(s string) string {
		return "<?php\n$cdpKeyId = '" + testKeyID + "';\n$cdpSecret = '" + strings.Join(pieces(s, 16, 40), "' .\n    '") + "';\n"
	}, true},
	// Found before issue 14 too: kept as a check.
	{"python backslash", func(s string) string {
		return "api_key_id = \"" + testKeyID + "\"\napi_key_secret = \"" + strings.Join(pieces(s, 43), "\" \\\n    \"") + "\"\n"
	}, true},
	{"python parenthesised literals", func(s string) string {
		return "CDP_API_KEY_ID = \"" + testKeyID + "\"\nCDP_API_KEY_SECRET = (\n    \"" + strings.Join(pieces(s, 30, 30), "\"\n    \"") + "\"\n)\n"
	}, true},
	{"python parenthesised literals, closed on the last line", func(s string) string {
		return "cfg = dict(\n    api_key_id=\"" + testKeyID + "\",\n    api_key_secret=(\n        '" + strings.Join(pieces(s, 12, 40), "'\n        '") + "'),\n)\n"
	}, true},
	{"c adjacent literals", func(s string) string {
		return "static const char *cdp_key_id = \"" + testKeyID + "\";\nstatic const char *cdp_secret = \"" + strings.Join(pieces(s, 14, 36), "\"\n    \"") + "\";\n"
	}, true},
	// A JSON value below its name, blanks around the ':': found before issue 14 too.
	{"json value on the next line", func(s string) string {
		return "{\n  \"id\" : \"" + testKeyID + "\",\n  \"secret\" : \n    \"" + s + "\"\n}\n"
	}, true},
	// 5. Elements that take their CDP name from around them.
	{"java properties xml value", func(s string) string {
		return "<map>\n  <entry key=\"cdp.api.key.id\"><value>" + testKeyID + "</value></entry>\n  <entry key=\"cdp.api.secret\"><value>" + s + "</value></entry>\n</map>\n"
	}, true},
	{"java properties xml value, lines", func(s string) string {
		return "<map>\n  <entry key=\"cdp.api.key.id\">\n    <value>" + testKeyID + "</value>\n  </entry>\n  <entry key=\"cdp.api.secret\">\n    <value>" + s + "</value>\n  </entry>\n</map>\n"
	}, true},
	// The secret was found before issue 14 too, from value=; its key id was not paired.
	{"dotnet app.config", func(s string) string {
		return "<configuration>\n  <appSettings>\n    <add key=\"CdpApiKeyId\" value=\"" + testKeyID + "\" />\n    <add key=\"CdpApiSecret\" value=\"" + s + "\"/>\n  </appSettings>\n</configuration>\n"
	}, true},
}

// issue14Encodings are the texts of one secret that each form is filled with.
func issue14Encodings(raw []byte) []struct{ name, s string } {
	return []struct{ name, s string }{
		{"raw", base64.RawStdEncoding.EncodeToString(raw)},
		{"rawurl", base64.RawURLEncoding.EncodeToString(raw)},
		{"hex", hex.EncodeToString(raw)},
	}
}

// TestDetectFindsIssue14Forms: each form, with a real key generated here, is found once, as
// a CDP key, paired with its key id.
func TestDetectFindsIssue14Forms(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	for _, enc := range issue14Encodings(raw) {
		for _, f := range issue14Forms {
			if enc.name == "hex" && !f.hex {
				continue
			}
			t.Run(enc.name+"/"+f.name, func(t *testing.T) {
				text := f.text(enc.s)
				got := Detect([]byte(text), false)
				if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].Kind != KindCDPEd25519 {
					t.Fatalf("found %+v, want the one %s key %s in\n%s", got.Keys, KindCDPEd25519, e.fp, text)
				}
				if got.Keys[0].KeyName != testKeyID {
					t.Fatalf("paired with %q, want %q", got.Keys[0].KeyName, testKeyID)
				}
				if strings.Contains(got.Keys[0].Redacted, enc.s[:16]) {
					t.Fatalf("the redacted form %q shows the seed", got.Keys[0].Redacted)
				}
			})
		}
	}
}

// TestDetectIgnoresIssue14Decoys: the same forms filled with a value whose public half is not
// its seed's, a value one piece short, a random 64-byte value and a placeholder: none is a key,
// even when other keys are asked for.
func TestDetectIgnoresIssue14Decoys(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	random := make([]byte, 64)
	rand.Read(random)
	wrongPub := append(append([]byte{}, raw[:32]...), random[32:]...)
	swapped := append(append([]byte{}, raw[32:]...), raw[:32]...)
	decoys := map[string]string{
		"wrong public half": base64.RawStdEncoding.EncodeToString(wrongPub),
		"halves swapped":    base64.RawURLEncoding.EncodeToString(swapped),
		"wrong public hex":  hex.EncodeToString(wrongPub),
		"random":            base64.RawStdEncoding.EncodeToString(random),
		"truncated":         base64.RawStdEncoding.EncodeToString(raw)[:80],
		"truncated hex":     hex.EncodeToString(raw)[:120],
		"placeholder":       "YOUR_CDP_API_KEY_SECRET_HERE_" + strings.Repeat("x", 57),
		"placeholder short": "YOUR_SECRET_HERE",
	}
	for name, s := range decoys {
		for _, f := range issue14Forms {
			text := f.text(s)
			if got := Detect([]byte(text), true); len(got.Keys) != 0 {
				t.Errorf("%s/%s: reported %+v in\n%s", name, f.name, got.Keys, text)
			}
		}
	}
}

// TestScanFindsASecretInAPlistInsideAnIPA: an XML property list inside an app package (a zip),
// its secret under a CDP-ish key name.
func TestScanFindsASecretInAPlistInsideAnIPA(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	s := base64.RawStdEncoding.EncodeToString(raw)
	plist := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>CFBundleName</key>\n\t<string>App</string>\n\t<key>CDPKeyID</key>\n\t<string>" + testKeyID + "</string>\n\t<key>apiKeySecret</key>\n\t<string>" + s + "</string>\n</dict>\n</plist>\n"
	ipa := zipOf(t, member{"Payload/App.app/Info.plist", []byte("<plist/>")}, member{"Payload/App.app/Config.plist", []byte(plist)})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "App.ipa"), ipa)
	res := New(Options{}).Scan(context.Background(), []string{dir})
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != e.fp || !strings.HasSuffix(res.Findings[0].Path, "App.ipa!Payload/App.app/Config.plist") {
		t.Fatalf("found %+v, want %s in App.ipa!Payload/App.app/Config.plist", res.Findings, e.fp)
	}
	if res.Findings[0].KeyName != testKeyID {
		t.Fatalf("paired with %q, want %q", res.Findings[0].KeyName, testKeyID)
	}
}

// TestShortPieceLookIsRareInSourceCode: the look for a wrapped value whose first piece is
// short must not run at every line of ordinary source code (Go's standard library): it runs
// where a value's first word ends its line and the next line starts with a piece.
func TestShortPieceLookIsRareInSourceCode(t *testing.T) {
	data := sourceCorpusT(t, 8<<20)
	d := &detector{seen: map[string]bool{}}
	d.scanBuffer(data, 0, "", 0)
	lines := strings.Count(string(data), "\n")
	t.Logf("%d values read as maybe wrapped in %d lines", d.wrappedLooks, lines)
	if d.wrappedLooks > lines/25 {
		t.Fatalf("%d values read as maybe wrapped in %d lines of source code", d.wrappedLooks, lines)
	}
}

// TestEscapedPathsAreDroppedByLength: values full of backslashes (Windows paths in JSON), which
// the look for \n-escaped pieces lets through, are dropped by their length before the CDP
// context is looked for or a key derived.
func TestEscapedPathsAreDroppedByLength(t *testing.T) {
	var b strings.Builder
	b.WriteString("{\n  \"cdp_api_key_id\": \"" + testKeyID + "\",\n")
	for i := range 50 {
		b.WriteString("  \"path" + strings.Repeat("x", i%7) + "\": \"Users\\\\someone\\\\AppData\\\\Local\\\\Coinbase\\\\Wallet\\\\Settings\\\\Profiles\\\\Default\\\\Extensions\\\\abcdefghijklmnop\\\\1.2.3\\\\data\",\n")
	}
	b.WriteString("}\n")
	d := &detector{seen: map[string]bool{}}
	d.scanBuffer([]byte(b.String()), 0, "", 0)
	if d.derived != 0 || len(d.keys) != 0 {
		t.Fatalf("%d values checked as keys, %d keys found, in Windows paths", d.derived, len(d.keys))
	}
}

// TestATableOfConstantsIsNotReadAsWrappedValues: generated code's tables of constants (NAME =
// 0x40, the next line NEXT_NAME = 0x80) end each value on its line with a word below it; each
// was read as the first piece of a wrapped value (125,000 looks in the benchmark corpus, the
// most of any form) until a blank after the next line's word had to end its line.
func TestATableOfConstantsIsNotReadAsWrappedValues(t *testing.T) {
	var b strings.Builder
	b.WriteString("const (\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "\tIFF_FLAG_NUMBER_%04d                       = 0x%x\n", i, i*8)
	}
	b.WriteString(")\n")
	d := &detector{}
	d.scanBuffer([]byte(b.String()), 0, "", 0)
	if d.wrappedLooks > 10 {
		t.Fatalf("%d of 1000 constants read as maybe wrapped values", d.wrappedLooks)
	}
}

// TestDetectFindsIssue14FormsWithTrailingBlanks: editors leave blanks (or a tab) at the end of
// a line, after a CRLF file's pieces too. A short first piece on the name's line followed by
// them (secret: AAAA  ⏎ then the rest below), and Python's "NAME = (  ⏎", were missed.
func TestDetectFindsIssue14FormsWithTrailingBlanks(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	for _, enc := range issue14Encodings(raw) {
		for _, f := range issue14Forms {
			if enc.name == "hex" && !f.hex {
				continue
			}
			for _, eol := range []string{"  \n", "\t\n", " \r\n"} {
				text := strings.ReplaceAll(f.text(enc.s), "\n", eol)
				got := Detect([]byte(text), false)
				if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].KeyName != testKeyID {
					t.Errorf("%s/%s, lines ending %q: found %+v, want %s paired with %s", enc.name, f.name, eol, got.Keys, e.fp, testKeyID)
				}
			}
		}
	}
}

// TestPythonParenthesesAreNotReadAsWrappedValues: Python formatted by black opens a
// parenthesis at the end of many assignments (total = (, then an expression below). Each was
// read as a secret's parenthesised pieces (a file of NAME = ( lines scanned at a third of
// the speed of source code) though its next line holds no piece of a value.
func TestPythonParenthesesAreNotReadAsWrappedValues(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "    total_%d = (\n        compute_the_value(argument_%d)\n        + other_value\n    )\n", i, i)
	}
	d := &detector{}
	d.scanBuffer([]byte(b.String()), 0, "", 0)
	if d.wrappedLooks > 10 {
		t.Fatalf("%d of 1000 parenthesised expressions read as maybe wrapped values", d.wrappedLooks)
	}
}

// TestDetectFindsASecretInAJSONStringInsideJSON: AWS Secrets Manager (get-secret-value) and
// other tools hold a JSON object as a string, its quotes escaped: "SecretString":
// "{\"CDP_API_KEY_SECRET\":\"...\"}". An unpadded secret there was missed (a padded one is
// found by its padding): the value after ':' started with \", not a quote.
func TestDetectFindsASecretInAJSONStringInsideJSON(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	for _, enc := range issue14Encodings(raw) {
		for _, text := range []string{
			`{"Name": "prod/cdp", "SecretString": "{\"CDP_API_KEY_ID\":\"` + testKeyID + `\",\"CDP_API_KEY_SECRET\":\"` + enc.s + `\"}"}`,
			`{"config": "{\"id\": \"` + testKeyID + `\", \"secret\": \"` + enc.s + `\"}"}`,
		} {
			got := Detect([]byte(text), false)
			if len(got.Keys) != 1 || got.Keys[0].Fingerprint != e.fp || got.Keys[0].KeyName != testKeyID {
				t.Errorf("%s: found %+v in %s", enc.name, got.Keys, text)
			}
		}
	}
}

// TestKeysWrittenBeforeTheirIDsArePairedWithTheirOwn: two keys, each written before its key id
// (secret A, id A, secret B, id B), were paired by distance from the key's start, so key B
// took id A, just above it: two findings named A, and a responder revoking by the report would
// never revoke B. Names and keys that alternate, as many of each, are paired in order.
func TestKeysWrittenBeforeTheirIDsArePairedWithTheirOwn(t *testing.T) {
	a, b := newEd(t), newEd(t)
	idA, idB := "0b6f5e9a-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "7d8e9f0a-1b2c-4d3e-9f8a-7b6c5d4e3f2a"
	for name, text := range map[string]string{
		"yaml":      "cdp:\n  - api_key_secret: " + a.b64 + "\n    api_key_id: " + idA + "\n  - api_key_secret: " + b.b64 + "\n    api_key_id: " + idB + "\n",
		"json":      "[{\"privateKey\": \"" + a.b64 + "\", \"id\": \"" + idA + "\"},\n {\"privateKey\": \"" + b.b64 + "\", \"id\": \"" + idB + "\"}]\n",
		"ids first": "[{\"id\": \"" + idA + "\", \"privateKey\": \"" + a.b64 + "\"},\n {\"id\": \"" + idB + "\", \"privateKey\": \"" + b.b64 + "\"}]\n",
	} {
		got := map[string]string{}
		for _, m := range Detect([]byte(text), false).Keys {
			got[m.Fingerprint] = m.KeyName
		}
		if got[a.fp] != idA || got[b.fp] != idB {
			t.Errorf("%s: key A named %q, key B named %q; want %s and %s", name, got[a.fp], got[b.fp], idA, idB)
		}
	}
}
