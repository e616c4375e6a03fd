package team

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/pgdsn"
)

// PlaintextEnv, set to 1 (or true, yes, on), lets the team store be reached without TLS on a
// network this host trusts (an SSH tunnel, a private link, a CI job's service container):
// checkTransport then allows what it otherwise refuses.
const PlaintextEnv = "WAASCTL_STATE_PLAINTEXT"

// checkTransport refuses a connection that could go unencrypted to a host other than this one:
// anyone on the path could then answer the recipients query (and be encrypted to) or the key
// items query (and plant a key).
func checkTransport(cc *pgconn.Config, getenv func(string) string) error {
	if pgdsn.Allowed(getenv(PlaintextEnv)) {
		return nil
	}
	if host, ok := pgdsn.PlaintextHost(cc); ok {
		return fmt.Errorf("refusing to reach the team store on %s without TLS (the DSN's sslmode is absent, prefer, allow or disable): add sslmode=verify-full to the DSN (or verify-ca, or require, which encrypts but does not check the server); on a network you trust (a tunnel, a private link) %s instead (see docs/team.md)", pgdsn.Host(host), pgdsn.HowToAllow(PlaintextEnv, getenv(PlaintextEnv)))
	}
	return nil
}

// CheckDSN refuses dsn as Open would if it could go unencrypted to another host, for a
// connection waasctl makes to the team store's server outside Open (sandbox demo's CREATE
// DATABASE). A DSN that does not parse passes: the connection then fails on its own.
func CheckDSN(dsn string, getenv func(string) string) error {
	cc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil
	}
	return checkTransport(cc, getenv)
}
