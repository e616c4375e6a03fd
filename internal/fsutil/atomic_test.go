package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesAtomicallyAndPrivately(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "two" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v", got, fi.Mode())
	}
	// A failing writer leaves the old file and no temporary behind.
	boom := errors.New("boom")
	if err := Write(path, 0o600, func(io.Writer) error { return boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	got, _ = os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(got) != "two" || len(entries) != 1 {
		t.Fatalf("after a failed write: %q, %d entries", got, len(entries))
	}
}

func TestCreateExclusiveRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.json")
	if err := CreateExclusive(path, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := CreateExclusive(path, []byte("b"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second create: %v", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "a" {
		t.Fatalf("content %q", got)
	}
}

func TestMkdirPrivateTightensMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", fi.Mode())
	}
}
