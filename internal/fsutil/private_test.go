//go:build unix

package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid tests give a file to when it must belong to someone else; making it needs
// root, which CI runs the tests as.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
}

func TestMkdirPrivateRefusesASymlinkAndLeavesItsTargetAlone(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "snapshots")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err := MkdirPrivate(link)
	var pe *PrivateDirError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symlink") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o755 {
		t.Fatalf("the link's target was changed to %v", fi.Mode().Perm())
	}
}

func TestMkdirPrivateRefusesADanglingSymlink(t *testing.T) {
	base := t.TempDir()
	link := filepath.Join(base, "locks")
	if err := os.Symlink(filepath.Join(base, "made-by-waasctl"), link); err != nil {
		t.Fatal(err)
	}
	if err := MkdirPrivate(link); err == nil {
		t.Fatal("a dangling symlink was accepted")
	}
	if _, err := os.Lstat(filepath.Join(base, "made-by-waasctl")); err == nil {
		t.Fatal("the link's target was created")
	}
}

func TestMkdirPrivateRefusesAFolderOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		dir := filepath.Join(t.TempDir(), "state")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, mode)
		err := MkdirPrivate(dir)
		if err == nil || !strings.Contains(err.Error(), "writable by group or others") || !strings.Contains(err.Error(), "chmod 700 "+dir) {
			t.Fatalf("mode %v: err = %v", mode, err)
		}
		if err := CheckPrivateDir(dir); err == nil {
			t.Fatalf("mode %v: CheckPrivateDir accepted it", mode)
		}
	}
}

func TestMkdirPrivateRefusesAFolderOfAnotherUser(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	err := MkdirPrivate(dir)
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenNoFollowRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "prod.lock")
	os.Symlink(victim, link)
	if _, err := OpenNoFollow(link, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600); !errors.Is(err, ErrSymlink) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Fatalf("victim now %q", got)
	}
	dangling := filepath.Join(dir, "audit.lock")
	os.Symlink(filepath.Join(dir, "created"), dangling)
	if _, err := OpenNoFollow(dangling, os.O_RDWR|os.O_CREATE, 0o600); !errors.Is(err, ErrSymlink) {
		t.Fatalf("dangling: err = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "created")); err == nil {
		t.Fatal("a dangling link's target was created")
	}
	if err := TightenFile(link); !errors.Is(err, ErrSymlink) {
		t.Fatalf("TightenFile: err = %v", err)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Fatalf("victim mode %v", fi.Mode().Perm())
	}
}

// "link/" and "link/." name the link's target to Lstat: WAASCTL_STATE_DIR=link/
// in a CI template must be refused like WAASCTL_STATE_DIR=link.
func TestATrailingSlashDoesNotHideASymlink(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "state")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link + "/", link + "/.", link + "//"} {
		if err := CheckPrivateDir(p); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("CheckPrivateDir(%q) = %v, want the symlink refused", p, err)
		}
		if err := MkdirPrivate(p); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("MkdirPrivate(%q) = %v, want the symlink refused", p, err)
		}
	}
}
