// Package statetest is the contract every rotation.StateBackend passes: the state folder's
// (rotation.LocalState) and the team store's (internal/team). The engine relies on exactly
// these properties for crash recovery and for fencing a holder that lost the rotation.
package statetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
)

// Options says how to reach the backends under test.
type Options struct {
	// New returns two backends over one empty shared state: two hosts (or two processes)
	// of the same team. Each call starts from empty state.
	New func(t *testing.T) (a, b rotation.StateBackend)
	// LoseLock makes the holder of profile's lock (taken from a) lose it as a dead or fenced
	// holder does: the team store's server ends its session; locally the lock file is
	// replaced, as a --force takeover does.
	LoseLock func(t *testing.T, a rotation.StateBackend, profile string)
	// VerifyAudit runs the audit log's verifier over what a appended and returns how many
	// entries it holds.
	VerifyAudit func(t *testing.T, a rotation.StateBackend) uint64
}

// Run runs the contract.
func Run(t *testing.T, o Options) {
	t.Run("JournalRoundTripWithVersions", func(t *testing.T) { journalRoundTrip(t, o) })
	t.Run("StaleSaveIsFencedAndWritesNothing", func(t *testing.T) { staleSave(t, o) })
	t.Run("Archive", func(t *testing.T) { archive(t, o) })
	t.Run("JournalGuardRefusesKeys", func(t *testing.T) { journalGuard(t, o) })
	t.Run("LockIsExclusiveAndNamesItsHolder", func(t *testing.T) { lockExclusive(t, o) })
	t.Run("CheckFailsOnceTheLockIsLost", func(t *testing.T) { lockLost(t, o) })
	t.Run("AuditAppendsChain", func(t *testing.T) { auditChain(t, o) })
}

func newJournal(t *testing.T, profile string) *rotation.Journal {
	t.Helper()
	j, err := rotation.NewJournal(profile, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mustLoad(t *testing.T, s rotation.StateBackend, profile string) (*rotation.Journal, rotation.Version) {
	t.Helper()
	j, v, err := s.LoadJournal(t.Context(), profile)
	if err != nil {
		t.Fatalf("LoadJournal(%s): %v", profile, err)
	}
	return j, v
}

func journalRoundTrip(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	if _, v, err := a.LoadJournal(ctx, "prod"); !errors.Is(err, rotation.ErrNoJournal) || v != 0 {
		t.Fatalf("LoadJournal with none = %d, %v; want ErrNoJournal", v, err)
	}
	j := newJournal(t, "prod")
	v1, err := a.SaveJournal(ctx, j, 0)
	if err != nil || v1 == 0 {
		t.Fatalf("first save = %d, %v", v1, err)
	}
	// The other host reads what the first wrote, at the same version.
	got, v := mustLoad(t, b, "prod")
	if v != v1 || got.ID != j.ID || got.Step != rotation.StepPreflight {
		t.Fatalf("B loads %s at %s, version %d; want %s at preflight, version %d", got.ID, got.Step, v, j.ID, v1)
	}
	if err := got.Advance(rotation.StepCreate, "the current key works"); err != nil {
		t.Fatal(err)
	}
	got.RequestID = "req-1"
	v2, err := b.SaveJournal(ctx, got, v)
	if err != nil || v2 == 0 || v2 == v1 {
		t.Fatalf("B's save = %d, %v; want a new version (was %d)", v2, err, v1)
	}
	back, v := mustLoad(t, a, "prod")
	if v != v2 || back.Step != rotation.StepCreate || back.RequestID != "req-1" {
		t.Fatalf("A loads step %s, request %q, version %d; want create, req-1, %d", back.Step, back.RequestID, v, v2)
	}
	// Profiles do not share journals.
	if _, _, err := a.LoadJournal(ctx, "staging"); !errors.Is(err, rotation.ErrNoJournal) {
		t.Fatalf("LoadJournal of another profile: %v", err)
	}
}

func staleSave(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	j := newJournal(t, "prod")
	v1, err := a.SaveJournal(ctx, j, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second rotation cannot start over the first.
	if _, err := b.SaveJournal(ctx, newJournal(t, "prod"), 0); !errors.Is(err, rotation.ErrFenced) {
		t.Fatalf("a second first save: %v; want ErrFenced", err)
	}
	// B takes over and moves it on; A, stalled at v1, is refused and changes nothing.
	jb, v := mustLoad(t, b, "prod")
	_ = jb.Advance(rotation.StepCreate, "taken over")
	v2, err := b.SaveJournal(ctx, jb, v)
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Advance(rotation.StepCreate, "the stalled holder")
	j.RequestID = "stale"
	if _, err := a.SaveJournal(ctx, j, v1); !errors.Is(err, rotation.ErrFenced) {
		t.Fatalf("a save at a stale version: %v; want ErrFenced", err)
	}
	now, v := mustLoad(t, a, "prod")
	if v != v2 || now.RequestID == "stale" || now.Events[len(now.Events)-1].Message != "taken over" {
		t.Fatalf("the stale save changed the journal: version %d (want %d), request %q", v, v2, now.RequestID)
	}
	if err := a.ArchiveJournal(ctx, "prod", v1); !errors.Is(err, rotation.ErrFenced) {
		t.Fatalf("an archive at a stale version: %v; want ErrFenced", err)
	}
	if _, v := mustLoad(t, b, "prod"); v != v2 {
		t.Fatalf("the stale archive changed the journal: version %d, want %d", v, v2)
	}
}

func archive(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	j := newJournal(t, "prod")
	v, err := a.SaveJournal(ctx, j, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Advance(rotation.StepAborted, "rolled back"); err != nil {
		t.Fatal(err)
	}
	if v, err = a.SaveJournal(ctx, j, v); err != nil {
		t.Fatal(err)
	}
	if err := a.ArchiveJournal(ctx, "prod", v); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.LoadJournal(ctx, "prod"); !errors.Is(err, rotation.ErrNoJournal) {
		t.Fatalf("LoadJournal after archive: %v; want ErrNoJournal", err)
	}
	// Archiving it again finds it gone: fenced, as a host whose rotation another finished.
	if err := a.ArchiveJournal(ctx, "prod", v); !errors.Is(err, rotation.ErrFenced) {
		t.Fatalf("a second archive: %v; want ErrFenced", err)
	}
	// A new rotation starts from version 0 again.
	if _, err := b.SaveJournal(ctx, newJournal(t, "prod"), 0); err != nil {
		t.Fatalf("a new rotation after the archive: %v", err)
	}
}

func journalGuard(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	_, seed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString(seed)
	j := newJournal(t, "prod")
	j.GuardAgainst(credentials.NewGuard(secret))
	_ = j.Advance(rotation.StepPreflight, "oops: "+secret)
	if _, err := a.SaveJournal(ctx, j, 0); err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("a journal holding a key was saved (or the error quotes it): %v", err)
	}
	if _, _, err := b.LoadJournal(ctx, "prod"); !errors.Is(err, rotation.ErrNoJournal) {
		t.Fatalf("after a refused save: %v; want no journal", err)
	}
}

func lockExclusive(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	la, err := a.AcquireLock(ctx, "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	if err := la.SetStep(ctx, "deliver"); err != nil {
		t.Fatal(err)
	}
	_, err = b.AcquireLock(ctx, "prod", "keys rotate")
	var le *rotation.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("a second AcquireLock: %v; want a *rotation.LockedError", err)
	}
	if le.Holder.Host == "" || le.Holder.User == "" || !strings.Contains(err.Error(), le.Holder.User+"@"+le.Holder.Host) {
		t.Fatalf("the error does not name the holder's host and user: %v (holder %+v)", err, le.Holder)
	}
	// Another profile's lock is free.
	lo, err := b.AcquireLock(ctx, "staging", "keys revoke")
	if err != nil {
		t.Fatalf("another profile's lock: %v", err)
	}
	if err := lo.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := la.Check(ctx); err != nil {
		t.Fatalf("the holder's Check: %v", err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.AcquireLock(ctx, "prod", "keys rotate --resume")
	if err != nil {
		t.Fatalf("AcquireLock after the release: %v", err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func lockLost(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	la, err := a.AcquireLock(ctx, "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(ctx)
	o.LoseLock(t, a, "prod")
	lb, err := b.AcquireLock(ctx, "prod", "keys rotate --resume")
	if err != nil {
		t.Fatalf("the lock outlived its lost holder: %v", err)
	}
	defer lb.Release(ctx)
	if err := la.Check(ctx); !errors.Is(err, rotation.ErrLockLost) {
		t.Fatalf("the lost holder's Check: %v; want ErrLockLost", err)
	}
	if err := lb.Check(ctx); err != nil {
		t.Fatalf("the new holder's Check: %v", err)
	}
}

func auditChain(t *testing.T, o Options) {
	a, b := o.New(t)
	ctx := t.Context()
	_, seed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString(seed)
	guard := credentials.NewGuard(secret)
	before := o.VerifyAudit(t, a)
	e1, err := a.AppendAudit(ctx, auditlog.Entry{Command: "keys rotate", Profile: "prod", Action: "rotate.start", Outcome: auditlog.OutcomeOK}, guard)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := b.AppendAudit(ctx, auditlog.Entry{Command: "keys rotate", Profile: "prod", Action: "rotate.create", Outcome: auditlog.OutcomeOK}, guard)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Seq != before+1 || e2.Seq != e1.Seq+1 || e1.Host == "" || e2.Prev == "" || e2.Prev == e1.Prev {
		t.Fatalf("entries %d (prev %.8s, host %q) and %d (prev %.8s) do not chain", e1.Seq, e1.Prev, e1.Host, e2.Seq, e2.Prev)
	}
	// The guard refuses the key in any field; nothing is appended.
	if _, err := a.AppendAudit(ctx, auditlog.Entry{Command: "keys rotate", Profile: "prod", Action: "rotate.create", Outcome: auditlog.OutcomeOK, Detail: "key " + secret}, guard); !errors.Is(err, auditlog.ErrSecret) {
		t.Fatalf("an entry holding the key: %v; want ErrSecret", err)
	}
	if n := o.VerifyAudit(t, b); n != e2.Seq {
		t.Fatalf("the verifier counts %d entries, want %d", n, e2.Seq)
	}
}
