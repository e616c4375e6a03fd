package team

import (
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// PlaintextEnv, set to 1, lets the team store be reached without TLS on a network this host
// trusts (an SSH tunnel, a private link, a CI job's service container): checkTransport then
// allows what it otherwise refuses.
const PlaintextEnv = "WAASCTL_STATE_PLAINTEXT"

// checkTransport refuses a connection that could go unencrypted to a host other than this one:
// anyone on the path could then answer the recipients query (and be encrypted to) or the key
// items query (and plant a key). A DSN without sslmode is pgx's "prefer", which falls back to
// plaintext without a word; "disable" and "allow" can be plaintext too. A Unix socket and a
// loopback address never leave the host.
func checkTransport(cc *pgconn.Config, getenv func(string) string) error {
	if getenv(PlaintextEnv) == "1" {
		return nil
	}
	tries := []struct {
		host string
		tls  bool
	}{{cc.Host, cc.TLSConfig != nil}}
	for _, fb := range cc.Fallbacks {
		tries = append(tries, struct {
			host string
			tls  bool
		}{fb.Host, fb.TLSConfig != nil})
	}
	for _, t := range tries {
		if !t.tls && !localHost(t.host) {
			return fmt.Errorf("refusing to reach the team store on %s without TLS (the DSN's sslmode is absent, prefer, allow or disable): add sslmode=verify-full to the DSN (or verify-ca, or require, which encrypts but does not check the server); on a network you trust (a tunnel, a private link) set %s=1 instead (see docs/team.md)", textsafe.Value(t.host), PlaintextEnv)
		}
	}
	return nil
}

// localHost says whether host is a Unix socket folder or a loopback name or address.
func localHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
