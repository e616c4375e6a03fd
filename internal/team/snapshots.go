package team

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxSnapshotContent is the largest snapshot whose content the store keeps; larger ones are
// indexed only (name, size, hash), their content left on the host that took them. 8 MiB holds a
// snapshot of about 100,000 resources.
const MaxSnapshotContent = 8 << 20

// SnapshotInfo is one entry of the snapshot index.
type SnapshotInfo struct {
	Name       string    `json:"name"`
	Profile    string    `json:"profile"`
	TakenAt    time.Time `json:"takenAt"`
	Host       string    `json:"host"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	HasContent bool      `json:"hasContent"`
}

// PutSnapshot indexes a snapshot and, up to MaxSnapshotContent, keeps its content. Snapshots
// hold resource names, never a secret; the caller has checked.
func (s *Store) PutSnapshot(ctx context.Context, info SnapshotInfo, content []byte) (SnapshotInfo, error) {
	sum := sha256.Sum256(content)
	info.Size, info.SHA256, info.Host = int64(len(content)), hex.EncodeToString(sum[:]), s.Host
	var keep []byte
	if len(content) <= MaxSnapshotContent {
		keep = content
	}
	info.HasContent = keep != nil
	if _, err := s.pool.Exec(ctx, `INSERT INTO waasctl.snapshots (name, profile, taken_at, host, size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO UPDATE SET profile = excluded.profile, taken_at = excluded.taken_at, host = excluded.host, size = excluded.size, sha256 = excluded.sha256, content = excluded.content`,
		info.Name, info.Profile, info.TakenAt, info.Host, info.Size, info.SHA256, keep); err != nil {
		return info, s.errorf("indexing snapshot %s: %w", info.Name, err)
	}
	return info, nil
}

// Snapshots lists the profile's snapshots, oldest first ("" lists every profile's).
func (s *Store) Snapshots(ctx context.Context, profile string) ([]SnapshotInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, profile, taken_at, host, size, sha256, content IS NOT NULL FROM waasctl.snapshots
		WHERE $1 = '' OR profile = $1 ORDER BY taken_at, name`, profile)
	if err != nil {
		return nil, s.errorf("listing snapshots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SnapshotInfo, error) {
		var x SnapshotInfo
		err := r.Scan(&x.Name, &x.Profile, &x.TakenAt, &x.Host, &x.Size, &x.SHA256, &x.HasContent)
		return x, err
	})
	if err != nil {
		return nil, s.errorf("listing snapshots: %w", err)
	}
	return out, nil
}

// SnapshotContent returns a snapshot's content, checked against its recorded hash.
func (s *Store) SnapshotContent(ctx context.Context, name string) ([]byte, error) {
	var content []byte
	var sum string
	err := s.pool.QueryRow(ctx, `SELECT content, sha256 FROM waasctl.snapshots WHERE name = $1`, name).Scan(&content, &sum)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("no snapshot %s in the team store", name)
	}
	if err != nil {
		return nil, s.errorf("reading snapshot %s: %w", name, err)
	}
	if content == nil {
		return nil, fmt.Errorf("snapshot %s is indexed in the team store but was too big to keep there (over %d bytes): it is on the host that took it", name, MaxSnapshotContent)
	}
	if got := sha256.Sum256(content); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("snapshot %s in the team store does not match its recorded hash", name)
	}
	return content, nil
}
