package rotation

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// History returns the archived journals of profile's finished rotations in dir (the state
// folder), oldest first. An incident assessment reads them to learn when a key was created and
// replaced, and which rotation was an emergency. A file that is not a readable journal of
// profile (the glob for "prod" also matches "prod-eu") is skipped.
func History(dir, profile string) ([]*Journal, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	history := filepath.Join(dir, "journals", "history")
	// Like the active journal: one planted by whoever can write the folder must not be read.
	if err := checkPrivate(history); err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(filepath.Join(history, profile+"-*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Journal
	for _, path := range matches {
		data, err := readLimited(path, maxJournalSize)
		if err != nil {
			continue
		}
		if j, reason := decodeJournal(data, profile); reason == "" {
			out = append(out, j)
		}
	}
	slices.SortStableFunc(out, func(a, b *Journal) int { return a.StartedAt.Compare(b.StartedAt) })
	return out, nil
}

func checkPrivate(dir string) error {
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := fsutil.CheckPrivateDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
