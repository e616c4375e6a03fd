package team

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
)

// MaxSnapshotContent is the largest snapshot whose content the store keeps; larger ones are
// indexed only (name, header, size, hash, and the host and path that hold them), their content
// left on the host that took them. 8 MiB holds a snapshot of about 28,000 resources (about 300
// bytes a resource: a sandbox estate of 4,020 resources made a 1,203,823-byte snapshot).
const MaxSnapshotContent = 8 << 20

// maxSnapshotHeader bounds the header line kept in the index (a header is a few hundred bytes).
const maxSnapshotHeader = 16 << 10

// SnapshotInfo is one entry of the snapshot index.
type SnapshotInfo struct {
	Name       string    `json:"name"`
	Profile    string    `json:"profile"`
	TakenAt    time.Time `json:"takenAt"`
	Host       string    `json:"host"`
	Path       string    `json:"path,omitempty"` // on Host
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	HasContent bool      `json:"hasContent"`
	// Header is the snapshot's first line (internal/inventory's header record): what a
	// baseline is chosen by.
	Header string `json:"-"`
}

// ErrSnapshotSecret: a snapshot that looks like it holds private key material is not stored.
var ErrSnapshotSecret = errors.New("looks like it holds a private key")

// PutSnapshot indexes a snapshot and, up to MaxSnapshotContent, keeps its content; info.Path
// says where the host that took it keeps it. Snapshots hold resource names, never a secret: one
// that looks like it holds key material (credentials.LooksSecret) is refused, whatever its
// size, and nothing is stored.
func (s *Store) PutSnapshot(ctx context.Context, info SnapshotInfo, content []byte) (SnapshotInfo, error) {
	if credentials.LooksSecret(string(content)) {
		return info, fmt.Errorf("snapshot %s not stored in the team store: it %w", info.Name, ErrSnapshotSecret)
	}
	sum := sha256.Sum256(content)
	info.Size, info.SHA256 = int64(len(content)), hex.EncodeToString(sum[:])
	header, _, _ := bytes.Cut(content[:min(len(content), maxSnapshotHeader)], []byte("\n"))
	info.Header = string(header)
	var keep []byte
	if len(content) <= MaxSnapshotContent {
		keep = content
	}
	return s.putSnapshot(ctx, info, keep)
}

// IndexSnapshot indexes a snapshot too big to keep (over MaxSnapshotContent) from what its
// taker read of it: info's Size, SHA256 and Header, and the Path where it stays.
func (s *Store) IndexSnapshot(ctx context.Context, info SnapshotInfo) (SnapshotInfo, error) {
	for _, v := range []string{info.Header, info.Path, info.Name} {
		if credentials.LooksSecret(v) {
			return info, fmt.Errorf("snapshot %s not indexed in the team store: it %w", info.Name, ErrSnapshotSecret)
		}
	}
	return s.putSnapshot(ctx, info, nil)
}

func (s *Store) putSnapshot(ctx context.Context, info SnapshotInfo, keep []byte) (SnapshotInfo, error) {
	info.Host, info.HasContent = s.Host, keep != nil
	if len(info.Header) > maxSnapshotHeader {
		info.Header = ""
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO waasctl.snapshots (name, profile, taken_at, host, size, sha256, content, path, header) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (name) DO UPDATE SET profile = excluded.profile, taken_at = excluded.taken_at, host = excluded.host, size = excluded.size, sha256 = excluded.sha256, content = excluded.content, path = excluded.path, header = excluded.header`,
		info.Name, info.Profile, info.TakenAt, info.Host, info.Size, info.SHA256, keep, info.Path, info.Header); err != nil {
		return info, s.errorf("indexing snapshot %s: %w", info.Name, err)
	}
	return info, nil
}

// Snapshots lists the profile's snapshots, oldest first ("" lists every profile's).
func (s *Store) Snapshots(ctx context.Context, profile string) ([]SnapshotInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, profile, taken_at, host, size, sha256, content IS NOT NULL, path, header FROM waasctl.snapshots
		WHERE $1 = '' OR profile = $1 ORDER BY taken_at, name`, profile)
	if err != nil {
		return nil, s.errorf("listing snapshots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SnapshotInfo, error) {
		var x SnapshotInfo
		err := r.Scan(&x.Name, &x.Profile, &x.TakenAt, &x.Host, &x.Size, &x.SHA256, &x.HasContent, &x.Path, &x.Header)
		return x, err
	})
	if err != nil {
		return nil, s.errorf("listing snapshots: %w", err)
	}
	return out, nil
}

// ErrNoSnapshot: the store has no snapshot of that name.
var ErrNoSnapshot = errors.New("no such snapshot in the team store")

// SnapshotContent returns a snapshot's content, checked against its recorded hash.
func (s *Store) SnapshotContent(ctx context.Context, name string) ([]byte, error) {
	var content []byte
	var sum, host, path string
	err := s.pool.QueryRow(ctx, `SELECT content, sha256, host, path FROM waasctl.snapshots WHERE name = $1`, name).Scan(&content, &sum, &host, &path)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %s: %w", name, ErrNoSnapshot)
	}
	if err != nil {
		return nil, s.errorf("reading snapshot %s: %w", name, err)
	}
	if content == nil {
		where := "on host " + host
		if path != "" {
			where += " at " + path
		}
		return nil, fmt.Errorf("snapshot %s is indexed in the team store but was too big to keep there (over %d bytes): it is %s", name, MaxSnapshotContent, where)
	}
	if got := sha256.Sum256(content); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("snapshot %s in the team store does not match its recorded hash", name)
	}
	return content, nil
}
