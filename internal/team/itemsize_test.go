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

// A key item over the cap (planted by whoever can write the database: a 200 MB one cost every
// command 418 MB) is refused in one line naming the profile and the way out, without being
// fetched; the other profiles stay usable, and a recipient change refuses to go on.
func TestAnOversizedKeyItemIsRefusedNamingItsProfile(t *testing.T) {
	t.Parallel()
	dsn, s := initialised(t)
	alice, bob := team.NewTestIdentity(), team.NewTestIdentity()
	addRecipients(t, s, nil, map[string]*team.Identity{"alice": alice, "bob": bob})
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 0, "prod")}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// One byte over the cap; random-looking bytes, so that the server cannot compress them away.
	if _, err := conn.Exec(t.Context(), `INSERT INTO waasctl.key_items (profile, ciphertext, encrypted_to, version, updated_by)
		SELECT 'huge', string_agg(sha256(int4send(i)), ''::bytea), '{alice}', 1, 'x' FROM generate_series(1, $1) i`, team.MaxItemCiphertext/32+1); err != nil {
		t.Fatal(err)
	}

	_, err = s.Keys(alice).Get(t.Context(), "huge")
	if err == nil || !errors.Is(err, credentials.ErrItemDamaged) {
		t.Fatalf("Get of the oversized item: %v", err)
	}
	for _, want := range []string{"profile huge", "bytes, over the", "waasctl auth remove huge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	items, err := s.Items(t.Context(), alice)
	if err != nil {
		t.Fatalf("Items with an oversized row: %v", err)
	}
	for _, it := range items {
		if it.Readable != (it.Profile == "prod") {
			t.Errorf("%s readable = %v", it.Profile, it.Readable)
		}
	}
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, nil); err == nil || !strings.Contains(err.Error(), "waasctl auth remove huge") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("RemoveRecipient with an oversized row: %v", err)
	}
	if rs, _ := s.Recipients(t.Context()); len(rs) != 2 {
		t.Errorf("%d recipients after the refused removal, want 2", len(rs))
	}
	// The way out the error names.
	if err := s.Keys(alice).Remove(t.Context(), "huge"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, nil); err != nil {
		t.Fatalf("RemoveRecipient once it is gone: %v", err)
	}
}
