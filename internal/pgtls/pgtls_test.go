package pgtls_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/pgtls"
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
		host, ok := pgtls.PlaintextHost(cc)
		if host != want || ok != (want != "") {
			t.Errorf("%s: PlaintextHost = %q, %v; want %q", dsn, host, ok, want)
		}
	}
}
