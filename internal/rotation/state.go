package rotation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// Version is a journal's version as its backend counts it: 0 for "no journal", anything else
// names one saved state of it. The engine passes the version it loaded or last saved to every
// save, so that a holder that lost the rotation to another host never overwrites its journal.
type Version = int64

// ErrNoJournal is matched by StateBackend.LoadJournal's error when the profile has no journal:
// no rotation in progress, or it was archived.
var ErrNoJournal = errors.New("no rotation journal for this profile")

// ErrFenced is matched by a save or archive refused because the journal is no longer at the
// version this process last saw: another process (in team mode, another host) took the
// rotation over or finished it. The holder must stop without any further change.
var ErrFenced = errors.New("another host took the rotation over")

// StateBackend is where a profile's rotation state lives: its journal, its lock and the audit
// log. LocalState keeps it in the state folder; internal/team keeps it in the team store so that
// a rotation started on one host can be finished on another. Both pass the contract suite in
// internal/rotation/statetest.
type StateBackend interface {
	// LoadJournal returns the journal and its version; an error matching ErrNoJournal when
	// there is none.
	LoadJournal(ctx context.Context, profile string) (*Journal, Version, error)
	// SaveJournal writes j if the stored journal is still at expected (0: none), returning the
	// new version; otherwise an error matching ErrFenced, and nothing written. The journal's
	// secret guard runs first (Journal.Encode).
	SaveJournal(ctx context.Context, j *Journal, expected Version) (Version, error)
	// ArchiveJournal moves the profile's finished journal, still at expected, to the history;
	// otherwise an error matching ErrFenced.
	ArchiveJournal(ctx context.Context, profile string, expected Version) error
	// AcquireLock takes the profile's lock without waiting, or returns a *LockedError naming
	// the holder (exit 6).
	AcquireLock(ctx context.Context, profile, command string) (HeldLock, error)
	// AppendAudit appends e, chained to the last entry, naming this host (and in team mode
	// this host's age identity). guard refuses the profile's keys in any encoding; an entry
	// that looks like it holds a private key is refused whatever the guard.
	AppendAudit(ctx context.Context, e auditlog.Entry, guard *credentials.Guard) (auditlog.Entry, error)
}

// HeldLock is a profile's lock as a StateBackend gives it.
type HeldLock interface {
	// Check fails (matching ErrLockLost) once the lock is no longer this process's: the engine
	// calls it before every external change (issuer create/revoke, sink delivery and restart,
	// keyring Put).
	Check(ctx context.Context) error
	// SetStep records the rotation's step where the backend shows it to others (team mode).
	SetStep(ctx context.Context, step string) error
	Release(ctx context.Context) error
}

// lockHistory is what a local lock knows of the holder before it, for the audit log.
type lockHistory interface {
	history() (tookOver, abandoned *Holder)
}

// LocalState is the StateBackend of one host: journals in Dir/journals, the flock lock in
// Dir/locks, the audit log in Audit (nil: none written). A journal's version is derived from
// its bytes, so that a save still refuses to overwrite a journal another process changed
// (one that took the lock over with --force).
type LocalState struct {
	Dir   string
	Audit *auditlog.Log
	// Holder's zero fields are filled in with this process's facts; Force takes over a stale
	// lock (see AcquireLock).
	Holder Holder
	Force  bool
}

var _ StateBackend = (*LocalState)(nil)

// contentVersion is the version of a local journal: the first 8 bytes of its SHA-256, never 0.
func contentVersion(data []byte) Version {
	sum := sha256.Sum256(data)
	v := Version(binary.BigEndian.Uint64(sum[:8]) >> 1) // positive
	if v == 0 {
		v = 1
	}
	return v
}

// currentVersion reads the version of the journal file at path: 0 if there is none.
func currentVersion(path string) (Version, []byte, error) {
	data, err := readLimited(path, maxJournalSize)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading the rotation journal: %w", err)
	}
	return contentVersion(data), data, nil
}

func (s *LocalState) LoadJournal(_ context.Context, profile string) (*Journal, Version, error) {
	j, err := LoadJournal(s.Dir, profile)
	if err != nil {
		return nil, 0, err
	}
	if j == nil {
		return nil, 0, fmt.Errorf("profile %s: %w", profile, ErrNoJournal)
	}
	v, _, err := currentVersion(journalPath(s.Dir, profile))
	if err != nil {
		return nil, 0, err
	}
	if v == 0 { // removed in between
		return nil, 0, fmt.Errorf("profile %s: %w", profile, ErrNoJournal)
	}
	return j, v, nil
}

func (s *LocalState) SaveJournal(_ context.Context, j *Journal, expected Version) (Version, error) {
	if err := checkProfile(j.Profile); err != nil {
		return 0, err
	}
	data, err := j.Encode()
	if err != nil {
		return 0, err
	}
	if have, _, err := currentVersion(journalPath(s.Dir, j.Profile)); err != nil {
		return 0, err
	} else if have != expected {
		return 0, &localFencedError{profile: j.Profile, gone: have == 0}
	}
	if err := j.Save(s.Dir); err != nil {
		return 0, err
	}
	return contentVersion(data), nil
}

func (s *LocalState) ArchiveJournal(_ context.Context, profile string, expected Version) error {
	if err := checkProfile(profile); err != nil {
		return err
	}
	path := journalPath(s.Dir, profile)
	have, data, err := currentVersion(path)
	if err != nil {
		return err
	}
	if have != expected {
		return &localFencedError{profile: profile, gone: have == 0}
	}
	j, err := DecodeJournal(data, profile, path)
	if err != nil {
		return err
	}
	_, err = j.moveToHistory(s.Dir)
	return err
}

// localFencedError is ErrFenced in the state folder.
type localFencedError struct {
	profile string
	gone    bool
}

func (e *localFencedError) Error() string {
	if e.gone {
		return fmt.Sprintf("profile %s: the rotation journal this process was writing is gone: another process finished or aborted the rotation; stopping without further changes", e.profile)
	}
	return fmt.Sprintf("profile %s: the rotation journal was changed by another process since this one saved it: it took the rotation over; stopping without further changes", e.profile)
}

func (e *localFencedError) Is(target error) bool { return target == ErrFenced }

func (s *LocalState) AcquireLock(_ context.Context, profile, command string) (HeldLock, error) {
	h := s.Holder
	if command != "" {
		h.Command = command
	}
	l, err := AcquireLock(s.Dir, profile, h, s.Force)
	if err != nil {
		return nil, err
	}
	return localLock{l}, nil
}

func (s *LocalState) AppendAudit(_ context.Context, e auditlog.Entry, guard *credentials.Guard) (auditlog.Entry, error) {
	if s.Audit == nil {
		return e, nil
	}
	s.Audit.GuardAgainst(guard)
	return s.Audit.Append(e)
}

// localLock is a *Lock as a HeldLock.
type localLock struct{ l *Lock }

func (l localLock) Check(context.Context) error           { return l.l.Verify() }
func (l localLock) SetStep(context.Context, string) error { return nil }
func (l localLock) Release(context.Context) error         { return l.l.Release() }
func (l localLock) history() (*Holder, *Holder)           { return l.l.TookOver, l.l.Abandoned }

// moveToHistory renames the journal file into journals/history (see Archive).
func (j *Journal) moveToHistory(dir string) (string, error) {
	history := filepath.Join(dir, "journals", "history")
	if err := fsutil.MkdirPrivate(history); err != nil {
		return "", fmt.Errorf("creating the journal history folder: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.json", j.Profile, j.StartedAt.UTC().Format("20060102T150405Z"), j.ID)
	dest := filepath.Join(history, name)
	if err := os.Rename(journalPath(dir, j.Profile), dest); err != nil {
		return "", fmt.Errorf("archiving the rotation journal: %w", err)
	}
	// The rename touches two folders; both must reach the disk for it to survive a power cut.
	syncDir(filepath.Dir(journalPath(dir, j.Profile)))
	syncDir(history)
	return dest, nil
}
