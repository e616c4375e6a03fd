package team

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/rotation"
)

// ErrNoJournal: the profile has no journal (no rotation in progress, or it was archived). It is
// the rotation engine's own (rotation.ErrNoJournal).
var ErrNoJournal = rotation.ErrNoJournal

// ErrFenced is matched by SaveJournal's and ArchiveJournal's error when the journal is not at
// the version the writer last read: another host moved it (or took the rotation over). The
// writer must stop making changes.
var ErrFenced = errors.New("the rotation journal was changed by another host")

// FencedError says which version the writer expected and which it found.
type FencedError struct {
	Profile         string
	Expected, Found int64 // Found is 0 when the journal is gone
	By              string
}

func (e *FencedError) Error() string {
	if e.Found == 0 {
		return fmt.Sprintf("profile %s: the rotation journal this host was writing (version %d) is gone: another host finished or aborted the rotation; stopping without further changes", e.Profile, e.Expected)
	}
	return fmt.Sprintf("profile %s: the rotation journal is at version %d (written by %s), not %d as this host last saw: another host took the rotation over; stopping without further changes", e.Profile, e.Found, e.By, e.Expected)
}

// Is matches ErrFenced and the engine's rotation.ErrFenced.
func (e *FencedError) Is(target error) bool {
	return target == ErrFenced || target == rotation.ErrFenced
}

// JournalVersion is a journal's row version: 0 for "no journal", then 1, 2, ... per save.
type JournalVersion = int64

// LoadJournal returns the profile's journal as the engine saved it, and its version. It
// returns an error matching ErrNoJournal when there is none.
func (s *Store) LoadJournal(ctx context.Context, profile string) ([]byte, JournalVersion, error) {
	var body string
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT body, version FROM waasctl.journals WHERE profile = $1`, profile).Scan(&body, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, fmt.Errorf("profile %s: %w", profile, ErrNoJournal)
	}
	if err != nil {
		return nil, 0, s.errorf("reading the journal of %s: %w", profile, err)
	}
	return []byte(body), v, nil
}

// SaveJournal writes body as the profile's journal if it is still at version expected (0: there
// must be none), and returns the new version. Otherwise nothing is written and the error matches
// ErrFenced: this compare-and-set is what keeps a stalled holder that lost its lock from
// overwriting the journal of the host that took over. body must be JSON; the caller has checked
// it holds no secret.
func (s *Store) SaveJournal(ctx context.Context, profile string, body []byte, expected JournalVersion) (JournalVersion, error) {
	return s.saveJournal(ctx, s.pool, profile, body, expected)
}

// execer is a connection or the pool.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *Store) saveJournal(ctx context.Context, db execer, profile string, body []byte, expected JournalVersion) (JournalVersion, error) {
	if !json.Valid(body) {
		return 0, fmt.Errorf("profile %s: refusing to save a journal that is not JSON", profile)
	}
	var tag interface{ RowsAffected() int64 }
	var err error
	if expected == 0 {
		tag, err = db.Exec(ctx, `INSERT INTO waasctl.journals (profile, body, version, updated_by) VALUES ($1, $2, 1, $3) ON CONFLICT (profile) DO NOTHING`,
			profile, string(body), s.who())
	} else {
		tag, err = db.Exec(ctx, `UPDATE waasctl.journals SET body = $2, version = version + 1, updated_at = now(), updated_by = $4 WHERE profile = $1 AND version = $3`,
			profile, string(body), expected, s.who())
	}
	if err != nil {
		return 0, s.errorf("saving the journal of %s: %w", profile, err)
	}
	if tag.RowsAffected() == 1 {
		return expected + 1, nil
	}
	return 0, s.fenced(ctx, profile, expected)
}

func (s *Store) fenced(ctx context.Context, profile string, expected int64) error {
	e := &FencedError{Profile: profile, Expected: expected}
	err := s.pool.QueryRow(ctx, `SELECT version, updated_by FROM waasctl.journals WHERE profile = $1`, profile).Scan(&e.Found, &e.By)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s.errorf("saving the journal of %s: %w", profile, err)
	}
	return e
}

// maxArchivedJournals bounds what JournalHistory reads: the newest rotations of a profile, far
// more than years of scheduled rotations.
const maxArchivedJournals = 1000

// JournalHistory returns the bodies of the profile's archived (finished) journals, oldest first,
// the newest maxArchivedJournals at most; a body over 1 MiB (far more than waasctl writes) is
// not read.
func (s *Store) JournalHistory(ctx context.Context, profile string) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM (SELECT body, archived_at FROM waasctl.journal_archive
		WHERE profile = $1 AND octet_length(body) <= $2 ORDER BY archived_at DESC LIMIT $3) newest ORDER BY archived_at`,
		profile, 1<<20, maxArchivedJournals)
	if err != nil {
		return nil, s.errorf("reading the rotation history of %s: %w", profile, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, s.errorf("reading the rotation history of %s: %w", profile, err)
		}
		out = append(out, []byte(body))
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("reading the rotation history of %s: %w", profile, err)
	}
	return out, nil
}

// ArchiveJournal moves a finished journal to the archive if it is still at version expected,
// in one transaction; otherwise the error matches ErrFenced.
func (s *Store) ArchiveJournal(ctx context.Context, profile string, expected JournalVersion) error {
	var fenced bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM waasctl.journals WHERE profile = $1 AND version = $2 RETURNING profile, version, body)
			INSERT INTO waasctl.journal_archive (profile, version, body) SELECT profile, version, body FROM gone`, profile, expected)
		if err != nil {
			return s.errorf("archiving the journal of %s: %w", profile, err)
		}
		fenced = tag.RowsAffected() == 0
		return nil
	})
	if err != nil {
		return err
	}
	if fenced {
		return s.fenced(ctx, profile, expected)
	}
	return nil
}

// InProgress is a rotation whose journal is in the store.
type InProgress struct {
	Profile   string `json:"profile"`
	Step      string `json:"step"`
	Version   int64  `json:"version"`
	UpdatedBy string `json:"updatedBy"`
}

// Rotations lists the journals in the store: rotations in progress (or stopped, to resume).
func (s *Store) Rotations(ctx context.Context) ([]InProgress, error) {
	rows, err := s.pool.Query(ctx, `SELECT profile, coalesce(body::jsonb->>'step', ''), version, updated_by FROM waasctl.journals ORDER BY profile COLLATE "C"`)
	if err != nil {
		return nil, s.errorf("listing journals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InProgress, error) {
		var x InProgress
		err := r.Scan(&x.Profile, &x.Step, &x.Version, &x.UpdatedBy)
		return x, err
	})
	if err != nil {
		return nil, s.errorf("listing journals: %w", err)
	}
	return out, nil
}
