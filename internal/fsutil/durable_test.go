package fsutil

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWritesAreMadeDurableBeforeTheyAreSeen: the new file's data is fsynced while the path
// still holds the old file, and the folder is fsynced once the path holds the new one. Without
// the first, a power cut after the rename can leave the path holding an empty or partial file,
// which the rename was meant to rule out; without the second, the rename itself can be lost.
func TestWritesAreMadeDurableBeforeTheyAreSeen(t *testing.T) {
	for name, write := range map[string]func(path string) error{
		"Write":           func(path string) error { return WriteFile(path, []byte("new"), 0o600) },
		"CreateExclusive": func(path string) error { return CreateExclusive(path, []byte("new"), 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if name == "Write" {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var events []string
			seen := func() string {
				b, err := os.ReadFile(path)
				if err != nil {
					return "nothing"
				}
				return string(b)
			}
			oldFile, oldFolder := syncFile, syncFolder
			t.Cleanup(func() { syncFile, syncFolder = oldFile, oldFolder })
			syncFile = func(f *os.File) error {
				data, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, "file "+string(data)+" synced, path holds "+seen())
				return f.Sync()
			}
			syncFolder = func(d *os.File) error {
				events = append(events, "folder synced, path holds "+seen())
				return d.Sync()
			}
			if err := write(path); err != nil {
				t.Fatal(err)
			}
			before := map[string]string{"Write": "old", "CreateExclusive": "nothing"}[name]
			want := []string{"file new synced, path holds " + before, "folder synced, path holds new"}
			if !slices.Equal(events, want) {
				t.Fatalf("events %q, want %q", events, want)
			}
		})
	}
}
