// Package pgdsn is what the team store and the reconciliation ledger share of PostgreSQL
// connection strings: whether a connection could travel unencrypted to another host, why a
// DSN did not parse, and driver errors without the password. Both refuse a plaintext
// connection to another host: anyone on its path reads the password and can answer every
// query (plant a key in the team store; make an unknown wallet look expected in a ledger).
package pgdsn

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/textsafe"
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

// Allowed says whether value, that of a variable allowing plaintext (WAASCTL_LEDGER_PLAINTEXT,
// WAASCTL_STATE_PLAINTEXT), allows it: 1, true, yes or on, in any case. Anything else, a typo
// included, allows nothing.
func Allowed(value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// HowToAllow is the end of a refusal: set the variable name to 1, saying what it holds if it
// is set to something that allows nothing.
func HowToAllow(name, value string) string {
	if strings.TrimSpace(value) == "" {
		return "set " + name + "=1"
	}
	return "set " + name + "=1 (it is " + textsafe.Value(value) + ", which is not 1, true, yes or on)"
}

// Host is host quoted for a message: a host name or an IP address whatever its length (a cloud
// database's name often passes 32 characters), anything else as textsafe.Value shows it (it
// may be a pasted secret).
func Host(host string) string {
	if a, err := netip.ParseAddr(host); err == nil && len(host) <= 64 && a.IsValid() {
		return strconv.Quote(host)
	}
	if isHostName(host) {
		return strconv.Quote(host)
	}
	return textsafe.Value(host)
}

// isHostName says whether s is a DNS name: labels of letters, digits, '-' and '_', 1 to 63
// bytes each, 253 in all.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ParseReason says why a DSN that is well formed did not parse, when that can be told
// without quoting it: an unknown sslmode, a service that is not in the service file, a
// certificate or key (named by the DSN or a PG* variable) that cannot be read. It is nil for
// any other error, whose text may quote the DSN, password and all.
func ParseReason(err error) error {
	var pe *fs.PathError
	var pce *pgconn.ParseConfigError
	switch {
	case errors.As(err, &pce) && pce.Unwrap() != nil && pce.Unwrap().Error() == "sslmode is invalid":
		return errors.New("sslmode must be disable, allow, prefer, require, verify-ca or verify-full (verify-full checks the server's certificate and name)")
	case strings.Contains(err.Error(), "failed to read service"):
		return errors.New("cannot read the PostgreSQL service that PGSERVICE or the DSN's service= names: add it to the service file (PGSERVICEFILE, else ~/.pg_service.conf), or unset PGSERVICE")
	case errors.As(err, &pe):
		return fmt.Errorf("cannot read %s, which the DSN's sslrootcert, sslcert or sslkey (or PGSSLROOTCERT, PGSSLCERT, PGSSLKEY) names: %v", textsafe.Message(pe.Path), pe.Err)
	}
	return nil
}

// Scrub removes a DSN's password from a driver error, in case it
// quotes it. It also keeps the message on one line (pgx puts each address it
// tried on a line of its own), inert and of bounded length, since much of it
// is the database server's text.
func Scrub(err error, password string) error {
	msg := err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	msg = textsafe.Message(strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(msg, ":\n", ": "), "\n", "; ")), " "))
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
