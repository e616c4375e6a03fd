package team_test

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/team"
)

// A key row copied before a member change and written back after it (bob swapped for carol,
// the team's size unchanged) is refused on read: it was sealed for alice and bob, and bob, who
// left, could read it. The check is on who it was sealed for, not on how many.
func TestARowFromBeforeAMemberSwapIsRefused(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	c := sqlConn(t, dsn)
	old := readRow(t, c, "prod")

	carol := team.NewTestIdentity()
	addRecipients(t, s, alice, map[string]*team.Identity{"carol": carol})
	if _, err := s.RemoveRecipient(t.Context(), "bob", alice, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys(alice).Get(t.Context(), "prod"); err != nil {
		t.Fatalf("alice reads prod after the swap: %v", err)
	}

	writeRow(t, c, "prod", old) // someone who can write the database rolls the row back
	_, err := s.Keys(alice).Get(t.Context(), "prod")
	if err == nil || !strings.Contains(err.Error(), "sealed for another recipient set") {
		t.Fatalf("alice reads the rolled-back row: %v; want a refusal naming the recipient set", err)
	}
}
