package scan

import (
	"encoding/base64"
	"strings"
	"testing"
)

// BenchmarkPathologicalInputs: inputs made of one anchor repeated (256 KiB each), two of which
// once made detection quadratic (a file of DER anchors, a long base64 line). Every anchor is a
// candidate here, so they run far below ordinary text (3 to 85 MB/s against hundreds), but the
// time grows with the input, not its square: compare -benchtime runs at two sizes when changing
// the detectors. The quadratic cases have tests of their own (TestDERAnchorsReadEachByteOnce,
// TestALongBase64LineIsWalkedOnce). go test ./internal/scan -run '^$' -bench Pathological
func BenchmarkPathologicalInputs(b *testing.B) {
	rb := make([]byte, 64)
	for i := range rb {
		rb[i] = byte(i*37 + 11)
	}
	v := base64.RawStdEncoding.EncodeToString(rb)
	const n = 256 << 10
	inputs := map[string]string{
		"der":     strings.Repeat("MHcCAQEE", n/8),
		"dash64":  strings.Repeat("LS0t", n/4),
		"begin":   strings.Repeat("-----BEGIN EC PRIVATE KEY-----\n", n/31),
		"colon":   strings.Repeat("secret: "+v+"\n", n/96),
		"eq":      strings.Repeat("X="+v+"\n", n/90),
		"noend":   strings.Repeat("-----BEGIN EC PRIVATE KEY-----"+strings.Repeat("A", 16000)+"\n", n/16032+1),
		"equals":  strings.Repeat("=", n),
		"dashes":  strings.Repeat("-", n),
		"apikeys": strings.Repeat("organizations/apiKeys/", n/22),
		"utf16":   strings.Repeat("=\x00", n/2),
		"pad":     strings.Repeat("A==", n/3),
		"b64pad":  strings.Repeat(base64.StdEncoding.EncodeToString(rb)+"\n", n/89),
		"secretK": strings.Repeat("KeySecret", n/9),
		"folded":  strings.Repeat("secret: >-\n  "+v[:43]+"\n  "+v[43:]+"\n", n/104),
		"nextln":  strings.Repeat("secret:\n"+strings.Repeat(" ", 60)+v+"\n", n/154),
		"pipes":   strings.Repeat(":|\n", n/3),
		"element": strings.Repeat("<secret>"+v+"</secret>\n", n/104),
		"closing": strings.Repeat("</secret>", n/9),
		// The forms of issue 14: every line a candidate for a short first piece, a
		// parenthesis, a concatenation, a plist key with no <string>, \n-escaped pieces.
		"shortpiece": strings.Repeat("k: ABCDEFGH\nABCDEFGHIJKLMNOP\n", n/29),
		"paren":      strings.Repeat("SECRET = (\n", n/11),
		"concat":     strings.Repeat("x = \"ABCDEFGHIJKL\" +\n", n/21),
		"plistkey":   strings.Repeat("<key>cdp_secret</key>\n", n/22),
		"escapes":    strings.Repeat("\"secret\": \"ABCD\\nABCD\\nABCD\\n\"\n", n/31),
		"colons":     strings.Repeat("a:\n", n/3),
	}
	for name, in := range inputs {
		data := []byte(in)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				Detect(data, false)
			}
		})
	}
}
