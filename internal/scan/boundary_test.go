package scan

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAKeyStartingJustPastAChunkIsFoundFromWhatPrecedesIt: a key that starts at or just past
// the end of a 4 MiB chunk is left to the next chunk, which started exactly there: a secret
// found from what comes before it (its name's ':' or '=', an element's opening tag, the CDP
// words around it) was in neither. The next chunk now starts some KiB before.
func TestAKeyStartingJustPastAChunkIsFoundFromWhatPrecedesIt(t *testing.T) {
	e := newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	s := base64.RawStdEncoding.EncodeToString(raw)
	const mark = "\x00KEY\x00"
	forms := map[string]string{
		"one line":   "id: " + testKeyID + "\nsecret: " + mark + s + "\n",
		"next line":  "id: " + testKeyID + "\nsecret:\n  " + mark + s + "\n",
		"wrapped":    "id: " + testKeyID + "\nsecret: >-\n  " + mark + s[:43] + "\n  " + s[43:] + "\n",
		"element":    "<cdp>\n<id>" + testKeyID + "</id>\n<secret>\n  " + mark + s[:43] + "\n  " + s[43:] + "\n</secret>\n</cdp>\n",
		"cdata":      "<id>" + testKeyID + "</id>\n<secret><![CDATA[" + mark + s + "]]></secret>\n",
		"by its tag": "<id>" + testKeyID + "</id><secret>" + mark + s + "</secret>\n",
	}
	filler := strings.Repeat("x = 1 // just some code here, nothing else\n", chunkSize/43+1)
	dir := t.TempDir()
	for name, form := range forms {
		keyAt := strings.Index(form, mark)
		form = strings.Replace(form, mark, "", 1)
		for _, past := range []int{-5, 0, 3, 30} {
			pos := chunkSize + past - keyAt                       // the key starts past bytes after the first chunk
			text := filler[:pos] + form + filler[:2*chunkOverlap] // more than the overlap: a second chunk
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			res := New(Options{Workers: 1}).Scan(context.Background(), []string{p})
			if len(res.Findings) != 1 || res.Findings[0].Fingerprint != e.fp {
				t.Errorf("%s, %d bytes past the chunk: found %+v", name, past, res.Findings)
				continue
			}
			f := res.Findings[0]
			if want := strings.Count(text[:chunkSize+past], "\n") + 1; f.Line != want || f.KeyName != testKeyID {
				t.Errorf("%s, %d bytes past the chunk: line %d, name %q; want %d, %q", name, past, f.Line, f.KeyName, want, testKeyID)
			}
		}
	}
}

// TestAKeyInUTF16TextPastTheFirstChunkIsFound: a key found in a UTF-16 layer is placed where
// the layer starts, the start of its chunk; every chunk after the first dropped it as one
// "reported from the chunk before", so a UTF-16 file (a Windows config, with or without a
// byte order mark) was scanned for keys in its first 4 MiB only.
func TestAKeyInUTF16TextPastTheFirstChunkIsFound(t *testing.T) {
	p256, e := newP256(t), newEd(t)
	raw, _ := base64.StdEncoding.DecodeString(e.b64)
	s := base64.RawStdEncoding.EncodeToString(raw)
	forms := map[string]struct{ text, fp string }{
		"pem":   {p256.sec1, p256.fp},
		"plist": {"<key>cdp_api_key_id</key>\n<string>" + testKeyID + "</string>\n<key>cdp_api_key_secret</key>\n<string>" + s + "</string>\n", e.fp},
	}
	filler := strings.Repeat("x = 1 // just some code here, nothing else\n", chunkSize/43+1)
	dir := t.TempDir()
	for name, form := range forms {
		for _, at := range []int{chunkSize / 4, chunkSize/2 - 10, chunkSize/2 + 100, chunkSize, 3 * chunkSize / 2} { // characters: 2 bytes each
			for _, bom := range []bool{true, false} {
				text := filler[:at%chunkSize] + strings.Repeat(filler[:chunkSize/2], at/chunkSize*2) + form.text + filler[:chunkOverlap]
				p := filepath.Join(dir, "f")
				if err := os.WriteFile(p, []byte(utf16LE(text, bom)), 0o600); err != nil {
					t.Fatal(err)
				}
				res := New(Options{Workers: 1}).Scan(context.Background(), []string{p})
				if len(res.Findings) != 1 || res.Findings[0].Fingerprint != form.fp || res.Findings[0].Encoding != "utf16" {
					t.Errorf("%s at character %d, byte order mark %v: found %+v", name, at, bom, res.Findings)
				}
			}
		}
	}
}
