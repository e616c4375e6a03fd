package team_test

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/team"
)

// A DSN that could go unencrypted to another host is refused, saying what to do; one that
// cannot, or that the operator deliberately allows, is not (pgdsn.TestPlaintextHost has every
// sslmode and host form).
func TestTransportWithoutTLSToAnotherHostIsRefused(t *testing.T) {
	none := func(string) string { return "" }
	for dsn, refused := range map[string]bool{
		"postgres://u@db.internal/team":                                     true,
		"postgres://u@db.internal/team?sslmode=verify-full":                 false,
		"postgres://u@127.0.0.1:5432/team?sslmode=disable":                  false,
		"postgres://u@ledger-primary.prod.eu-west-1.rds.amazonaws.com/team": true,
	} {
		err := team.CheckTransport(dsn, none)
		if (err != nil) != refused {
			t.Errorf("%s: %v; want refused=%v", dsn, err, refused)
		}
		if err != nil && (!strings.Contains(err.Error(), "sslmode=verify-full") || !strings.Contains(err.Error(), team.PlaintextEnv) || strings.Contains(err.Error(), "not shown")) {
			t.Errorf("%s: the error does not say what to do: %v", dsn, err)
		}
		for _, yes := range []string{"1", "true", "yes"} {
			if err := team.CheckTransport(dsn, func(k string) string { return map[string]string{team.PlaintextEnv: yes}[k] }); err != nil {
				t.Errorf("%s with %s=%s: %v", dsn, team.PlaintextEnv, yes, err)
			}
		}
		enable := func(k string) string { return map[string]string{team.PlaintextEnv: "enable"}[k] }
		if err := team.CheckTransport(dsn, enable); (err != nil) != refused ||
			err != nil && !strings.Contains(err.Error(), `(it is "enable", which is not 1, true, yes or on)`) {
			t.Errorf("%s with %s=enable: %v; want refused=%v, saying what the variable holds", dsn, team.PlaintextEnv, err, refused)
		}
	}
}

// Open refuses before connecting (nothing is sent in clear, not even the password), in one line
// without the password.
func TestOpenRefusesPlaintextToAnotherHost(t *testing.T) {
	t.Setenv(team.PlaintextEnv, "")
	const pw = "s3cr3t-Pa55word"
	start := time.Now()
	_, err := team.Open(t.Context(), "postgres://u:"+pw+"@db.invalid:5432/team")
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("Open without TLS to db.invalid: %v", err)
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error shows the password or spans lines: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Open took %s: it tried to connect", took)
	}
}

// PGSERVICE naming a service that cannot be read is said as such, not as a DSN typo.
func TestOpenNamesAnUnreadableService(t *testing.T) {
	t.Setenv("PGSERVICE", "nosuch")
	t.Setenv("PGSERVICEFILE", t.TempDir()+"/pg_service.conf")
	_, err := team.Open(t.Context(), "postgres://u:pw@127.0.0.1:1/team")
	if err == nil || !strings.Contains(err.Error(), "PGSERVICE") || strings.Contains(err.Error(), "not a valid PostgreSQL URL") {
		t.Fatalf("Open with PGSERVICE=nosuch: %v", err)
	}
}

// A certificate the DSN names that cannot be read is said as such, not as a DSN typo.
func TestOpenNamesAnUnreadableCertificate(t *testing.T) {
	missing := t.TempDir() + "/root.crt"
	_, err := team.Open(t.Context(), "postgres://u:hunter2@db.invalid/team?sslmode=verify-full&sslrootcert="+missing)
	if err == nil || !strings.Contains(err.Error(), "cannot read "+missing) || strings.Contains(err.Error(), "not a valid") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open with an unreadable sslrootcert: %v", err)
	}
}

// A mistyped sslmode names the values there are, not a malformed URL.
func TestOpenNamesTheSSLModes(t *testing.T) {
	_, err := team.Open(t.Context(), "postgres://u:hunter2@db.example.com/team?sslmode=verify_full")
	if err == nil || !strings.Contains(err.Error(), "sslmode must be disable, allow, prefer, require, verify-ca or verify-full") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open with sslmode=verify_full: %v", err)
	}
}
