package team_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

func open(t *testing.T, dsn string) *team.Store {
	t.Helper()
	s, err := team.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// initialised returns a migrated database's DSN and a store on it.
func initialised(t *testing.T) (string, *team.Store) {
	t.Helper()
	dsn := teamtest.NewDatabase(t)
	s := open(t, dsn)
	if _, _, err := s.Migrate(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	return dsn, s
}

func addRecipients(t *testing.T, s *team.Store, by *team.Identity, ids map[string]*team.Identity) {
	t.Helper()
	var rs []team.Recipient
	for name, id := range ids {
		rs = append(rs, team.Recipient{Name: name, PublicKey: id.Recipient()})
	}
	if err := s.AddRecipients(t.Context(), rs, by, nil); err != nil {
		t.Fatal(err)
	}
}

// pins are what a config.yaml naming ids would pin.
func pins(t *testing.T, ids map[string]*team.Identity) *team.Pins {
	t.Helper()
	m := map[string]string{}
	for name, id := range ids {
		m[name] = id.Recipient()
	}
	p, err := team.NewPins(m, "state.recipients in config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Two hosts running 'team init' at the same moment: both succeed, every migration is applied
// once, and running it again changes nothing.
func TestMigrateConcurrentlyAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	dsn := teamtest.NewDatabase(t)
	const hosts = 4
	stores := make([]*team.Store, hosts)
	for i := range stores {
		stores[i] = open(t, dsn)
	}
	if v, err := stores[0].Version(t.Context()); err != nil || v != 0 {
		t.Fatalf("Version of an empty database = %d, %v; want 0", v, err)
	}
	if err := stores[0].CheckSchema(t.Context()); !errors.Is(err, team.ErrNotInitialised) {
		t.Fatalf("CheckSchema of an empty database: %v", err)
	}
	start := make(chan struct{})
	errs := make([]error, hosts)
	froms := make([]int, hosts)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			froms[i], _, errs[i] = s.Migrate(context.Background(), fmt.Sprintf("host%d", i))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	sort.Ints(froms)
	if froms[0] != 0 || froms[hosts-1] != team.SchemaVersion {
		t.Errorf("migrations started from versions %v: want exactly one host to start from 0 and the others to find %d", froms, team.SchemaVersion)
	}
	var rows int
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM waasctl.schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != team.SchemaVersion {
		t.Errorf("%d migration rows, want %d", rows, team.SchemaVersion)
	}
	if from, to, err := stores[0].Migrate(t.Context(), "again"); err != nil || from != to {
		t.Errorf("a second init: %d -> %d, %v; want nothing to do", from, to, err)
	}
	if err := stores[1].CheckSchema(t.Context()); err != nil {
		t.Errorf("CheckSchema after init: %v", err)
	}
}

// The team store passes the contract every credentials.Store passes, with a second host (its
// own identity, its own connection) reading what the first wrote.
func TestKeyStoreContract(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	a, b := team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": a, "ci": b})
	storetest.Run(t, s.Keys(a), storetest.Options{Reopen: func(t *testing.T) credentials.Store {
		r := open(t, dsn)
		r.Pins = s.Pins // the second host's config.yaml pins the same members
		return r.Keys(b)
	}})
}

func TestKeyStoreWithoutRecipientsOrIdentity(t *testing.T) {
	t.Parallel()
	_, s := initialised(t)
	a := team.NewTestIdentity()
	k := storetest.Key(t, 0, "k")
	err := s.Keys(a).Put(t.Context(), &credentials.Item{Profile: "p", Current: k})
	if !errors.Is(err, team.ErrNoPins) {
		t.Fatalf("Put with no pins: %v", err)
	}
	s.Pins = pins(t, map[string]*team.Identity{"alice": a})
	err = s.Keys(a).Put(t.Context(), &credentials.Item{Profile: "p", Current: k})
	if !errors.Is(err, team.ErrNoRecipients) {
		t.Fatalf("Put with no recipients: %v", err)
	}
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": a})
	if err := s.Keys(a).Put(t.Context(), &credentials.Item{Profile: "p", Current: k}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys(nil).Get(t.Context(), "p"); !errors.Is(err, team.ErrNoIdentity) {
		t.Fatalf("Get without an identity: %v", err)
	}
	// A host whose identity is not a recipient is told so in one line, with its public key.
	stranger := team.NewTestIdentity()
	_, err = s.Keys(stranger).Get(t.Context(), "p")
	var nr *team.NotARecipientError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), stranger.Recipient()) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Get by a stranger: %v", err)
	}
	storetest.AssertNoSecret(t, "error", err.Error(), k)
	if strings.Contains(err.Error(), team.SecretOf(stranger)) || strings.Contains(fmt.Sprintf("%v %+v %#v %s", stranger, stranger, stranger, stranger), "AGE-SECRET-KEY") {
		t.Fatal("an identity printed its private half")
	}
}

// Removing a member re-encrypts every row to the others in one transaction: the removed
// identity reads nothing left in the database, including rows written before the removal,
// and the profiles it could read are named for rotation.
func TestRemoveRecipientLocksTheMemberOut(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	alice, bob := team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice, "bob": bob})
	for i, p := range []string{"prod", "staging"} {
		if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: p, Current: storetest.Key(t, i, p)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Keys(bob).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("bob before removal: %v", err)
	}
	// bob cannot remove himself from a host that has no identity able to re-encrypt.
	if _, err := s.RemoveRecipient(t.Context(), "bob", nil, nil); !errors.Is(err, team.ErrNoIdentity) {
		t.Fatalf("removal without an identity: %v", err)
	}
	rm, err := s.RemoveRecipient(t.Context(), "bob", alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rm.Exposed, ",") != "prod,staging" || rm.Reencrypted != 2 || rm.Recipient.PublicKey != bob.Recipient() {
		t.Fatalf("removal = %+v", rm)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT ciphertext FROM waasctl.key_items`)
	if err != nil {
		t.Fatal(err)
	}
	cts, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil || len(cts) != 2 {
		t.Fatalf("%d rows, %v", len(cts), err)
	}
	for _, ct := range cts {
		if _, err := team.Decrypt(ct, bob); !errors.Is(err, team.ErrNotARecipient) {
			t.Errorf("bob still decrypts a row: %v", err)
		}
		if _, err := team.Decrypt(ct, alice); err != nil {
			t.Errorf("alice cannot decrypt a row: %v", err)
		}
	}
	if _, err := s.Keys(bob).Get(t.Context(), "staging"); err == nil {
		t.Fatal("bob still reads staging")
	}
	// The last recipient cannot leave while keys are stored.
	if _, err := s.RemoveRecipient(t.Context(), "alice", alice, nil); err == nil || !strings.Contains(err.Error(), "without recipients") {
		t.Fatalf("removing the last recipient: %v", err)
	}
}

func TestAddRecipientReencryptsStoredKeys(t *testing.T) {
	t.Parallel()
	_, s := initialised(t)
	alice, carol := team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice})
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 0, "prod")}); err != nil {
		t.Fatal(err)
	}
	// Adding a member when keys are stored needs a host that can read them.
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "carol", PublicKey: carol.Recipient()}}, carol, nil); err == nil {
		t.Fatal("carol added herself without being able to read the keys")
	}
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "carol", PublicKey: carol.Recipient()}}, alice, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys(carol).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("carol after being added: %v", err)
	}
	for _, bad := range []team.Recipient{
		{Name: "carol3", PublicKey: " " + carol.Recipient() + "\n"},    // key taken, spelt otherwise
		{Name: "carol", PublicKey: team.NewTestIdentity().Recipient()}, // name taken
		{Name: "carol2", PublicKey: carol.Recipient()},                 // key taken
		{Name: "dave", PublicKey: team.SecretOf(team.NewTestIdentity())},
		{Name: "bad/name", PublicKey: team.NewTestIdentity().Recipient()},
	} {
		err := s.AddRecipients(t.Context(), []team.Recipient{bad}, alice, nil)
		if err == nil {
			t.Errorf("AddRecipients(%s) was accepted", bad.Name)
		} else if bad.Name == "carol3" && !strings.Contains(err.Error(), "as carol") {
			t.Errorf("the same key spelt otherwise: %v", err)
		} else if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
			t.Errorf("the error quotes an identity: %v", err)
		}
	}
}

// A journal write that expects an older version is refused: a stalled holder cannot overwrite
// the journal of the host that took over.
func TestJournalCompareAndSet(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	other := open(t, dsn)
	ctx := t.Context()
	if _, _, err := s.LoadJournal(ctx, "prod"); !errors.Is(err, team.ErrNoJournal) {
		t.Fatalf("LoadJournal of none: %v", err)
	}
	v1, err := s.SaveJournal(ctx, "prod", []byte(`{"step":"create"}`), 0)
	if err != nil || v1 != 1 {
		t.Fatalf("first save: %d, %v", v1, err)
	}
	if _, err := other.SaveJournal(ctx, "prod", []byte(`{"step":"create"}`), 0); !errors.Is(err, team.ErrFenced) {
		t.Fatalf("a second rotation's first save: %v", err)
	}
	// Host B takes over and moves the journal on.
	body, v, err := other.LoadJournal(ctx, "prod")
	if err != nil || v != 1 || string(body) != `{"step":"create"}` {
		t.Fatalf("LoadJournal = %s, %d, %v", body, v, err)
	}
	if v2, err := other.SaveJournal(ctx, "prod", []byte(`{"step":"verify"}`), v); err != nil || v2 != 2 {
		t.Fatalf("B's save: %d, %v", v2, err)
	}
	// Host A wakes up with version 1.
	_, err = s.SaveJournal(ctx, "prod", []byte(`{"step":"deliver"}`), v1)
	var fe *team.FencedError
	if !errors.As(err, &fe) || fe.Found != 2 || fe.Expected != 1 || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("A's stale save: %v", err)
	}
	if body, _, _ := s.LoadJournal(ctx, "prod"); string(body) != `{"step":"verify"}` {
		t.Fatalf("the stale save changed the journal: %s", body)
	}
	if err := s.ArchiveJournal(ctx, "prod", v1); !errors.Is(err, team.ErrFenced) {
		t.Fatalf("a stale archive: %v", err)
	}
	rot, err := s.Rotations(ctx)
	if err != nil || len(rot) != 1 || rot[0].Step != "verify" || rot[0].Version != 2 {
		t.Fatalf("Rotations = %+v, %v", rot, err)
	}
	if err := other.ArchiveJournal(ctx, "prod", 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LoadJournal(ctx, "prod"); !errors.Is(err, team.ErrNoJournal) {
		t.Fatalf("after archive: %v", err)
	}
	if _, err := s.SaveJournal(ctx, "prod", []byte(`not json`), 0); err == nil {
		t.Fatal("a journal that is not JSON was saved")
	}
}

// One session holds a profile's lock; another host is told who (host, user, step); when the
// holder's session ends (a dead host, a cut network: the server ends it) the lock is free
// again, and the old holder finds out before its next change.
func TestLockNamesItsHolderAndEndsWithItsSession(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	b := open(t, dsn)
	s.Host, s.User = "host-a", "alice"
	b.Host, b.User = "host-b", "bob"
	ctx := t.Context()
	la, err := s.AcquireLock(ctx, "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	if err := la.SetStep(ctx, "deliver"); err != nil {
		t.Fatal(err)
	}
	_, err = b.AcquireLock(ctx, "prod", "keys rotate")
	var le *team.LockedError
	if !errors.As(err, &le) || le.Holder.Host != "host-a" || le.Holder.User != "alice" || le.Holder.Step != "deliver" {
		t.Fatalf("second AcquireLock: %v", err)
	}
	if !strings.Contains(err.Error(), "alice@host-a") {
		t.Fatalf("the message does not name the holder: %v", err)
	}
	// Another profile is not locked.
	lo, err := b.AcquireLock(ctx, "staging", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	holders, err := b.LockHolders(ctx)
	if err != nil || holders["prod"].Host != "host-a" || holders["staging"].Host != "host-b" {
		t.Fatalf("LockHolders = %v, %v", holders, err)
	}
	_ = lo.Release(ctx)

	// The server ends A's session, as it does when keepalives go unanswered.
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// With a timeout, pg_terminate_backend waits until the backend is gone (and its lock with
	// it); without one it only signals, and on a loaded machine the next AcquireLock came first.
	var ended bool
	if err := admin.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE application_name LIKE 'waasctl lock alice@host-a%'`).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending host-a's lock session: %v, %v", ended, err)
	}
	lb, err := b.AcquireLock(ctx, "prod", "keys rotate --resume")
	if err != nil {
		t.Fatalf("the lock outlived its holder's session: %v", err)
	}
	defer lb.Release(ctx)
	if err := la.Check(ctx); !errors.Is(err, team.ErrLockLost) {
		t.Fatalf("the old holder's Check: %v", err)
	}
	if err := la.SetStep(ctx, "revoke"); !errors.Is(err, team.ErrLockLost) {
		t.Fatalf("the old holder's SetStep: %v", err)
	}
	if err := lb.Check(ctx); err != nil {
		t.Fatal(err)
	}
	holders, _ = s.LockHolders(ctx)
	if holders["prod"].Host != "host-b" || holders["prod"].Command != "keys rotate --resume" {
		t.Fatalf("holder after takeover: %+v", holders["prod"])
	}
}

// The holder is named even in the moment between taking the lock and writing its row.
func TestLockNamesAHolderThatHasNotWrittenItsRowYet(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	s.Host, s.User = "host-b", "bob"
	ctx := t.Context()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "waasctl lock carol@host-c 4242"
	early, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close(context.Background())
	// Take the lock the way AcquireLock does, by asking AcquireLock on a store whose
	// holder row write we then undo.
	other := open(t, dsn)
	other.Host, other.User = "host-c", "carol"
	l, err := other.AcquireLock(ctx, "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if _, err := early.Exec(ctx, `DELETE FROM waasctl.lock_holders`); err != nil {
		t.Fatal(err)
	}
	_, err = s.AcquireLock(ctx, "prod", "keys rotate")
	var le *team.LockedError
	if !errors.As(err, &le) || le.Holder.Host != "host-c" || le.Holder.User != "carol" || le.Holder.PID != os.Getpid() {
		t.Fatalf("AcquireLock with no holder row: %v (holder %+v)", err, le)
	}
}

// Hosts appending at once never fork the chain, and every entry names its host.
func TestAuditAppendsFromConcurrentHostsFormOneChain(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	if team.GenesisPrev != auditlog.GenesisHash {
		t.Fatal("the table's genesis differs from the file's")
	}
	const hosts, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, hosts*each)
	for h := range hosts {
		st := open(t, dsn)
		st.Host = fmt.Sprintf("host-%d", h)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := st.AppendAudit(context.Background(), "age1test", func(seq uint64, prev string) ([]byte, error) {
					return fmt.Appendf(nil, `{"seq":%d,"host":%q,"n":%d,"prev":%q}`, seq, st.Host, i, prev), nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := s.VerifyAuditChain(t.Context())
	if err != nil || n != hosts*each {
		t.Fatalf("VerifyAuditChain = %d, %v", n, err)
	}
	seen := map[string]int{}
	if err := s.AuditLines(t.Context(), func(a team.AuditLine) error {
		seen[a.Host]++
		if !bytes.Contains(a.Line, []byte(fmt.Sprintf(`"seq":%d,"host":%q`, a.Seq, a.Host))) {
			return fmt.Errorf("line %d: %s", a.Seq, a.Line)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != hosts {
		t.Fatalf("hosts seen: %v", seen)
	}
	// An edited row is found.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE waasctl.audit_log SET line = line || ' ' WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAuditChain(t.Context()); err == nil || !strings.Contains(err.Error(), "entry 7") {
		t.Fatalf("an edited entry passed: %v", err)
	}
}

func TestSnapshotIndex(t *testing.T) {
	t.Parallel()
	_, s := initialised(t)
	s.Host = "ci-runner"
	ctx := t.Context()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	small := []byte("{\"kind\":\"header\",\"profile\":\"prod\"}\n{\"name\":\"pools/p1\"}\n")
	if _, err := s.PutSnapshot(ctx, team.SnapshotInfo{Name: "prod-1", Profile: "prod", TakenAt: at, Path: "/state/snapshots/prod-1"}, small); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), team.MaxSnapshotContent+1)
	if _, err := s.PutSnapshot(ctx, team.SnapshotInfo{Name: "prod-2", Profile: "prod", TakenAt: at.Add(time.Hour), Path: "/big/prod-2"}, big); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IndexSnapshot(ctx, team.SnapshotInfo{Name: "prod-3", Profile: "prod", TakenAt: at.Add(2 * time.Hour), Path: "/big/prod-3", Size: 9 << 20, SHA256: strings.Repeat("ab", 32), Header: `{"kind":"header"}`}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Snapshots(ctx, "prod")
	if err != nil || len(list) != 3 || !list[0].HasContent || list[1].HasContent || list[2].HasContent || list[1].Size != int64(len(big)) || list[2].Size != 9<<20 {
		t.Fatalf("Snapshots = %+v, %v", list, err)
	}
	if l := list[0]; l.Header != `{"kind":"header","profile":"prod"}` || l.Path != "/state/snapshots/prod-1" || l.Host != "ci-runner" {
		t.Fatalf("index entry %+v", l)
	}
	if got, err := s.SnapshotContent(ctx, "prod-1"); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("SnapshotContent = %q, %v", got, err)
	}
	for _, name := range []string{"prod-2", "prod-3"} {
		if _, err := s.SnapshotContent(ctx, name); err == nil || !strings.Contains(err.Error(), "too big") || !strings.Contains(err.Error(), "on host ci-runner at /big/"+name) {
			t.Fatalf("SnapshotContent of an indexed-only snapshot: %v", err)
		}
	}
	if _, err := s.SnapshotContent(ctx, "nope"); !errors.Is(err, team.ErrNoSnapshot) {
		t.Fatalf("SnapshotContent of no snapshot: %v", err)
	}
	// A snapshot that holds a key, small or big, is refused and nothing of it is stored.
	k := storetest.Key(t, 0, "k")
	leaky := append(append([]byte(nil), small...), []byte(k.PrivateKey+"\n")...)
	for _, content := range [][]byte{leaky, append(bytes.Repeat([]byte("x\n"), team.MaxSnapshotContent), leaky...)} {
		if _, err := s.PutSnapshot(ctx, team.SnapshotInfo{Name: "prod-leak", Profile: "prod", TakenAt: at}, content); !errors.Is(err, team.ErrSnapshotSecret) {
			t.Fatalf("a snapshot holding a key: %v", err)
		}
	}
	if _, err := s.IndexSnapshot(ctx, team.SnapshotInfo{Name: "prod-leak", Profile: "prod", TakenAt: at, Header: k.PrivateKey}); !errors.Is(err, team.ErrSnapshotSecret) {
		t.Fatalf("an index entry holding a key: %v", err)
	}
	if _, err := s.SnapshotContent(ctx, "prod-leak"); !errors.Is(err, team.ErrNoSnapshot) {
		t.Fatalf("a refused snapshot was stored: %v", err)
	}
}

// A DSN's password never reaches an error.
func TestErrorsHideTheDSNPassword(t *testing.T) {
	const pw = "s3cr3t-Pa55word"
	for _, dsn := range []string{
		"postgres://waasctl:" + pw + "@127.0.0.1:1/x?connect_timeout=1",
		"host=127.0.0.1 port=1 user=u password=" + pw + " connect_timeout=1",
		"postgres://u:" + pw + "@[::1", // not a URL
	} {
		_, err := team.Open(t.Context(), dsn)
		if err == nil {
			t.Fatalf("Open(%q) worked", dsn)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error shows the password or spans lines: %v", err)
		}
	}
}

// pgDump finds pg_dump beside the test server's binaries.
func pgDump(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if p := filepath.Join(strings.TrimSpace(string(out)), "pg_dump"); fileExists(p) {
			return p
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	sort.Strings(matches)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	if os.Getenv("WAASCTL_REQUIRE_POSTGRES") == "1" {
		t.Fatal("pg_dump not found but WAASCTL_REQUIRE_POSTGRES=1")
	}
	t.Skip("pg_dump not found")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Canary: a dump of the whole database after keys were stored, rotated between slots and
// re-encrypted holds no private key (API key or age identity) in any encoding a dump uses.
func TestDatabaseDumpHoldsNoPrivateKey(t *testing.T) {
	dsn, s := initialised(t)
	dump := pgDump(t)
	// The server logs every statement of this database with its parameters in full: what a
	// verbose server log would show.
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	if err := admin.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"log_statement = 'all'", "log_parameter_max_length = -1", "log_parameter_max_length_on_error = -1"} {
		if _, err := admin.Exec(t.Context(), "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET "+set); err != nil {
			t.Fatal(err)
		}
	}
	// The server compresses a long value before it writes it (TOAST), and a compressed value is
	// invisible to a byte search of the data folder: every text and byte column of the schema
	// is stored uncompressed here, so that the search below sees what was written.
	cols, err := admin.Query(t.Context(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'waasctl' AND data_type IN ('text', 'bytea', 'jsonb', 'character varying', 'ARRAY')`)
	if err != nil {
		t.Fatal(err)
	}
	var alters []string
	for cols.Next() {
		var table, column string
		if err := cols.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		alters = append(alters, "ALTER TABLE "+pgx.Identifier{"waasctl", table}.Sanitize()+" ALTER COLUMN "+pgx.Identifier{column}.Sanitize()+" SET STORAGE EXTERNAL")
	}
	if err := cols.Err(); err != nil || len(alters) == 0 {
		t.Fatalf("the schema's columns: %v (%d)", err, len(alters))
	}
	for _, a := range alters {
		if _, err := admin.Exec(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	// The search's own check: a long journal row holding a marker (no key) must be found by it.
	marker := "waasctl-search-self-check-" + strings.Repeat("0123456789abcdef", 256)
	if _, err := admin.Exec(t.Context(), `INSERT INTO waasctl.journals (profile, body, version, updated_by) VALUES ('self-check', $1, 1, 'test')`,
		`{"marker": "`+marker+`"}`); err != nil {
		t.Fatal(err)
	}
	admin.Close(context.Background())
	s.Close()
	s = open(t, dsn) // new sessions, with the settings
	alice, bob := team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice, "bob": bob})
	var keys []*credentials.StoredKey
	for i := range 4 {
		keys = append(keys, storetest.Key(t, i, fmt.Sprint("k", i)))
	}
	ctx := t.Context()
	ks := s.Keys(alice)
	if err := ks.Put(ctx, &credentials.Item{Profile: "prod", Current: keys[0], Pending: keys[1]}); err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(ctx, &credentials.Item{Profile: "prod", Current: keys[1], Previous: keys[0]}); err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(ctx, &credentials.Item{Profile: "staging", Current: keys[2], Pending: keys[3]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveRecipient(ctx, "bob", alice, nil); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"plain", "custom"} {
		out, err := exec.CommandContext(ctx, dump, "--format="+format, "--dbname="+dsn).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		if len(out) < 1000 || (format == "plain" && !bytes.Contains(out, []byte("key_items"))) {
			t.Fatalf("the dump is too small to be one (%d bytes)", len(out))
		}
		for _, k := range keys {
			signer, err := credentials.ParsePrivateKey(k.PrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, needle := range canaries(k.PrivateKey, signer) {
				if bytes.Contains(out, needle) || bytes.Contains(bytes.ToLower(out), bytes.ToLower(needle)) {
					t.Fatalf("%s dump holds key material of %s", format, k.Name)
				}
			}
		}
		for _, id := range []*team.Identity{alice, bob} {
			if bytes.Contains(bytes.ToUpper(out), []byte(strings.ToUpper(team.SecretOf(id)))) {
				t.Fatalf("%s dump holds an age identity", format)
			}
			for _, needle := range scalarCanaries(id) {
				if bytes.Contains(out, needle) {
					t.Fatalf("%s dump holds an identity's X25519 scalar (the seals are made with it)", format)
				}
			}
		}
	}
	// The server's data folder (tables, WAL) and its log: only ciphertext ever reached them.
	// The test server writes lazily (fsync and synchronous_commit off): a checkpoint puts
	// everything written so far into the files searched.
	if conn, err := pgx.Connect(t.Context(), dsn); err != nil {
		t.Fatal(err)
	} else {
		_, err := conn.Exec(t.Context(), "CHECKPOINT")
		conn.Close(context.Background())
		if err != nil {
			t.Fatalf("CHECKPOINT: %v", err)
		}
	}
	var searched int
	markerSeen := false
	for _, root := range []string{os.Getenv("WAASCTL_TEST_POSTGRES_DATA"), os.Getenv("WAASCTL_TEST_POSTGRES_LOG")} {
		if root == "" {
			if os.Getenv("WAASCTL_REQUIRE_POSTGRES") == "1" {
				t.Fatal("WAASCTL_TEST_POSTGRES_DATA or _LOG is unset: run under scripts/with-postgres.sh")
			}
			continue
		}
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			// Other packages' tests share the server and drop their databases as they end:
			// a folder or file listed a moment ago may be gone (this test's own stays).
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			searched += len(data)
			if bytes.Contains(data, []byte(marker[:64])) { // out of line, a value is cut in chunks of about 2 kB
				markerSeen = true
			}
			upper := bytes.ToUpper(data)
			for _, k := range keys {
				signer, _ := credentials.ParsePrivateKey(k.PrivateKey)
				for _, needle := range canaries(k.PrivateKey, signer) {
					if bytes.Contains(data, needle) {
						return fmt.Errorf("%s holds key material of %s", path, k.Name)
					}
				}
			}
			for _, id := range []*team.Identity{alice, bob} {
				if bytes.Contains(upper, []byte(strings.ToUpper(team.SecretOf(id)))) {
					return fmt.Errorf("%s holds an age identity", path)
				}
				for _, needle := range scalarCanaries(id) {
					if bytes.Contains(data, needle) {
						return fmt.Errorf("%s holds an identity's X25519 scalar", path)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if log := os.Getenv("WAASCTL_TEST_POSTGRES_LOG"); log != "" {
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("INSERT INTO waasctl.key_items")) {
			t.Fatal("the server log does not show the statements: the log search proves nothing")
		}
	}
	t.Logf("searched %d bytes of the server's files", searched)
	if os.Getenv("WAASCTL_TEST_POSTGRES_DATA") != "" && !markerSeen {
		t.Fatal("the search of the data folder did not find the marker row: it cannot see what the server wrote (compressed?)")
	}
}

// canaries are the encodings of a key's secret a dump could show: each PEM body line, the whole
// secret in hex (bytea's text form) and base64, and the raw private scalar in hex and base64.
func canaries(secret string, signer any) [][]byte {
	var out [][]byte
	for _, f := range storetest.Fragments(secret) {
		out = append(out, []byte(f))
	}
	out = append(out, []byte(hex.EncodeToString([]byte(secret))[:64]), []byte(base64.StdEncoding.EncodeToString([]byte(secret))[:40]))
	var raw []byte
	switch k := signer.(type) {
	case *ecdsa.PrivateKey:
		raw = k.D.FillBytes(make([]byte, 32))
	case ed25519.PrivateKey:
		raw = k.Seed()
	}
	if len(raw) > 0 {
		out = append(out, []byte(hex.EncodeToString(raw)), []byte(base64.StdEncoding.EncodeToString(raw)[:40]))
	}
	return out
}

// A holder that stops running (SIGSTOP, a suspended laptop) keeps its TCP session alive through
// its kernel's keepalive answers; its heartbeat stops, though, and the server ends its idle
// session, releasing the lock to the host that waits for it. The frozen holder, thawed, is
// refused. A holder that runs keeps its lock however long its step takes.
func TestAFrozenHolderLosesItsLockAndIsFenced(t *testing.T) {
	dsn, s := initialised(t)
	s.LockIdleTimeout, s.LockHeartbeat = time.Second, 100*time.Millisecond
	ctx := t.Context()
	l, err := s.AcquireLock(ctx, "prod", "keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	waiter, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close(context.Background())

	// Alive: a wait of three idle timeouts does not get the lock.
	if _, err := waiter.Exec(ctx, `SET lock_timeout = '3s'`); err != nil {
		t.Fatal(err)
	}
	_, err = waiter.Exec(ctx, `SELECT pg_advisory_lock($1)`, team.LockKey("prod"))
	if err == nil || !strings.Contains(err.Error(), "55P03") {
		t.Fatalf("a running holder lost its lock: %v", err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatalf("a running holder: %v", err)
	}

	// Frozen: the waiter gets the lock once the server ends the holder's session.
	team.Freeze(l)
	if _, err := waiter.Exec(ctx, `SET lock_timeout = '30s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := waiter.Exec(ctx, `SELECT pg_advisory_lock($1)`, team.LockKey("prod")); err != nil {
		t.Fatalf("the frozen holder's lock never went: %v", err)
	}
	if err := l.Check(ctx); !errors.Is(err, team.ErrLockLost) {
		t.Fatalf("the thawed holder's Check: %v", err)
	}
	if err := l.SetStep(ctx, "revoke"); !errors.Is(err, team.ErrLockLost) {
		t.Fatalf("the thawed holder's SetStep: %v", err)
	}
}

// Entries appended from two hosts verify with the file log's own verifier, each names its host;
// an edited entry is found; an entry holding a key is refused before it is written.
func TestAuditEntriesVerifyWithTheFileLogsVerifier(t *testing.T) {
	t.Parallel()
	dsn, a := initialised(t)
	b := open(t, dsn)
	a.Host, b.Host = "host-a", "host-b"
	ctx := t.Context()
	idA, idB := team.NewTestIdentity(), team.NewTestIdentity()
	var anchor auditlog.Checkpoint
	for i := range 6 {
		s, id := a, idA
		if i%2 == 1 {
			s, id = b, idB
		}
		e, err := s.AppendEntry(ctx, id.Recipient(), auditlog.Entry{Command: "keys rotate", Profile: "prod", Action: "rotate.create", Outcome: auditlog.OutcomeOK}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.Host != s.Host || e.Identity != id.Recipient() {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if i == 2 {
			anchor = auditlog.Checkpoint{Seq: e.Seq} // its hash is read back below
		}
	}
	rep, err := a.VerifyAudit(ctx)
	if err != nil || !rep.OK || rep.Entries != 6 {
		t.Fatalf("VerifyAudit = %+v, %v", rep, err)
	}
	var hosts []string
	if err := b.AuditLines(ctx, func(l team.AuditLine) error {
		hosts = append(hosts, l.Host)
		if l.Seq == anchor.Seq {
			anchor.Hash = l.Hash
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(hosts, ",") != "host-a,host-b,host-a,host-b,host-a,host-b" {
		t.Fatalf("hosts %v", hosts)
	}
	if rep, err := b.VerifyAudit(ctx, anchor); err != nil || !rep.OK {
		t.Fatalf("VerifyAudit with an anchor = %+v, %v", rep, err)
	}
	k := storetest.Key(t, 0, "k")
	if _, err := a.AppendEntry(ctx, "", auditlog.Entry{Command: "x", Action: "x", Outcome: "ok", Detail: k.PrivateKey}, nil); !errors.Is(err, auditlog.ErrSecret) {
		t.Fatalf("an entry holding a key: %v", err)
	}
	_, secretID := teamtest.NewIdentity(t)
	if _, err := a.AppendEntry(ctx, secretID, auditlog.Entry{Command: "x", Action: "x", Outcome: "ok"}, nil); err == nil || strings.Contains(err.Error(), secretID) {
		t.Fatalf("an age identity given as the recorded identity: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Editing a row in place breaks the chain; cutting the end off is caught by the anchor.
	if _, err := conn.Exec(ctx, `UPDATE waasctl.audit_log SET line = replace(line, 'rotate.create', 'rotate.abort') WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	rep, err = a.VerifyAudit(ctx)
	if err != nil || rep.OK || rep.Problem == nil || rep.Problem.Kind != auditlog.KindBrokenChain || rep.Problem.Line != 4 {
		t.Fatalf("an edited entry: %+v, %v", rep, err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM waasctl.audit_log WHERE seq >= 3`); err != nil {
		t.Fatal(err)
	}
	if rep, err := a.VerifyAudit(ctx, anchor); err != nil || rep.OK || rep.Problem.Kind != auditlog.KindTruncated {
		t.Fatalf("a cut-off log with an anchor: %+v, %v", rep, err)
	}
}

// scalarCanaries are the encodings of an identity's X25519 scalar a dump could show: raw, hex
// (bytea's text form) and base64.
func scalarCanaries(id *team.Identity) [][]byte {
	raw := team.ScalarOf(id)
	return [][]byte{raw, []byte(hex.EncodeToString(raw)), []byte(base64.StdEncoding.EncodeToString(raw)), []byte(base64.RawURLEncoding.EncodeToString(raw))}
}
