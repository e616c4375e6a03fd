package scan

import (
	"context"
	"fmt"
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

// TestAFolderSwappedForASymlinkDuringTheWalkIsNotFollowed: a folder replaced by a symlink to
// a folder outside the tree, after the walk listed it, is refused rather than walked into; and
// one replaced after its files were listed, before they are opened, does not redirect them:
// they are opened in the folder the walk holds, not by a path through the new link.
func TestAFolderSwappedForASymlinkDuringTheWalkIsNotFollowed(t *testing.T) {
	k := newP256(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "a.txt"), []byte(k.sec1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"sub", "sub/a.txt"} {
		t.Run("swapped at "+at, func(t *testing.T) {
			root := t.TempDir()
			sub := filepath.Join(root, "sub")
			if err := os.Mkdir(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "a.txt"), []byte("nothing here\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Skip is asked about each entry after its folder was listed and before it is
			// opened: the swap happens there.
			skip := func(_, rel string, _ bool) bool {
				if rel == at {
					if err := os.Rename(sub, sub+".moved"); err != nil {
						t.Error(err)
					}
					if err := os.Symlink(outside, sub); err != nil {
						t.Error(err)
					}
				}
				return false
			}
			res := New(Options{Skip: skip, Workers: 1}).Scan(context.Background(), []string{root})
			if len(res.Findings) != 0 {
				t.Fatalf("a file outside the tree was read through the swapped folder: %+v", res.Findings)
			}
			if at == "sub" && (len(res.Errors) != 1 || res.Errors[0].Path != sub || !strings.Contains(res.Errors[0].Reason, "symlink")) {
				t.Fatalf("errors %+v, want one saying %s is a symlink", res.Errors, sub)
			}
			if at == "sub/a.txt" && (len(res.Errors) != 0 || res.Files != 1) {
				t.Fatalf("errors %+v, %d files scanned; want the file the walk listed scanned, no error", res.Errors, res.Files)
			}
		})
	}
}

// TestTheWalkLetsEveryFolderGo: the folders the walk holds open are closed once their files
// are scanned, whether the scan finished or was cancelled (a leak would end a scan of a large
// tree with "too many open files").
func TestTheWalkLetsEveryFolderGo(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count descriptors with") // not Linux: nothing to count with
	}
	root := t.TempDir()
	for i := range 40 {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i), "e", "f")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for j := range 5 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.txt", j)), []byte("x = 1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	open := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := open()
	if res := New(Options{}).Scan(context.Background(), []string{root}); res.Files != 200 || len(res.Errors) != 0 {
		t.Fatalf("scanned %d files, errors %+v; want 200 and none", res.Files, res.Errors)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	New(Options{Skip: func(_, _ string, _ bool) bool {
		if n++; n == 50 {
			cancel()
		}
		return false
	}}).Scan(ctx, []string{root})
	if after := open(); after > before {
		t.Fatalf("%d descriptors open after two scans, %d before", after, before)
	}
}
