package scan

import (
	"strings"
	"testing"
)

// The path after a fingerprint in an ignore file is a pattern, matched like a .gitignore line
// (docs/scan.md): without a slash at any depth, with one from the start of the path.
func TestIgnoreFilePaths(t *testing.T) {
	const fp = "SHA256:P7kkui1SkDRvPA+tlIwnmsKBaV80udm4A7mpFm0xEpE"
	cases := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"testdata/key.json", []string{"testdata/key.json", "./testdata/key.json"}, []string{"src/testdata/key.json", "testdata/key.json.bak"}},
		{"/testdata/key.json", []string{"testdata/key.json"}, []string{"src/testdata/key.json"}},
		{"key.json", []string{"key.json", "src/testdata/key.json", "app.zip!assets/key.json"}, []string{"key.json.bak", "src/key.json5"}},
		{"testdata/", []string{"testdata/a.pem", "src/testdata/x/b.pem"}, []string{"testdata", "src/testdata.pem"}},
		{"*.pem", []string{"a.pem", "src/b.pem", "x.zip!c.pem"}, []string{"a.pem.txt"}},
		{"src/*.pem", []string{"src/a.pem"}, []string{"src/x/a.pem", "lib/src/a.pem"}},
		{"build/app.zip", []string{"build/app.zip", "build/app.zip!assets/key.json", "build/app.zip!a.ipa!b"}, []string{"app.zip!x", "build/app.zip.old"}},
		{"build/app.zip!assets/*.json", []string{"build/app.zip!assets/key.json"}, []string{"build/app.zip!key.json"}},
	}
	for _, c := range cases {
		ig, err := ParseIgnore([]byte(fp + "  " + c.pattern + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.match {
			if !ig.matches(Finding{Fingerprint: fp, Path: p}) {
				t.Errorf("%q does not match %q", c.pattern, p)
			}
		}
		for _, p := range c.noMatch {
			if ig.matches(Finding{Fingerprint: fp, Path: p}) {
				t.Errorf("%q matches %q", c.pattern, p)
			}
		}
	}
	if _, err := ParseIgnore([]byte(fp + " src/[a.pem\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad pattern: %v", err)
	}
}

func FuzzIgnoreFile(f *testing.F) {
	f.Add([]byte("SHA256:abc testdata/\nSHA256:def  *.pem # x\n"), "src/testdata/a.pem")
	f.Add([]byte("SHA256:abc /build/app.zip!a/[b]\n"), "build/app.zip!a/b")
	f.Fuzz(func(t *testing.T, data []byte, p string) {
		ig, err := ParseIgnore(data)
		if err != nil {
			return
		}
		for fp := range ig {
			ig.matches(Finding{Fingerprint: fp, Path: p})
		}
	})
}

// TestBaselineRefusesOtherJSON: a SARIF report or any other JSON file given as --baseline was
// read as a report with no findings, and suppressed nothing without a word.
func TestBaselineRefusesOtherJSON(t *testing.T) {
	for _, data := range []string{
		`{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": []}`,
		`{"name": "app", "version": "1.0.0"}`,
		`[{"path": "a", "fingerprint": "SHA256:x"}]`,
	} {
		if _, err := ParseBaseline([]byte(data)); err == nil {
			t.Errorf("accepted as a baseline: %s", data)
		}
	}
	for _, data := range []string{"", "[]\n", `{"type":"error","path":"x","reason":"y"}` + "\n" + `{"type":"finding","path":"a","fingerprint":"SHA256:x"}`} {
		if _, err := ParseBaseline([]byte(data)); err != nil {
			t.Errorf("a report refused: %q: %v", data, err)
		}
	}
}

// A key Tie marks live (a keyring profile's) is reported whatever would suppress it: an allow
// comment, an ignore file or a baseline made when it was first found. Others stay suppressed.
func TestLiveKeyIsNeverSuppressed(t *testing.T) {
	findings := []Finding{
		{Path: "a/key.json", Fingerprint: "SHA256:live1", Suppressed: "allow comment"},
		{Path: "a/key2.json", Fingerprint: "SHA256:live2"},
		{Path: "a/key3.json", Fingerprint: "SHA256:live3"},
		{Path: "a/old.json", Fingerprint: "SHA256:old"},
	}
	Tie(findings, []KeySlot{{Profile: "prod", Slot: "CURRENT", Fingerprint: "SHA256:live1"},
		{Profile: "prod", Slot: "PREVIOUS", Fingerprint: "SHA256:live2"}, {Profile: "ci", Slot: "CURRENT", Fingerprint: "SHA256:live3"}})
	ig := Ignore{"SHA256:live2": {""}, "SHA256:old": {""}}
	base := Baseline{baselineKey("SHA256:live3", "a/key3.json", ""): true}
	Suppress(findings, ig, base)
	for _, f := range findings[:3] {
		if f.Suppressed != "" {
			t.Errorf("%s (live) suppressed by %s", f.Path, f.Suppressed)
		}
	}
	if findings[3].Suppressed != "ignore file" {
		t.Errorf("a/old.json (not live): suppressed %q, want by the ignore file", findings[3].Suppressed)
	}
}
