package team_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
)

// sqlConn is a plain connection to the team database: what anyone who can write it uses.
func sqlConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

type row struct {
	ct      []byte
	version int64
	seal    string
}

func readRow(t *testing.T, c *pgx.Conn, profile string) row {
	t.Helper()
	var r row
	if err := c.QueryRow(t.Context(), `SELECT ciphertext, version, coalesce(seal, '') FROM waasctl.key_items WHERE profile = $1`, profile).Scan(&r.ct, &r.version, &r.seal); err != nil {
		t.Fatal(err)
	}
	return r
}

func writeRow(t *testing.T, c *pgx.Conn, profile string, r row) {
	t.Helper()
	if _, err := c.Exec(t.Context(), `UPDATE waasctl.key_items SET ciphertext = $2, version = $3, seal = nullif($4, '') WHERE profile = $1`, profile, r.ct, r.version, r.seal); err != nil {
		t.Fatal(err)
	}
}

// team is alice and bob, pinned and in the database, and prod stored by alice.
func twoMembers(t *testing.T) (dsn string, s *team.Store, alice, bob *team.Identity) {
	t.Helper()
	dsn, s = initialised(t)
	alice, bob = team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice, "bob": bob})
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 0, "prod")}); err != nil {
		t.Fatal(err)
	}
	return dsn, s, alice, bob
}

// F1: a recipient inserted by SQL is never encrypted to: every write refuses, in one line naming
// it, and nothing is written; removing it with 'team recipients remove' is the way out.
func TestARecipientTheConfigDoesNotPinIsNeverEncryptedTo(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	mallory := team.NewTestIdentity()
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `INSERT INTO waasctl.recipients (name, public_key, added_by) VALUES ('backup', $1, 'root@vm')`, mallory.Recipient()); err != nil {
		t.Fatal(err)
	}
	before := readRow(t, c, "prod")
	err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "ci", Current: storetest.Key(t, 1, "ci")})
	var up *team.UnpinnedError
	if !errors.As(err, &up) || !strings.Contains(err.Error(), "recipient backup (age1") || !strings.Contains(err.Error(), "does not pin") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Put with an unpinned recipient in the table: %v", err)
	}
	err = s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 2, "prod")})
	if !errors.As(err, &up) {
		t.Fatalf("overwriting prod: %v", err)
	}
	carol := team.NewTestIdentity()
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "carol", PublicKey: carol.Recipient()}}, alice, nil); !errors.As(err, &up) {
		t.Fatalf("adding a member while the table has an unpinned one: %v", err)
	}
	var n int
	if err := c.QueryRow(t.Context(), `SELECT count(*) FROM waasctl.key_items`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows, %v; want prod only", n, err)
	}
	if after := readRow(t, c, "prod"); after.version != before.version || string(after.ct) != string(before.ct) {
		t.Fatal("prod was rewritten")
	}
	if _, err := team.Decrypt(before.ct, mallory); !errors.Is(err, team.ErrNotARecipient) {
		t.Fatalf("mallory decrypts prod: %v", err)
	}
	// The way out: remove the row through waasctl; the keys were never encrypted to it.
	rm, err := s.RemoveRecipient(t.Context(), "backup", alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Exposed) != 0 {
		t.Fatalf("exposed %v", rm.Exposed)
	}
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "ci", Current: storetest.Key(t, 1, "ci")}); err != nil {
		t.Fatal(err)
	}
}

// A host whose config.yaml lacks a pin another host added refuses to write (and to read what
// is sealed for the new set) until it has it.
func TestAHostWithoutTheNewPinRefusesToWrite(t *testing.T) {
	t.Parallel()
	dsn, s, alice, bob := twoMembers(t)
	stale := open(t, dsn)
	stale.Pins = s.Pins
	carol := team.NewTestIdentity()
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "carol", PublicKey: carol.Recipient()}}, alice, nil); err != nil {
		t.Fatal(err)
	}
	err := stale.Keys(bob).Put(t.Context(), &credentials.Item{Profile: "ci", Current: storetest.Key(t, 1, "ci")})
	if !strings.Contains(err.Error(), "recipient carol (age1") {
		t.Fatalf("Put on a host without carol's pin: %v", err)
	}
	var se *team.SealError
	if _, err := stale.Keys(bob).Get(t.Context(), "prod"); !errors.As(err, &se) || !strings.Contains(err.Error(), "another recipient set") {
		t.Fatalf("Get on a host without carol's pin: %v", err)
	}
	stale.Pins = s.Pins // the ops repository's config.yaml, pulled
	if _, err := stale.Keys(bob).Get(t.Context(), "prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Keys(carol).Get(t.Context(), "prod"); err != nil {
		t.Fatal(err)
	}
}

// F2: a row anyone who can write the database made (a real key's name, any private key,
// encrypted with age to every recipient) is refused: unsealed, sealed by a stranger, or with
// the genuine seal of another ciphertext.
func TestAForgedItemIsRefused(t *testing.T) {
	t.Parallel()
	dsn, s, alice, bob := twoMembers(t)
	c := sqlConn(t, dsn)
	genuine := readRow(t, c, "prod")
	forgedPlain, err := credentials.EncodeItem(&credentials.Item{Profile: "prod", Current: storetest.Key(t, 7, "prod")})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := team.Encrypt(forgedPlain, alice.Recipient(), bob.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	mallory := team.NewTestIdentity()
	asMallory, err := team.SealItem(mallory, pins(t, map[string]*team.Identity{"alice": alice, "bob": bob, "mallory": mallory}), "prod", genuine.version, forged)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]row{
		"the genuine seal":    {forged, genuine.version, genuine.seal},
		"no seal":             {forged, genuine.version, ""},
		"a stranger's seal":   {forged, genuine.version, asMallory},
		"a bumped version":    {genuine.ct, genuine.version + 1, genuine.seal},
		"garbage in the seal": {forged, genuine.version, `{"v":1,"writer":"alice"}`},
	} {
		writeRow(t, c, "prod", r)
		for _, id := range []*team.Identity{alice, bob} {
			_, err := s.Keys(id).Get(t.Context(), "prod")
			var se *team.SealError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "profile prod: refusing its key") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: Get = %v", name, err)
			}
		}
		items, err := s.Items(t.Context(), bob)
		if err != nil || len(items) != 1 || items[0].Readable || items[0].Problem == "" {
			t.Errorf("%s: Items = %+v, %v", name, items, err)
		}
	}
	writeRow(t, c, "prod", genuine)
	if _, err := s.Keys(bob).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("the genuine row: %v", err)
	}
}

// F3: after a member's removal, an old row put back (by an attacker, or a database backup
// restored) is refused: it was sealed for the old set. And the removed member can no longer
// forge a row with its own key.
func TestARowFromBeforeARemovalIsRefused(t *testing.T) {
	t.Parallel()
	dsn, s, alice, bob := twoMembers(t)
	c := sqlConn(t, dsn)
	old := readRow(t, c, "prod")
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); err != nil {
		t.Fatal(err)
	}
	current := readRow(t, c, "prod")
	writeRow(t, c, "prod", old)
	var se *team.SealError
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); !errors.As(err, &se) || !strings.Contains(err.Error(), "another recipient set") {
		t.Fatalf("the replayed row: %v", err)
	}
	old.version = current.version // a replay with today's version is no better
	writeRow(t, c, "prod", old)
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); !errors.As(err, &se) {
		t.Fatalf("the replayed row at the current version: %v", err)
	}
	// bob, removed, seals a forged key with his own identity, for the new set and the old.
	plain, _ := credentials.EncodeItem(&credentials.Item{Profile: "prod", Current: storetest.Key(t, 7, "prod")})
	ct, err := team.Encrypt(plain, alice.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []map[string]*team.Identity{{"alice": alice, "bob": bob}, {"alice": alice}, {"bob": bob, "alice": alice}} {
		set["bob"] = bob
		seal, err := team.SealItem(bob, pins(t, set), "prod", current.version, ct)
		if err != nil {
			t.Fatal(err)
		}
		writeRow(t, c, "prod", row{ct, current.version, seal})
		if _, err := s.Keys(alice).Get(t.Context(), "prod"); !errors.As(err, &se) || !strings.Contains(err.Error(), "is not pinned") {
			t.Fatalf("bob's forged row: %v", err)
		}
	}
	writeRow(t, c, "prod", current)
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); err != nil {
		t.Fatal(err)
	}
}

// Rows written before sealing (schema 2) are refused with what to do, and block a member
// change with the profile to re-store or remove named (F9).
func TestAnUnsealedRowSaysHowToGetOut(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `INSERT INTO waasctl.key_items (profile, ciphertext, encrypted_to, version, updated_by) VALUES ('junk', 'not age at all', '{alice}', 1, 'x')`); err != nil {
		t.Fatal(err)
	}
	_, err := s.RemoveRecipient(t.Context(), "bob", alice, nil)
	if err == nil || !strings.Contains(err.Error(), "'waasctl auth remove junk'") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("removal with a damaged row: %v", err)
	}
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("another profile: %v", err)
	}
	if err := s.Keys(alice).Remove(t.Context(), "junk"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, nil); err != nil {
		t.Fatal(err)
	}
}

// F8: a host cannot remove its own identity while keys are stored (it could not seal them for
// the others); F11: adding the same name with the same key again changes nothing.
func TestRemovingYourselfAndAddingTwice(t *testing.T) {
	t.Parallel()
	dsn, s, alice, bob := twoMembers(t)
	c := sqlConn(t, dsn)
	before := readRow(t, c, "prod")
	_, err := s.RemoveRecipient(t.Context(), "alice", alice, nil)
	if err == nil || !strings.Contains(err.Error(), "another member's host") {
		t.Fatalf("alice removing herself: %v", err)
	}
	if after := readRow(t, c, "prod"); after.version != before.version {
		t.Fatal("prod was rewritten")
	}
	again := []team.Recipient{{Name: "bob", PublicKey: bob.Recipient()}}
	if err := s.AddRecipients(t.Context(), again, alice, nil); err != nil {
		t.Fatalf("adding bob again: %v", err)
	}
	if err := s.AddRecipients(t.Context(), again, nil, nil); err != nil {
		t.Fatalf("adding bob again from a host without an identity: %v", err)
	}
	if after := readRow(t, c, "prod"); after.version != before.version {
		t.Fatal("adding bob again re-encrypted prod")
	}
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "bob", PublicKey: alice.Recipient()}}, alice, nil); err == nil {
		t.Fatal("bob with another key was accepted")
	}
}

// The profiles a removal names for rotation come from the seals, not from encrypted_to, which
// anyone who can write the database can edit to hide one.
func TestRemovalNamesExposedProfilesFromTheSeals(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `UPDATE waasctl.key_items SET encrypted_to = '{alice}'`); err != nil {
		t.Fatal(err)
	}
	rm, err := s.RemoveRecipient(t.Context(), "bob", alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rm.Exposed, ",") != "prod" {
		t.Fatalf("exposed = %v; want prod", rm.Exposed)
	}
}

// The pins are recorded before the transaction commits: when config.yaml cannot be written,
// the database is not changed either, and the pins in memory stay as they were.
func TestARecipientChangeThatCannotBePinnedChangesNothing(t *testing.T) {
	t.Parallel()
	_, s, alice, bob := twoMembers(t)
	carol := team.NewTestIdentity()
	var pinned *team.Pins
	failing := func(p *team.Pins) error { pinned = p; return errors.New("config.yaml: read-only file system") }
	err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "carol", PublicKey: carol.Recipient()}}, alice, failing)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("AddRecipients: %v", err)
	}
	if names := recipientNames(pinned.Recipients()); names != "alice,bob,carol" {
		t.Fatalf("repin was given %s", names)
	}
	rs, err := s.Recipients(t.Context())
	if err != nil || recipientNames(rs) != "alice,bob" || recipientNames(s.Pins.Recipients()) != "alice,bob" {
		t.Fatalf("after a failed repin: table %v, pins %v (%v)", rs, s.Pins.Recipients(), err)
	}
	if _, err := s.Keys(bob).Get(t.Context(), "prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, failing); err == nil {
		t.Fatal("RemoveRecipient with a failing repin succeeded")
	}
	if _, err := s.Keys(bob).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("bob after a failed removal: %v", err)
	}
}

func recipientNames(rs []team.Recipient) string {
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

// A recipient row with terminal escapes in its name and key is named without them.
func TestAnUnpinnedRowIsNamedSafely(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `INSERT INTO waasctl.recipients (name, public_key, added_by) VALUES ($1, $2, 'x')`, "ev\x1b[2Jil", "age1\x1b]0;pwned\x07zzzzzzzzzzzz"); err != nil {
		t.Fatal(err)
	}
	err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "ci", Current: storetest.Key(t, 1, "ci")})
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") {
		t.Fatalf("Put: %q", err)
	}
}
