//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A state folder someone else can write (the reproduction: a 0777 folder, used silently by
// waasctl running as nobody), owns, or that is a symlink is refused with one line naming it.
// Only the folder itself counts: a state folder reached through a symlinked parent (/tmp on
// macOS) is fine.
func TestStateDirMustBePrivate(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	theirs := filepath.Join(base, "theirs")
	os.Mkdir(theirs, 0o700)
	if os.Geteuid() == 0 {
		os.Chown(theirs, 65534, 65534)
	}
	parentLink := filepath.Join(base, "parent-link")
	os.Symlink(base, parentLink)

	for _, tt := range []struct {
		dir, want string
	}{
		{real, ""},
		{filepath.Join(base, "not-yet"), ""},
		{filepath.Join(parentLink, "real"), ""},
		{link, "is a symlink"},
		{open, "is writable by group or others (mode 0777); check that nobody planted files in it, then run chmod 700 " + open},
		{theirs, "belongs to uid 65534"},
	} {
		if tt.dir == theirs && os.Geteuid() != 0 {
			continue
		}
		t.Setenv("WAASCTL_STATE_DIR", tt.dir)
		got, err := StateDir()
		switch {
		case tt.want == "" && (err != nil || got != tt.dir):
			t.Errorf("%s: %q, %v", tt.dir, got, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: err = %v, want one line with %q", tt.dir, err, tt.want)
		}
	}
}

// The config names commands waasctl runs: a file or folder others can change is refused.
func TestConfigOthersCanChangeIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte("profiles: {}\n"), 0o644)
	if _, err := LoadFile(path); err != nil {
		t.Fatalf("a private config: %v", err)
	}
	// Through a symlink (dotfile managers) is fine.
	link := filepath.Join(t.TempDir(), "config.yaml")
	os.Symlink(path, link)
	if _, err := LoadFile(link); err != nil {
		t.Fatalf("through a symlink: %v", err)
	}
	os.Chmod(path, 0o666)
	if _, err := LoadFile(link); err == nil || !strings.Contains(err.Error(), "chmod go-w "+path) {
		t.Fatalf("a world-writable config: %v", err)
	}
	os.Chmod(path, 0o600)
	os.Chmod(dir, 0o777)
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Fatalf("a world-writable folder: %v", err)
	}
	os.Chmod(dir, 0o777|os.ModeSticky) // like /tmp: others cannot replace the file
	if _, err := LoadFile(path); err != nil {
		t.Fatalf("a sticky folder: %v", err)
	}
	if os.Geteuid() == 0 {
		os.Chmod(dir, 0o700)
		os.Chown(path, 65534, 65534)
		if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Fatalf("a config of nobody's: %v", err)
		}
	}
}
