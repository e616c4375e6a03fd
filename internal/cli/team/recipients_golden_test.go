package team

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

// storeLine replaces the store's description, which names the throwaway server's socket folder
// and a random database (chosen per run), as TestStatusGolden does.
func storeLine(s *team.Store, out string) string {
	return strings.ReplaceAll(out, s.String(), "postgres database waasctl_team_TEST on /SOCKET as waasctl")
}

// recordPins is a Repin that keeps what config.yaml would have been given.
func recordPins(got **team.Pins) func(*team.Pins) error {
	return func(p *team.Pins) error { *got = p; return nil }
}

// TestInitGolden: the first `team init` on an empty database with two recipients, then the same
// command again (schema current, both already there), then a third recipient added by init.
func TestInitGolden(t *testing.T) {
	alice, bob, carol := fixedIdentity(t, 1, "keyring secret-service"), fixedIdentity(t, 2, ""), fixedIdentity(t, 3, "")
	s, err := team.Open(t.Context(), teamtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if s.Pins, err = team.NewPins(nil, goldenPinsWhere); err != nil { // config.yaml pins none yet
		t.Fatal(err)
	}
	run := func(t *testing.T, recipients ...team.Recipient) (string, *team.Pins) {
		t.Helper()
		ios, _, stdout, stderr := iostreams.Test()
		var pinned *team.Pins
		opts := &InitOptions{IO: ios, TeamStore: func() (*team.Store, error) { return s, nil },
			AgeIdentity: func() (*team.Identity, error) { return alice, nil },
			Repin:       recordPins(&pinned), Recipients: recipients}
		if err := initRun(t.Context(), opts); err != nil || stdout.Len() != 0 {
			t.Fatalf("err %v, stdout %q", err, stdout)
		}
		return storeLine(s, stderr.String()), pinned
	}
	two := []team.Recipient{{Name: "alice", PublicKey: alice.Recipient()}, {Name: "bob", PublicKey: bob.Recipient()}}

	got, pinned := run(t, two...)
	clitest.Golden(t, "init_first.stderr.golden", got)
	if pinned == nil || len(pinned.Map()) != 2 {
		t.Fatalf("the first init pinned %v, want alice and bob", pinned)
	}
	s.Pins = pinned // what the next run reads back from config.yaml

	got, _ = run(t, two...)
	clitest.Golden(t, "init_again.stderr.golden", got)

	got, pinned = run(t, team.Recipient{Name: "carol", PublicKey: carol.Recipient()})
	clitest.Golden(t, "init_add.stderr.golden", got)
	if pinned == nil || pinned.Map()["carol"] != carol.Recipient() {
		t.Fatalf("init --recipient carol pinned %v", pinned)
	}
	recipients, err := s.Recipients(t.Context())
	if err != nil || len(recipients) != 3 {
		t.Fatalf("the store lists %v (err %v), want alice, bob and carol", recipients, err)
	}
}

// TestRecipientsAddRemoveGolden: alice (who reads both stored keys) adds carol, then removes
// bob, who could read the keys of two profiles: the command names them and how to rotate each.
func TestRecipientsAddRemoveGolden(t *testing.T) {
	alice, carol := fixedIdentity(t, 1, "keyring secret-service"), fixedIdentity(t, 3, "")
	s := goldenTeamStore(t, alice, fixedIdentity(t, 2, ""))
	aliceID := func() (*team.Identity, error) { return alice, nil }

	ios, _, stdout, stderr := iostreams.Test()
	var pinned *team.Pins
	add := &RecipientsAddOptions{IO: ios, TeamStore: func() (*team.Store, error) { return s, nil }, AgeIdentity: aliceID,
		Repin: recordPins(&pinned), Recipient: team.Recipient{Name: "carol", PublicKey: carol.Recipient()}}
	if err := recipientsAddRun(t.Context(), add); err != nil || stdout.Len() != 0 {
		t.Fatalf("add: err %v, stdout %q", err, stdout)
	}
	clitest.Golden(t, "recipients_add.stderr.golden", stderr.String())
	if pinned == nil || len(pinned.Map()) != 3 {
		t.Fatalf("add pinned %v, want alice, bob and carol", pinned)
	}
	s.Pins = pinned
	// carol can read what was there before she joined: the keys were re-encrypted to her.
	if item, err := s.Keys(carol).Get(t.Context(), "prod"); err != nil || item.Current == nil {
		t.Fatalf("carol reads prod: %v, %v", item, err)
	}

	ios, _, stdout, stderr = iostreams.Test()
	remove := &RecipientsRemoveOptions{IO: ios, TeamStore: func() (*team.Store, error) { return s, nil }, AgeIdentity: aliceID,
		Repin: recordPins(&pinned), Name: "bob", Yes: true}
	if err := recipientsRemoveRun(t.Context(), remove); err != nil || stdout.Len() != 0 {
		t.Fatalf("remove: err %v, stdout %q", err, stdout)
	}
	clitest.Golden(t, "recipients_remove.stderr.golden", stderr.String())
	if _, ok := pinned.Map()["bob"]; ok || len(pinned.Map()) != 2 {
		t.Fatalf("remove left the pins %v, want alice and carol", pinned.Map())
	}
}
