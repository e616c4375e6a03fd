package auditlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify mutates a valid log and its head. Verify must never panic, and must never pass a
// log whose bytes changed while its head checkpoint did not. (Changing both consistently is
// the documented limit of a local head: see docs/audit-log.md.)
func FuzzVerify(f *testing.F) {
	dir, _ := filledLog(f, 4)
	orig, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	origHead, err := os.ReadFile(filepath.Join(dir, HeadName))
	if err != nil {
		f.Fatal(err)
	}
	want := parseHead(origHead).cp

	lines := bytes.SplitAfter(orig, []byte("\n"))[:4]
	mutate := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(orig)) }
	f.Add(orig, origHead)
	f.Add(mutate(func(b []byte) []byte { b[len(b)/2] ^= 1; return b }), origHead)
	f.Add(mutate(func(b []byte) []byte { return b[:len(b)-1] }), origHead)
	f.Add(bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3]}, nil), origHead)
	f.Add(bytes.Join(lines[:3], nil), origHead)
	f.Add(append(bytes.Clone(orig), '\n'), origHead)
	f.Add(orig, []byte(nil))
	f.Add(orig, bytes.Replace(origHead, []byte(`"seq":4`), []byte(`"seq":3`), 1))

	// One folder for every input: inputs run one at a time in each worker process, and a new
	// folder per input would cost more than Verify itself.
	d := f.TempDir()
	f.Fuzz(func(t *testing.T, data, head []byte) {
		os.Remove(filepath.Join(d, HeadName))
		if err := os.WriteFile(filepath.Join(d, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if len(head) > 0 {
			if err := os.WriteFile(filepath.Join(d, HeadName), head, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r, err := Verify(d)
		if err != nil {
			t.Fatalf("reading a plain file failed: %v", err)
		}
		if r.OK != (r.Problem == nil) {
			t.Fatalf("OK %v with problem %v", r.OK, r.Problem)
		}
		if p := r.Problem; p != nil && (p.Line < 0 || p.Line > bytes.Count(data, []byte("\n"))+1 || p.Kind == "" || p.Detail == "") {
			t.Fatalf("problem out of range: %+v", p)
		}
		sameHead := len(head) > 0 && parseHead(head).err == nil && parseHead(head).cp.Seq == want.Seq && parseHead(head).cp.Hash == want.Hash
		switch {
		case r.OK && sameHead && !bytes.Equal(data, orig):
			t.Fatalf("a changed log verified against its head:\n%q", data)
		case r.OK && len(head) == 0 && len(data) > 0:
			t.Fatalf("a log without a head verified:\n%q", data)
		case !r.OK && sameHead && bytes.Equal(data, orig):
			t.Fatalf("the original log failed: %v", r.Problem)
		}
	})
}
