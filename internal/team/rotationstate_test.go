package team_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/rotation/statetest"
	"github.com/waasctl/waasctl/internal/team"
)

// The team store passes the StateBackend contract the state folder passes, with two hosts
// (their own connections, host names and users) sharing one database.
func TestRotationStateContract(t *testing.T) {
	t.Parallel()
	dsns := map[rotation.StateBackend]string{}
	statetest.Run(t, statetest.Options{
		New: func(t *testing.T) (rotation.StateBackend, rotation.StateBackend) {
			dsn, a := initialised(t)
			b := open(t, dsn)
			a.Host, a.User = "host-a", "alice"
			b.Host, b.User = "host-b", "bob"
			ra, rb := a.RotationState(team.NewTestIdentity().Recipient()), b.RotationState("")
			dsns[ra] = dsn
			return ra, rb
		},
		LoseLock: func(t *testing.T, a rotation.StateBackend, profile string) {
			// The server ends the holder's session, as when its keepalives go unanswered or it
			// stayed frozen past idle_session_timeout; it waits (up to 10 s) for the session to end.
			admin, err := pgx.Connect(t.Context(), dsns[a])
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(context.Background())
			var ended bool
			if err := admin.QueryRow(t.Context(), `SELECT pg_terminate_backend(backend_pid, 10000) FROM waasctl.lock_holders WHERE profile = $1`, profile).Scan(&ended); err != nil || !ended {
				t.Fatalf("ending the holder's session: %v, %v", ended, err)
			}
		},
		VerifyAudit: func(t *testing.T, a rotation.StateBackend) uint64 {
			rep, err := a.(*team.RotationState).Store().VerifyAudit(t.Context())
			if err != nil || !rep.OK {
				t.Fatalf("audit table: %+v, %v", rep, err)
			}
			return uint64(rep.Entries)
		},
	})
}

// A holder whose session ended before its first journal save (frozen right after taking the
// lock, its session ended so that another host could proceed) cannot write that journal: saves
// go over the lock's own session. It used to insert a journal at preflight after waking, which
// blocked every later rotation until someone resumed or aborted it.
func TestAHolderWithoutItsSessionSavesNoJournal(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	st := s.RotationState("")
	held, err := st.AcquireLock(t.Context(), "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(context.Background())
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var ended bool
	if err := admin.QueryRow(t.Context(), `SELECT pg_terminate_backend(backend_pid, 10000) FROM waasctl.lock_holders WHERE profile = 'prod'`).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending the holder's session: %v, %v", ended, err)
	}
	j, err := rotation.NewJournal("prod", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveJournal(t.Context(), j, 0); !errors.Is(err, rotation.ErrLockLost) {
		t.Fatalf("the first save without the lock's session: %v, want ErrLockLost", err)
	}
	var n int
	if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM waasctl.journals WHERE profile = 'prod'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d journals written (%v), want none", n, err)
	}
}

// A key item is not written by a process while another holds the profile's rotation lock: a
// holder frozen between its lock check and its write, and taken over meanwhile, must not
// overwrite what the new holder stored. The holder itself, and anyone when nobody holds the
// lock, writes as before.
func TestKeyItemWritesRespectAnotherHostsLock(t *testing.T) {
	t.Parallel()
	dsn, a := initialised(t)
	alice := team.NewTestIdentity()
	addRecipients(t, a, nil, map[string]*team.Identity{"alice": alice})
	b := open(t, dsn)
	b.Pins = a.Pins
	a.Host, b.Host = "host-a", "host-b"
	item := func(i int) *credentials.Item {
		return &credentials.Item{Profile: "prod", Current: storetest.Key(t, i, "prod")}
	}
	if err := a.Keys(alice).Put(t.Context(), item(0)); err != nil {
		t.Fatalf("with no holder: %v", err)
	}
	held, err := b.RotationState("").AcquireLock(t.Context(), "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Keys(alice).Put(t.Context(), item(1)); err != nil {
		t.Fatalf("the holder's own write: %v", err)
	}
	err = a.Keys(alice).Put(t.Context(), item(2))
	if !errors.Is(err, rotation.ErrLockLost) || !strings.Contains(err.Error(), "host-b") {
		t.Fatalf("a write while host-b holds the lock: %v", err)
	}
	if err := a.Keys(alice).Remove(t.Context(), "prod"); !errors.Is(err, rotation.ErrLockLost) {
		t.Fatalf("a removal while host-b holds the lock: %v", err)
	}
	got, err := a.Keys(alice).Get(t.Context(), "prod")
	if err != nil || got.Current.Fingerprint != item(1).Current.Fingerprint {
		t.Fatalf("the item after the refused writes: %v, %v", got, err)
	}
	if err := held.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.Keys(alice).Put(t.Context(), item(2)); err != nil {
		t.Fatalf("once the lock is released: %v", err)
	}
}

// The team store's rotation history: none for a profile that never rotated; a journal archived
// there that does not decode (a newer waasctl's, a damaged row) is not silently left out, or
// incident assess would not know of the emergency rotation it records (it would suspect the new
// key) without saying its history was incomplete.
func TestHistoryReportsArchivedJournalsItCannotRead(t *testing.T) {
	t.Parallel()
	_, s := initialised(t)
	ctx := t.Context()
	rs := s.RotationState("")
	if js, err := rs.History(ctx, "prod"); err != nil || len(js) != 0 {
		t.Fatalf("History of a profile with no archive = %v, %v", js, err)
	}
	v, err := s.SaveJournal(ctx, "prod", []byte(`{"version":99,"profile":"prod","step":"done"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ArchiveJournal(ctx, "prod", v); err != nil {
		t.Fatal(err)
	}
	js, err := rs.History(ctx, "prod")
	if len(js) != 0 || err == nil || !strings.Contains(err.Error(), "1 rotation journal of prod archived in the team store cannot be read") {
		t.Fatalf("History with an archived journal that does not decode = %v, %v", js, err)
	}
	if js, err := rs.History(ctx, "staging"); err != nil || len(js) != 0 {
		t.Fatalf("another profile's History = %v, %v", js, err)
	}
}
