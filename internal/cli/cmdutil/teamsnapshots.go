package cmdutil

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/team"
)

// OpenStateStore opens the team store of profile's state backend ("" for the top-level state;
// WAASCTL_STATE_DSN wins) with its schema checked, and a func that closes what it opened; nil
// when that state is local. The Factory's store is shared when the DSN is the top-level one.
func OpenStateStore(ctx context.Context, f *Factory, profile string, getenv func(string) string) (*team.Store, func(), error) {
	dsn, err := StateDSN(f, profile, getenv)
	if err != nil || dsn == "" {
		return nil, nil, err
	}
	s, done := (*team.Store)(nil), func() {}
	if top, _ := StateDSN(f, "", getenv); top == dsn && f.TeamStore != nil {
		s, err = f.TeamStore()
	} else if s, err = team.Open(ctx, dsn); err == nil {
		done = s.Close
	}
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		done()
		return nil, nil, err
	}
	return s, done, nil
}

// TeamSnapshotName is a snapshot's name in the team store: its default file name, whatever file
// it was written to, so that names are alike from every host.
func TeamSnapshotName(meta inventory.SnapshotMeta) string {
	return filepath.Base(inventory.SnapshotFileName("", meta.Profile, meta.Time))
}

// ShareSnapshot puts the snapshot at path, just written on this host, in the team store s: its
// index entry (name, profile, time, header, size, SHA-256, this host and path) and, up to
// team.MaxSnapshotContent, its content. Larger ones are indexed only; their content stays at
// path. A snapshot that looks like it holds a private key is refused (team.ErrSnapshotSecret).
func ShareSnapshot(ctx context.Context, s *team.Store, path string) (team.SnapshotInfo, error) {
	f, err := fsutil.Open(ctx, path)
	if err != nil {
		return team.SnapshotInfo{}, err
	}
	defer f.Close()
	meta, err := inventory.ReadSnapshotHeader(f)
	if err != nil {
		return team.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return team.SnapshotInfo{}, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	info := team.SnapshotInfo{Name: TeamSnapshotName(meta), Profile: meta.Profile, TakenAt: meta.Time, Path: path}
	fi, err := f.Stat()
	if err != nil {
		return info, err
	}
	if fi.Size() <= team.MaxSnapshotContent {
		content, err := fsutil.ReadAll(f, "snapshot", team.MaxSnapshotContent)
		if err != nil {
			return info, err
		}
		return s.PutSnapshot(ctx, info, content)
	}
	// Too big to keep: hashed as it streams, the header kept for choosing baselines.
	h, size := sha256.New(), &byteCounter{}
	r := bufio.NewReader(fsutil.LineLimitReader(io.TeeReader(f, io.MultiWriter(h, size)), inventory.MaxSnapshotLine))
	header, err := r.ReadString('\n')
	if err != nil {
		return info, fmt.Errorf("snapshot %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return info, fmt.Errorf("snapshot %s: %w", path, err)
	}
	info.Header, info.Size, info.SHA256 = strings.TrimSuffix(header, "\n"), size.n, hex.EncodeToString(h.Sum(nil))
	return s.IndexSnapshot(ctx, info)
}

// SharedSnapshotNote says what ShareSnapshot stored, for stderr; baseline says whether the
// snapshot can serve as one (an incident assessment's own cannot).
func SharedSnapshotNote(s *team.Store, info team.SnapshotInfo, baseline bool) string {
	if info.HasContent {
		msg := fmt.Sprintf("snapshot stored in the team store (%s) as %s, content and all", s, info.Name)
		if baseline {
			msg += ": any host of the team can use it as a baseline"
		}
		return msg
	}
	return fmt.Sprintf("snapshot indexed in the team store (%s) as %s; at %d bytes it is over the store's %d MiB limit, so its content stays on this host at %s", s, info.Name, info.Size, team.MaxSnapshotContent>>20, info.Path)
}

// FetchSnapshot writes the team store's snapshot name into dir (this host's snapshot folder,
// created 0700) as a 0600 file of the same name, its hash checked, and returns its path. A file
// of that name already there is kept if it holds the same content, and never replaced if not:
// the database's writers must not be able to change this host's snapshots.
func FetchSnapshot(ctx context.Context, s *team.Store, dir, name string) (string, error) {
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("snapshot %q: not a snapshot name", name)
	}
	content, err := s.SnapshotContent(ctx, name)
	if err != nil {
		return "", err
	}
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	have, err := fsutil.ReadFileNoFollow(path)
	switch {
	case err == nil && string(have) == string(content):
		return path, nil
	case err == nil:
		return "", fmt.Errorf("snapshot %s: this host already has a different snapshot of that name, %s: pass that file with --since, or move it away", name, path)
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	return path, fsutil.CreateExclusive(path, content, 0o600)
}

type byteCounter struct{ n int64 }

func (c *byteCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
