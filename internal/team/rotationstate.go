package team

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
)

// RotationState is the team store as the rotation engine's state backend: journals in the
// journals table written with compare-and-set, the profile's session advisory lock with its
// holder row, and the shared audit table. A rotation started on one host is thereby resumed or
// aborted on another, and a holder that lost its session is fenced.
type RotationState struct {
	s *Store
	// identity is this host's age recipient ("" without one), named in each audit row.
	identity string
	// held is the lock AcquireLock took, if any: journals are saved on its session.
	held *Lock
}

var _ rotation.StateBackend = (*RotationState)(nil)

// RotationState returns the store as a rotation.StateBackend; identity is this host's age
// recipient ("age1...", "" without one), recorded with each audit entry it appends.
func (s *Store) RotationState(identity string) *RotationState {
	return &RotationState{s: s, identity: identity}
}

// Store is the team store under the backend.
func (r *RotationState) Store() *Store { return r.s }

func (r *RotationState) LoadJournal(ctx context.Context, profile string) (*rotation.Journal, rotation.Version, error) {
	body, v, err := r.s.LoadJournal(ctx, profile)
	if err != nil {
		return nil, 0, err
	}
	j, err := rotation.DecodeJournal(body, profile, fmt.Sprintf("of profile %s in the team store (%s)", profile, r.s))
	if err != nil {
		return nil, 0, err
	}
	return j, v, nil
}

// History returns the profile's finished rotations archived in the team store, oldest first
// (rotation.History's, for team mode): a rotation another host ran, an emergency one among them,
// is known to every host's incident assessment. A body that is not a journal of profile is
// left out, and the error then says how many were (with the others returned): a history with
// a rotation missing must not pass as whole.
func (r *RotationState) History(ctx context.Context, profile string) ([]*rotation.Journal, error) {
	bodies, err := r.s.JournalHistory(ctx, profile)
	if err != nil {
		return nil, err
	}
	var out []*rotation.Journal
	unread, firstErr := 0, error(nil)
	for _, b := range bodies {
		j, err := rotation.DecodeJournal(b, profile, "archived in the team store")
		if err != nil {
			unread++
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		out = append(out, j)
	}
	slices.SortStableFunc(out, func(a, b *rotation.Journal) int { return a.StartedAt.Compare(b.StartedAt) })
	if unread > 0 {
		what := "1 rotation journal"
		if unread > 1 {
			what = fmt.Sprintf("%d rotation journals", unread)
		}
		return out, fmt.Errorf("%s of %s archived in the team store cannot be read (%v)", what, profile, firstErr)
	}
	return out, nil
}

func (r *RotationState) SaveJournal(ctx context.Context, j *rotation.Journal, expected rotation.Version) (rotation.Version, error) {
	body, err := j.Encode() // the journal's validation and secret guard, as for a file
	if err != nil {
		return 0, err
	}
	if r.held != nil && r.held.profile == j.Profile {
		return r.held.saveJournal(ctx, body, expected)
	}
	return r.s.SaveJournal(ctx, j.Profile, body, expected)
}

func (r *RotationState) ArchiveJournal(ctx context.Context, profile string, expected rotation.Version) error {
	return r.s.ArchiveJournal(ctx, profile, expected)
}

func (r *RotationState) AcquireLock(ctx context.Context, profile, command string) (rotation.HeldLock, error) {
	l, err := r.s.AcquireLock(ctx, profile, command)
	var locked *LockedError
	if errors.As(err, &locked) {
		// The engine and the commands know the rotation package's error (exit 6).
		return nil, &rotation.LockedError{Profile: profile, Holder: locked.Holder, Remote: true, Message: locked.Error()}
	}
	if err != nil {
		return nil, err
	}
	r.held = l
	return l, nil
}

func (r *RotationState) AppendAudit(ctx context.Context, e auditlog.Entry, guard *credentials.Guard) (auditlog.Entry, error) {
	return r.s.AppendEntry(ctx, r.identity, e, guard)
}
