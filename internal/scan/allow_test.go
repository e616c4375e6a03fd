package scan

import (
	"path/filepath"
	"strings"
	"testing"
)

// One waasctl:allow marker allows one key: on a minified line holding many keys, only the one
// it is written next to.
func TestAllowMarkerAllowsOneKey(t *testing.T) {
	keys := []testKey{newP256(t), newP256(t), newP256(t)}
	esc := func(k testKey) string { return `"` + strings.ReplaceAll(k.sec1, "\n", `\n`) + `"` }
	pad := strings.Repeat("x", 300<<10) // a 1 MB line, keys far apart
	cases := []struct {
		name    string
		text    string
		allowed []string // fingerprints suppressed
	}{
		{"minified, marker before the middle key",
			"var a=" + esc(keys[0]) + ";" + pad + "/*waasctl:allow*/var b=" + esc(keys[1]) + ";" + pad + "var c=" + esc(keys[2]) + ";\n",
			[]string{keys[1].fp}},
		{"trailing comment", "a = " + esc(keys[0]) + " // waasctl:allow\nb = " + esc(keys[1]) + "\n", []string{keys[0].fp}},
		{"line before", "# waasctl:allow\nkey: " + esc(keys[0]) + "\nother: " + esc(keys[1]) + "\n", []string{keys[0].fp}},
		{"two keys on a line, one marker", "a=" + esc(keys[0]) + " b=" + esc(keys[1]) + " # waasctl:allow\n", []string{keys[1].fp}},
		{"pem after a marker line", "// fixture waasctl:allow\nconst key = `" + keys[2].sec1 + "`\n", []string{keys[2].fp}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "f.js"), []byte(c.text))
			res := scanIn(t, dir, "f.js")
			var got []string
			for _, f := range res.Findings {
				if f.Suppressed != "" {
					got = append(got, f.Fingerprint)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.allowed, " ") {
				t.Fatalf("suppressed %v, want %v (of %d findings)", got, c.allowed, len(res.Findings))
			}
		})
	}
}
