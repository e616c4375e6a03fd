package reconcile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/waasctl/waasctl/internal/pgdsn"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqlLedger runs one query per kind and streams its rows. A query returns
// the resource name and, optionally, its owner.
type sqlLedger struct {
	db       *sql.DB
	desc     string
	queries  map[Kind]string
	snapshot bool   // read every kind in one repeatable-read transaction
	secret   string // the DSN's password, scrubbed from driver errors
}

// connectTimeout bounds connecting when the DSN does not say.
const connectTimeout = 10 * time.Second

// PlaintextEnv, set to 1 (or true, yes, on), lets a PostgreSQL ledger be read without TLS on a
// network this host trusts (a tunnel, a private link, a CI job's service container).
const PlaintextEnv = "WAASCTL_LEDGER_PLAINTEXT"

func openPostgres(ctx context.Context, dsn string, queries map[Kind]string) (Ledger, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		if why := pgdsn.ParseReason(err); why != nil {
			return nil, &LedgerError{Ledger: "postgres", Err: why}
		}
		// pgx's message can quote the DSN, password and all.
		return nil, &LedgerError{Ledger: "postgres", Err: errors.New("the DSN is not a valid postgres:// URL (see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS)")}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host
	}
	desc := fmt.Sprintf("postgres database %s on %s as %s", cfg.Database, host, cfg.User)
	// Refused before anything is sent: on the path of a plaintext connection, anyone reads the
	// password and answers the queries, and a ledger answered so makes every wallet and
	// operation look expected: an audit that says CLEAN about a leaked key's work.
	if plain, ok := pgdsn.PlaintextHost(&cfg.Config); ok && !pgdsn.Allowed(os.Getenv(PlaintextEnv)) {
		return nil, &LedgerError{Ledger: desc, Err: fmt.Errorf("refusing to connect to %s without TLS (the DSN's sslmode is absent, prefer, allow or disable): add sslmode=verify-full to the DSN (or verify-ca, or require, which encrypts but does not check the server); on a network you trust (a tunnel, a private link) %s instead (see docs/reconciliation.md)", pgdsn.Host(plain), pgdsn.HowToAllow(PlaintextEnv, os.Getenv(PlaintextEnv)))}
	}
	l := &sqlLedger{
		db:       stdlib.OpenDB(*cfg),
		desc:     desc,
		queries:  queries,
		snapshot: true,
		secret:   cfg.Password,
	}
	l.db.SetMaxOpenConns(1)
	if err := l.db.PingContext(ctx); err != nil {
		l.db.Close()
		return nil, &LedgerError{Ledger: l.desc, Err: fmt.Errorf("cannot connect: %w", l.scrub(err))}
	}
	return l, nil
}

func openSQLite(ctx context.Context, path string, queries map[Kind]string) (Ledger, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &LedgerError{Ledger: "sqlite " + path, Err: err}
	}
	// Read-only, so a mistyped path or query can never change the file.
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro&_pragma=busy_timeout(5000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, &LedgerError{Ledger: "sqlite " + path, Err: err}
	}
	l := &sqlLedger{db: db, desc: "sqlite " + path, queries: queries}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &LedgerError{Ledger: l.desc, Err: fmt.Errorf("cannot open: %w", err)}
	}
	return l, nil
}

func (l *sqlLedger) String() string { return l.desc }
func (l *sqlLedger) Close() error   { return l.db.Close() }

// scrub removes the password from a driver error: see pgdsn.Scrub.
func (l *sqlLedger) scrub(err error) error { return pgdsn.Scrub(err, l.secret) }

// QueryKey is the config key holding kind's query, for messages.
func QueryKey(k Kind) string { return string(k) + "s_query" }

func (l *sqlLedger) Scan(ctx context.Context, kinds []Kind, fn func(Entry) error) error {
	for _, k := range kinds {
		if strings.TrimSpace(l.queries[k]) == "" {
			return &LedgerError{Ledger: l.desc, Err: fmt.Errorf("no query for %s: set ledger.%s in the profile's config, or pass --ledger-query %s=SQL", k.Plural(), QueryKey(k), k)}
		}
	}
	var q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = l.db
	if l.snapshot && len(kinds) > 1 {
		// Every kind from the same moment of the database.
		tx, err := l.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return &LedgerError{Ledger: l.desc, Err: l.scrub(err)}
		}
		defer tx.Rollback() //nolint:errcheck // read-only
		q = tx
	}
	for _, k := range kinds {
		if err := l.scanQuery(ctx, q, k, fn); err != nil {
			return err
		}
	}
	return nil
}

func (l *sqlLedger) scanQuery(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, k Kind, fn func(Entry) error) error {
	what := fmt.Sprintf("the %s query", k.Plural())
	rows, err := q.QueryContext(ctx, l.queries[k])
	if err != nil {
		return &LedgerError{Ledger: l.desc, Where: what, Err: l.scrub(err)}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return &LedgerError{Ledger: l.desc, Where: what, Err: l.scrub(err)}
	}
	if len(cols) < 1 || len(cols) > 2 {
		return &LedgerError{Ledger: l.desc, Where: what, Err: fmt.Errorf("returns %d columns (%s); want the %s name, then optionally its owner", len(cols), clip(strings.Join(cols, ", ")), k)}
	}
	var name, owner sql.NullString
	dest := []any{&name, &owner}[:len(cols)]
	for row := 1; rows.Next(); row++ {
		where := fmt.Sprintf("row %d of %s", row, what)
		if err := rows.Scan(dest...); err != nil {
			return &LedgerError{Ledger: l.desc, Where: where, Err: l.scrub(err)}
		}
		if !name.Valid {
			return &LedgerError{Ledger: l.desc, Where: where + ", column " + cols[0], Err: errors.New("the name is NULL")}
		}
		n, err := Normalize(k, name.String)
		if err != nil {
			return &LedgerError{Ledger: l.desc, Where: where + ", column " + cols[0], Err: err}
		}
		if err := fn(Entry{Kind: k, Name: n, Owner: strings.TrimSpace(owner.String), Where: where}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return &LedgerError{Ledger: l.desc, Where: what, Err: l.scrub(err)}
	}
	return nil
}
