package sandbox

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/team"
)

// The demo's admin connection (CREATE DATABASE) keeps the team store's rule: a server on
// another host that could be reached without TLS is refused before the password is sent.
func TestDemoDatabaseRefusesPlaintextToAnotherHost(t *testing.T) {
	t.Setenv(team.PlaintextEnv, "")
	const pw = "s3cr3t-Adm1n"
	_, _, err := createDemoDatabase(t.Context(), "postgres://admin:"+pw+"@db.invalid:5432/postgres?connect_timeout=1")
	if err == nil || !strings.Contains(err.Error(), "without TLS") || !strings.Contains(err.Error(), "sslmode=verify-full") {
		t.Fatalf("createDemoDatabase without TLS to db.invalid: %v; want a refusal saying what to do", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Errorf("the error shows the password: %v", err)
	}
}
