//go:build unix

package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// snapshots -> some folder used to have that folder chmodded to 0700 and the snapshot written
// into it; quota/ the same for the census.
func TestSnapshotAndCensusFoldersMustBePrivate(t *testing.T) {
	state := t.TempDir()
	elsewhere := t.TempDir()
	os.Chmod(elsewhere, 0o755)
	snapshots, quota := SnapshotDir(state), filepath.Join(state, "quota")
	os.Symlink(elsewhere, snapshots)
	os.Symlink(elsewhere, quota)
	var pe *fsutil.PrivateDirError

	if _, _, err := SaveSnapshot(context.Background(), nil, snapshots, "", SnapshotMeta{Profile: "prod", Time: time.Now()}); !errors.As(err, &pe) {
		t.Fatalf("SaveSnapshot: err = %v", err)
	}
	if _, err := ListSnapshots(snapshots, "prod", "e", "o"); !errors.As(err, &pe) {
		t.Fatalf("ListSnapshots: err = %v", err)
	}
	c := &Counts{Time: time.Now().UTC(), Profile: "prod", Totals: map[string]int{}}
	if _, err := SaveCounts(quota, "prod", c); !errors.As(err, &pe) {
		t.Fatalf("SaveCounts: err = %v", err)
	}
	if _, _, err := LatestCounts(quota, "prod", "e", "o"); !errors.As(err, &pe) {
		t.Fatalf("LatestCounts: err = %v", err)
	}
	if fi, _ := os.Stat(elsewhere); fi.Mode().Perm() != 0o755 {
		t.Fatalf("the link's target was chmodded to %v", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("written through the link: %v", entries)
	}
}

// A census planted as a symlink in the quota folder is not read as a baseline.
func TestLatestCountsRefusesASymlinkedCensus(t *testing.T) {
	dir := t.TempDir()
	c := &Counts{Time: time.Now().UTC(), Profile: "prod", Endpoint: "e", Org: "o", Totals: map[string]int{Wallets: 1}}
	path, err := SaveCounts(t.TempDir(), "prod", c)
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink(path, filepath.Join(dir, filepath.Base(path)))
	if _, _, err := LatestCounts(dir, "prod", "e", "o"); !errors.Is(err, fsutil.ErrSymlink) {
		t.Fatalf("err = %v", err)
	}
}
