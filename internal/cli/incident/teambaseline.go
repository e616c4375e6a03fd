package incident

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/team"
)

// withTeamSnapshots adds to snaps (this host's) the profile's snapshots in the team store of
// the same endpoint and organization that this host does not have, judged by their stored
// headers: no content is read until one is chosen. Each gets the path in dir it would be
// copied to, the key of the returned map.
func withTeamSnapshots(ctx context.Context, s *team.Store, dir string, snaps []inventory.SnapshotFile, meta inventory.SnapshotMeta) ([]inventory.SnapshotFile, map[string]team.SnapshotInfo, error) {
	infos, err := s.Snapshots(ctx, meta.Profile)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, sf := range snaps {
		have[filepath.Base(sf.Path)] = true
	}
	shared := map[string]team.SnapshotInfo{}
	for _, info := range infos {
		if have[info.Name] || info.Name != filepath.Base(info.Name) {
			continue
		}
		m, err := inventory.ReadSnapshotHeader(strings.NewReader(info.Header + "\n"))
		if err != nil || m.Profile != meta.Profile || m.Endpoint != meta.Endpoint || m.Organization != meta.Organization {
			continue // not a snapshot of this estate
		}
		path := filepath.Join(dir, info.Name)
		snaps = append(snaps, inventory.SnapshotFile{Path: path, SnapshotMeta: m})
		shared[path] = info
	}
	slices.SortStableFunc(snaps, func(a, b inventory.SnapshotFile) int { return a.Time.Compare(b.Time) })
	return snaps, shared, nil
}

// fetchBaseline copies the chosen baseline from the team store to its path in dir, and says
// in its reason where it came from.
func fetchBaseline(ctx context.Context, s *team.Store, dir string, info team.SnapshotInfo, b *inventory.Baseline) error {
	if !info.HasContent {
		where := "on host " + info.Host
		if info.Path != "" {
			where += " at " + info.Path
		}
		return fmt.Errorf("the baseline is snapshot %s, which the team store indexes but does not keep (%d bytes, over its %d MiB limit): it is %s; copy it to this host and pass it with --since FILE", info.Name, info.Size, team.MaxSnapshotContent>>20, where)
	}
	path, err := cmdutil.FetchSnapshot(ctx, s, dir, info.Name)
	if err != nil {
		return fmt.Errorf("baseline %s from the team store: %w", info.Name, err)
	}
	b.Path = path
	b.Reason += fmt.Sprintf(" (from the team store: taken on host %s)", info.Host)
	return nil
}

// sinceFromStore finds --since NAME, which is no file here, in the team store (by its name, or
// the name of the path given) and copies it into dir; "" when there is no store or no such
// snapshot.
func sinceFromStore(ctx context.Context, s *team.Store, dir, since string) (string, error) {
	if s == nil {
		return "", nil
	}
	path, err := cmdutil.FetchSnapshot(ctx, s, dir, filepath.Base(since))
	if errors.Is(err, team.ErrNoSnapshot) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("--since %s: %w", since, err)
	}
	return path, nil
}
