//go:build unix

package auditlog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// Open used to chmod audit.jsonl and audit.head to 0600 through a symlink, i.e. the target.
func TestOpenDoesNotChmodThroughASymlink(t *testing.T) {
	for _, name := range []string{HeadName, FileName} {
		dir := t.TempDir()
		victim := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("{}\n"), 0o644)
		os.Symlink(victim, filepath.Join(dir, name))
		if _, err := Open(dir); !errors.Is(err, fsutil.ErrSymlink) {
			t.Fatalf("%s: err = %v", name, err)
		}
		if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
			t.Fatalf("%s: the victim's mode is now %v", name, fi.Mode().Perm())
		}
	}
}

// A dangling audit.lock (or audit.jsonl) symlink used to create its target.
func TestAppendDoesNotCreateADanglingSymlinksTarget(t *testing.T) {
	for _, name := range []string{lockName, FileName} {
		dir := t.TempDir()
		l := newLog(t, dir)
		target := filepath.Join(t.TempDir(), "created")
		os.Symlink(target, filepath.Join(dir, name))
		if _, err := l.Append(sampleEntry(1)); !errors.Is(err, fsutil.ErrSymlink) {
			t.Fatalf("%s: err = %v", name, err)
		}
		if _, err := os.Lstat(target); err == nil {
			t.Fatalf("%s: the link's target was created", name)
		}
	}
}

func TestOpenRefusesAFolderOthersCanWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	os.Mkdir(dir, 0o700)
	os.Chmod(dir, 0o777)
	var pe *fsutil.PrivateDirError
	if _, err := Open(dir); !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
}
