package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// repoRoot is where the committed generated files live, relative to this package.
const repoRoot = "../.."

// TestGeneratedFilesAreCurrent fails when completions/, docs/cli/ or docs/exit-codes.md no longer match the
// command tree. Fix it with `make gen` and commit the result.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, path)
		want, _ := os.ReadFile(path)
		got, err := os.ReadFile(filepath.Join(repoRoot, rel))
		switch {
		case err != nil:
			t.Errorf("%s is missing; run `make gen` and commit it", rel)
		case !bytes.Equal(got, want):
			t.Errorf("%s is stale; run `make gen` and commit it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A file left behind for something no longer generated is stale too.
	for _, sub := range []string{"completions", "docs/cli"} {
		entries, err := os.ReadDir(filepath.Join(repoRoot, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(tmp, sub, e.Name())); err != nil {
				t.Errorf("%s/%s is not generated any more; delete it", sub, e.Name())
			}
		}
	}
}
