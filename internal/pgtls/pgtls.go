// Package pgtls tells whether a PostgreSQL connection could travel unencrypted to another
// host. The team store and the reconciliation ledger both refuse such a connection: anyone
// on the path of a plaintext connection reads the password and can answer every query (plant
// a key in the team store; make an unknown wallet look expected in a ledger).
package pgtls

import (
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// PlaintextHost returns the first host of cc (its own, then its fallbacks) that a connection
// could reach without TLS, and false if there is none. A DSN without sslmode is pgx's
// "prefer", which falls back to plaintext without a word; "disable" and "allow" can be
// plaintext too. A Unix socket and a loopback address never leave the host, so they count as
// safe whatever the sslmode.
func PlaintextHost(cc *pgconn.Config) (string, bool) {
	if cc.TLSConfig == nil && !Local(cc.Host) {
		return cc.Host, true
	}
	for _, fb := range cc.Fallbacks {
		if fb.TLSConfig == nil && !Local(fb.Host) {
			return fb.Host, true
		}
	}
	return "", false
}

// Local says whether host is a Unix socket folder, "localhost" or a loopback address. Not a
// name under .localhost: Go's resolver (and glibc without systemd-resolved) asks DNS for it
// like any other name, so whoever answers DNS chooses where it goes (the HTTP client's rule
// too, internal/waas).
func Local(host string) bool {
	if strings.HasPrefix(host, "/") || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
