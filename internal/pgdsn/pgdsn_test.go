package pgdsn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/pgdsn"
)

// A DSN that could go unencrypted to another host is found, with that host; one that cannot
// (TLS required, a Unix socket, loopback) is not.
func TestPlaintextHost(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u@db.internal/team":                            "db.internal", // no sslmode: prefer, plaintext fallback
		"postgres://u@db.internal/team?sslmode=prefer":             "db.internal",
		"postgres://u@db.internal/team?sslmode=allow":              "db.internal",
		"postgres://u@db.internal/team?sslmode=disable":            "db.internal",
		"host=10.0.0.5 user=u dbname=team":                         "10.0.0.5",
		"postgres://u@127.0.0.1,db1.internal/team?sslmode=disable": "db1.internal", // a fallback host is remote
		"postgres://u@db.internal/team?sslmode=require":            "",
		"postgres://u@db.internal/team?sslmode=verify-full":        "",
		"postgres://u@db.internal/team?sslmode=verify-ca":          "",
		"postgres://u@127.0.0.1:5432/team?sslmode=disable":         "",
		"postgres://u@[::1]:5432/team":                             "",
		"postgres://u@localhost/team?sslmode=disable":              "",
		"postgres://u@LocalHost/team?sslmode=disable":              "",
		"postgres://u@[::ffff:127.0.0.1]/team?sslmode=disable":     "",
		// Names under .localhost go to DNS like any other (Go's resolver, glibc without
		// systemd-resolved): whoever answers them gets the connection.
		"postgres://u@db.localhost/team?sslmode=disable":          "db.localhost",
		"host=db.localhost user=u dbname=team":                    "db.localhost",
		"postgres://u@localhost./team?sslmode=disable":            "localhost.",
		"postgres://u@/team?host=/run/postgresql&sslmode=disable": "",
		"host=/tmp user=u dbname=team":                            "",
	} {
		cc, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		host, ok := pgdsn.PlaintextHost(cc)
		if host != want || ok != (want != "") {
			t.Errorf("%s: PlaintextHost = %q, %v; want %q", dsn, host, ok, want)
		}
	}
}

// The variables that allow plaintext (WAASCTL_LEDGER_PLAINTEXT, WAASCTL_STATE_PLAINTEXT) take
// what an operator types for yes; anything else allows nothing, and the refusal then says what
// the variable holds, so that WAASCTL_LEDGER_PLAINTEXT=enable is not a mystery.
func TestAllowed(t *testing.T) {
	for v, want := range map[string]bool{
		"1": true, "true": true, "TRUE": true, "True": true, "yes": true, "Yes": true, "on": true, " 1 ": true,
		"": false, "0": false, "false": false, "no": false, "off": false, "enable": false, "y": false,
	} {
		if got := pgdsn.Allowed(v); got != want {
			t.Errorf("Allowed(%q) = %v; want %v", v, got, want)
		}
	}
	if got := pgdsn.HowToAllow("WAASCTL_LEDGER_PLAINTEXT", ""); got != "set WAASCTL_LEDGER_PLAINTEXT=1" {
		t.Errorf("HowToAllow unset = %q", got)
	}
	if got := pgdsn.HowToAllow("WAASCTL_LEDGER_PLAINTEXT", "enable"); !strings.Contains(got, `set WAASCTL_LEDGER_PLAINTEXT=1 (it is "enable", which is not 1, true, yes or on)`) {
		t.Errorf("HowToAllow enable = %q", got)
	}
}

// The refused host is named, however long its name (a cloud database's often is), but what is
// not a host name is described, not quoted (it may be a pasted secret).
func TestHostNamesTheHost(t *testing.T) {
	for host, want := range map[string]string{
		"ledger-primary.prod.eu-west-1.rds.amazonaws.com": `"ledger-primary.prod.eu-west-1.rds.amazonaws.com"`,
		"10.0.0.5":      `"10.0.0.5"`,
		"fe80::1%eth0":  `"fe80::1%eth0"`,
		"db_1.internal": `"db_1.internal"`,
		"MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQbXKxMg9M1uoAoGCCqGSM49AwEHoUQDQgAE": "(a value of 76 characters, not shown)",
		"a b": `"a b"`,
	} {
		if got := pgdsn.Host(host); got != want {
			t.Errorf("Host(%q) = %s; want %s", host, got, want)
		}
	}
}

// A driver error comes back on one line, without the password, its "address:" lines joined
// as a sentence ("…l`: dial …; dial …", not "…l`:; dial …").
func TestScrubKeepsOneLineWithoutThePassword(t *testing.T) {
	err := errors.New("failed to connect to `user=a database=l`:\n\t127.0.0.1:1 (db): dial error: s3cret refused\n\t[::1]:1 (db): dial error")
	got := pgdsn.Scrub(err, "s3cret").Error()
	want := "failed to connect to `user=a database=l`: 127.0.0.1:1 (db): dial error: xxxxx refused; [::1]:1 (db): dial error"
	if got != want {
		t.Errorf("Scrub = %q\nwant    %q", got, want)
	}
}
