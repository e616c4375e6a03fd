package team_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

// Every pool session carries the server-side bounds and names this process; a value in the
// DSN wins over the default.
func TestPoolSessionsAreBoundedAndNamed(t *testing.T) {
	t.Parallel()
	dsn := teamtest.NewDatabase(t)
	s := open(t, dsn)
	s.Host = "ignored" // application_name is fixed at Open
	want := map[string]string{
		"lock_timeout":                        "10s",
		"statement_timeout":                   "30s",
		"idle_in_transaction_session_timeout": "30s",
	}
	for name, v := range want {
		got, err := team.Setting(s, t.Context(), name)
		if err != nil || got != v {
			t.Errorf("%s = %q, %v; want %q", name, got, err, v)
		}
	}
	app, err := team.Setting(s, t.Context(), "application_name")
	if err != nil || !strings.HasPrefix(app, "waasctl ") || !strings.Contains(app, "@") || strings.HasPrefix(app, "waasctl lock ") {
		t.Errorf("application_name = %q, %v; want waasctl USER@HOST PID", app, err)
	}
	o := open(t, dsn+"&lock_timeout=1500ms&application_name=middle-tier")
	if got, _ := team.Setting(o, t.Context(), "lock_timeout"); got != "1500ms" {
		t.Errorf("lock_timeout with the DSN's = %q, want 1500ms", got)
	}
	if got, _ := team.Setting(o, t.Context(), "application_name"); got != "middle-tier" {
		t.Errorf("application_name with the DSN's = %q", got)
	}
}

// A recipient change frozen in the middle of its transaction (SIGSTOP, a suspended laptop) no
// longer blocks every writer for ever: a writer waiting for its locks gives up after
// lock_timeout with one line naming the holder and what to do, and writes nothing.
func TestAWriterBehindAFrozenTransactionGivesUpNamingIt(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	alice := team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice})
	k0, k1 := storetest.Key(t, 0, "prod"), storetest.Key(t, 1, "other")
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: k0}); err != nil {
		t.Fatal(err)
	}
	// The frozen 'recipients remove': the recipients lock and a row, in an open transaction.
	frozen, err := pgx.Connect(t.Context(), dsn+"&application_name=waasctl%20alice%40laptop%204242")
	if err != nil {
		t.Fatal(err)
	}
	defer frozen.Close(context.Background())
	tx, err := frozen.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT pg_advisory_xact_lock($1)`, team.RecipientsKey); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `UPDATE waasctl.key_items SET version = version + 100 WHERE profile = 'prod'`); err != nil {
		t.Fatal(err)
	}

	w := open(t, dsn+"&lock_timeout=300ms")
	w.Pins = s.Pins // the same config.yaml pins alice
	for what, write := range map[string]func() error{
		"auth add":    func() error { return w.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: k1}) },
		"auth remove": func() error { return w.Keys(alice).Remove(t.Context(), "prod") },
	} {
		start := time.Now()
		err := write()
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s behind a frozen transaction succeeded", what)
		}
		if !errors.Is(err, team.ErrLockWait) {
			t.Errorf("%s: %v does not match ErrLockWait (exit 6)", what, err)
		}
		msg := err.Error()
		for _, want := range []string{"gave up after 300ms", "waasctl alice@laptop 4242", "idle in transaction", "pg_terminate_backend"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error lacks %q: %s", what, want, msg)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error is not one line: %q", what, msg)
		}
		if took > 10*time.Second {
			t.Errorf("%s gave up after %s", what, took)
		}
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Nothing of the refused writes is there: prod still holds k0, at version 1.
	got, err := s.Keys(alice).Get(t.Context(), "prod")
	if err != nil || got.Current.Name != k0.Name {
		t.Fatalf("prod after the refused writes: %+v, %v", got, err)
	}
	if v := itemVersion(t, s, "prod"); v != 1 {
		t.Errorf("prod's version = %d, want 1", v)
	}
}

// A transaction holder frozen past idle_in_transaction_session_timeout loses its session (and
// its locks): others then write, and the frozen holder's commit fails, keeping nothing.
func TestAFrozenTransactionIsCutOffAndOthersProceed(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	alice := team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice})
	k0, k1 := storetest.Key(t, 0, "prod"), storetest.Key(t, 1, "prod")
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: k0}); err != nil {
		t.Fatal(err)
	}
	watcher, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())

	frozen := open(t, dsn+"&idle_in_transaction_session_timeout=300ms")
	err = team.InTx(frozen, t.Context(), func(tx pgx.Tx) error {
		var pid int32
		if err := tx.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `SELECT pg_advisory_xact_lock($1)`, team.RecipientsKey); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `UPDATE waasctl.key_items SET version = version + 100 WHERE profile = 'prod'`); err != nil {
			return err
		}
		// Frozen: no statement until the server has ended the session.
		waitSessionGone(t, watcher, pid)
		// Meanwhile another host writes, without waiting for a lock.
		if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: k1}); err != nil {
			t.Errorf("a write after the frozen holder was cut off: %v", err)
		}
		return nil // the thawed holder commits
	})
	if err == nil {
		t.Fatal("the frozen holder's commit succeeded")
	}
	t.Logf("the frozen holder: %v", err)
	if !strings.Contains(err.Error(), "nothing of it was kept") || strings.Contains(err.Error(), "\n") {
		t.Errorf("the frozen holder's error: %v", err)
	}
	got, err := s.Keys(alice).Get(t.Context(), "prod")
	if err != nil || got.Current.Name != k1.Name {
		t.Fatalf("prod = %+v, %v; want the other host's key", got, err)
	}
	if v := itemVersion(t, s, "prod"); v != 2 {
		t.Errorf("prod's version = %d, want 2 (the frozen holder's +100 was not kept)", v)
	}

	// Thawed in the middle of its work rather than at the commit: its next statement fails,
	// saying the same.
	err = team.InTx(frozen, t.Context(), func(tx pgx.Tx) error {
		var pid int32
		if err := tx.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `UPDATE waasctl.key_items SET version = version + 100 WHERE profile = 'prod'`); err != nil {
			return err
		}
		waitSessionGone(t, watcher, pid)
		_, err := tx.Exec(t.Context(), `UPDATE waasctl.key_items SET version = version + 100 WHERE profile = 'prod'`)
		return err
	})
	t.Logf("thawed mid-transaction: %v", err)
	if err == nil || !strings.Contains(err.Error(), "nothing of it was kept") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a statement after the session was ended: %v", err)
	}
	if v := itemVersion(t, s, "prod"); v != 2 {
		t.Errorf("prod's version = %d, want 2", v)
	}
}

func itemVersion(t *testing.T, s *team.Store, profile string) int64 {
	t.Helper()
	items, err := s.Items(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Profile == profile {
			return it.Version
		}
	}
	t.Fatalf("no item %s", profile)
	return 0
}

// waitSessionGone waits until the server has ended the session of backend pid.
func waitSessionGone(t *testing.T, conn *pgx.Conn, pid int32) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %d still there after 20 s", pid)
		}
		time.Sleep(20 * time.Millisecond) // polling for the server's event, not a timing guess
	}
}
