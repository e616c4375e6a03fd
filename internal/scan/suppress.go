package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// KeySlot is one key of a keyring profile, by fingerprint only.
type KeySlot struct {
	Profile     string
	Slot        string // CURRENT, PENDING or PREVIOUS
	Fingerprint string
}

// Tie marks every finding whose key is one of slots as live, naming the profile and slot. A
// key in two profiles names the first, in the order given.
func Tie(findings []Finding, slots []KeySlot) {
	byFP := map[string]KeySlot{}
	for _, s := range slots {
		if _, ok := byFP[s.Fingerprint]; !ok && s.Fingerprint != "" {
			byFP[s.Fingerprint] = s
		}
	}
	for i := range findings {
		if s, ok := byFP[findings[i].Fingerprint]; ok {
			findings[i].Live, findings[i].Profile, findings[i].Slot = true, s.Profile, s.Slot
		}
	}
}

// ParseIgnore reads an ignore file: one fingerprint (SHA256:...) per line, optionally followed
// by a path it applies to (fingerprint, then whitespace, then the path); '#' starts a comment.
func ParseIgnore(data []byte) (Ignore, error) {
	ig := Ignore{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasPrefix(fields[0], "SHA256:") || len(fields) > 2 {
			return nil, fmt.Errorf("line %d: want a fingerprint (SHA256:...), optionally followed by a path", n)
		}
		path := ""
		if len(fields) == 2 {
			path = fields[1]
			if _, err := pathMatch(path, ""); err != nil {
				return nil, fmt.Errorf("line %d: %q is not a valid pattern (see docs/scan.md)", n, path)
			}
		}
		ig[fields[0]] = append(ig[fields[0]], path)
	}
	return ig, sc.Err()
}

// Ignore maps a fingerprint to the paths it is ignored in ("" for everywhere).
type Ignore map[string][]string

func (ig Ignore) matches(f Finding) bool {
	for _, p := range ig[f.Fingerprint] {
		if ok, _ := pathMatch(p, f.Path); p == "" || ok {
			return true
		}
	}
	return false
}

// pathMatch matches a finding's path against an ignore file's pattern as .gitignore matches
// a line, with path.Match's syntax (*, ?, [...]; no **), '/' and the '!' of archive members
// both separating names:
//   - a pattern with no slash but a trailing one matches any name in the path, at any depth
//     ("key.json", "*.pem");
//   - a pattern with one is anchored: it matches the path from its start, whole or a leading
//     part of it, so a folder or an archive stands for everything inside ("testdata/key.json",
//     "build/app.zip"); a leading "/" only anchors;
//   - a trailing slash matches folders only, never the file itself ("testdata/").
//
// A leading "./" of either is dropped. An error is a bad pattern.
func pathMatch(pattern, p string) (bool, error) {
	pattern = strings.TrimPrefix(pattern, "./")
	p = strings.TrimPrefix(filepath.ToSlash(p), "./")
	dirOnly := strings.HasSuffix(pattern, "/")
	pattern = strings.TrimSuffix(pattern, "/")
	anchored := strings.Contains(pattern, "/")
	pattern = strings.TrimPrefix(pattern, "/")
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '!' })
	}
	pats, names := split(pattern), split(p)
	if len(pats) == 0 {
		return false, fmt.Errorf("empty pattern")
	}
	for _, pat := range pats {
		if _, err := path.Match(pat, ""); err != nil {
			return false, err
		}
	}
	last := len(names) // names a match may end at: a folder-only one must leave a name after it
	if dirOnly {
		last--
	}
	if !anchored {
		for i := 0; i < last; i++ {
			if ok, _ := path.Match(pats[0], names[i]); ok {
				return true, nil
			}
		}
		return false, nil
	}
	if len(pats) > last {
		return false, nil
	}
	for i, pat := range pats {
		if ok, _ := path.Match(pat, names[i]); !ok {
			return false, nil
		}
	}
	return true, nil
}

// Baseline is an earlier report: what it found is not reported again.
type Baseline map[string]bool

func baselineKey(fp, path, commit string) string { return fp + "\x00" + path + "\x00" + commit }

// ParseBaseline reads an earlier report in the JSON or JSONL format of `waasctl scan`.
func ParseBaseline(data []byte) (Baseline, error) {
	type record struct {
		Type        string `json:"type"`
		Path        string `json:"path"`
		Fingerprint string `json:"fingerprint"`
		Commit      string `json:"commit"`
	}
	var recs []record
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &recs); err != nil {
			return nil, fmt.Errorf("not a JSON report of waasctl scan: %v", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for dec.More() {
			var r record
			if err := dec.Decode(&r); err != nil {
				return nil, fmt.Errorf("not a JSON Lines report of waasctl scan: %v", err)
			}
			recs = append(recs, r)
		}
	}
	b := Baseline{}
	for i, r := range recs {
		if r.Type != "finding" && r.Type != "error" {
			// Another JSON file (a SARIF report, a package.json) would suppress nothing, silently.
			return nil, fmt.Errorf("record %d is not a finding or error record: not a -o json or jsonl report of waasctl scan", i+1)
		}
		if r.Type == "finding" && r.Fingerprint != "" {
			b[baselineKey(r.Fingerprint, r.Path, r.Commit)] = true
		}
	}
	return b, nil
}

// Suppress marks the findings an ignore file or a baseline covers (an allow comment was
// marked while scanning). Either may be nil. A finding Tie marked live is never suppressed,
// not even by an allow comment: a profile's working key sitting in the tree is the leak
// itself, whatever was accepted when it was first found (call Tie first).
func Suppress(findings []Finding, ig Ignore, base Baseline) {
	for i := range findings {
		f := &findings[i]
		switch {
		case f.Live:
			f.Suppressed = ""
		case f.Suppressed != "":
		case ig.matches(*f):
			f.Suppressed = "ignore file"
		case base[baselineKey(f.Fingerprint, f.Path, f.Commit)]:
			f.Suppressed = "baseline"
		}
	}
}
