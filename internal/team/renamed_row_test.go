package team_test

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
)

// A pinned member's row renamed by SQL (bob's key listed as "carol"): every write refuses in
// one line that names both names, so that the operator fixes the name rather than following
// advice to add bob again; nothing is written.
func TestARenamedRecipientRowIsNamedAsSuch(t *testing.T) {
	t.Parallel()
	dsn, s, alice, _ := twoMembers(t)
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `UPDATE waasctl.recipients SET name = 'carol' WHERE name = 'bob'`); err != nil {
		t.Fatal(err)
	}
	before := readRow(t, c, "prod")
	err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 2, "prod")})
	if err == nil || !strings.Contains(err.Error(), "lists bob's key under the name carol") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Put with bob's row renamed carol: %v; want one line naming both", err)
	}
	if after := readRow(t, c, "prod"); after.version != before.version || string(after.ct) != string(before.ct) {
		t.Fatal("prod was rewritten")
	}
}
