package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAFileSwappedForASymlinkAfterTheWalkIsNotFollowed: a file the folder walk saw, replaced
// by a symlink before it is opened (a tree being changed while it is scanned), is refused:
// O_NOFOLLOW said so, and the fallback meant for a PATH argument that is a symlink followed
// it anyway, reading a file outside the tree and reporting it under the name inside it.
func TestAFileSwappedForASymlinkAfterTheWalkIsNotFollowed(t *testing.T) {
	k := newP256(t)
	outside := filepath.Join(t.TempDir(), "outside.pem")
	if err := os.WriteFile(outside, []byte(k.sec1), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	victim := filepath.Join(root, "a.txt")
	if err := os.WriteFile(victim, []byte("nothing here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Skip is asked about each entry after the walk has read its type and before the file
	// is opened: the swap happens there.
	skip := func(_, rel string, _ bool) bool {
		if rel == "a.txt" {
			if err := os.Remove(victim); err != nil {
				t.Error(err)
			}
			if err := os.Symlink(outside, victim); err != nil {
				t.Error(err)
			}
		}
		return false
	}
	res := New(Options{Skip: skip, Workers: 1}).Scan(context.Background(), []string{root})
	if len(res.Findings) != 0 {
		t.Fatalf("the symlink's target was read: %+v", res.Findings)
	}
	if len(res.Errors) != 1 || res.Errors[0].Path != victim || !strings.Contains(res.Errors[0].Reason, "symlink") {
		t.Fatalf("errors %+v, want one saying %s is a symlink", res.Errors, victim)
	}
	// A PATH argument that is a symlink is still followed.
	res = New(Options{}).Scan(context.Background(), []string{victim})
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != k.fp {
		t.Fatalf("the PATH argument's target: found %+v, errors %+v", res.Findings, res.Errors)
	}
}
