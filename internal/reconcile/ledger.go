package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/waasctl/waasctl/internal/textsafe"
)

// Entry is one row of a ledger: a resource the middle tier created.
type Entry struct {
	Kind  Kind
	Name  Name
	Owner string // the end user, tenant or whatever the ledger says owns it; may be empty
	Where string // "line 12", "row 12 of the wallets query": for messages
}

// Ledger is the middle tier's record of what it owns. Implementations
// stream: memory does not grow with the ledger.
type Ledger interface {
	// Scan calls fn with every entry of the given kinds. A malformed
	// entry ends the scan with a *LedgerError naming where it is.
	Scan(ctx context.Context, kinds []Kind, fn func(Entry) error) error
	// String describes the ledger without secrets, e.g.
	// "postgres database ledger on /run/pg as app".
	String() string
	Close() error
}

// LedgerError is a ledger that cannot be read, or a row that is wrong.
type LedgerError struct {
	Ledger string // the ledger's description
	Where  string // "line 7, column 3", "the wallets query", ... ; may be empty
	Err    error
}

// Error is one inert line: the message can quote what the database said
// (its errors, its column names), and a database is not trusted to say
// nothing a terminal would act on.
func (e *LedgerError) Error() string {
	if e.Where == "" {
		return textsafe.Line(fmt.Sprintf("ledger %s: %v", e.Ledger, e.Err))
	}
	return textsafe.Line(fmt.Sprintf("ledger %s: %s: %v", e.Ledger, e.Where, e.Err))
}

func (e *LedgerError) Unwrap() error { return e.Err }

// Spec says where a ledger is and, for databases, how to read it.
type Spec struct {
	// Source is a PostgreSQL URL (postgres://, postgresql://), a SQLite
	// file (sqlite:PATH, or a path ending .db, .sqlite or .sqlite3), or a
	// CSV or JSONL file (a path ending .csv, .jsonl or .ndjson, or
	// csv:PATH, jsonl:PATH).
	Source string
	// Queries maps each kind to the SQL that returns its names and,
	// optionally, owners: one or two columns. Only for databases.
	Queries map[Kind]string
}

// ErrNoLedger is returned by Open for an empty Spec.
var ErrNoLedger = errors.New("no ledger configured")

// Open opens the ledger spec names and checks that it can be read: a
// database is connected to, a file must exist. Queries run at Scan.
func Open(ctx context.Context, spec Spec) (Ledger, error) {
	src := strings.TrimSpace(spec.Source)
	if src == "" {
		return nil, ErrNoLedger
	}
	kind, target := classify(src)
	switch kind {
	case "postgres":
		return openPostgres(ctx, target, spec.Queries)
	case "sqlite":
		if err := mustExist(target); err != nil {
			return nil, &LedgerError{Ledger: "sqlite " + target, Err: err}
		}
		return openSQLite(ctx, target, spec.Queries)
	case "csv", "jsonl":
		if len(spec.Queries) > 0 {
			return nil, &LedgerError{Ledger: kind + " " + target, Err: errors.New("queries apply to database ledgers only; a file ledger has kind,name,owner columns")}
		}
		if err := mustExist(target); err != nil {
			return nil, &LedgerError{Ledger: kind + " " + target, Err: err}
		}
		return &fileLedger{path: target, format: kind}, nil
	}
	return nil, &LedgerError{Ledger: clip(redact(src)), Err: errors.New("cannot tell what kind of ledger this is: use postgres://..., sqlite:PATH, or a .csv or .jsonl file (csv:PATH or jsonl:PATH for other names)")}
}

// classify splits a ledger source into its kind and target.
func classify(src string) (kind, target string) {
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return "postgres", src
	case !strings.Contains(src, "://") && (strings.Contains(lower, "dbname=") || strings.Contains(lower, "host=")) && strings.Contains(src, " "):
		return "postgres", src // libpq's key=value form
	case strings.HasPrefix(lower, "sqlite:"):
		return "sqlite", strings.TrimPrefix(src[len("sqlite:"):], "//")
	case strings.HasPrefix(lower, "csv:"):
		return "csv", src[len("csv:"):]
	case strings.HasPrefix(lower, "jsonl:"):
		return "jsonl", src[len("jsonl:"):]
	}
	switch strings.ToLower(filepath.Ext(src)) {
	case ".csv":
		return "csv", src
	case ".jsonl", ".ndjson":
		return "jsonl", src
	case ".db", ".sqlite", ".sqlite3":
		return "sqlite", src
	}
	return "", src
}

func mustExist(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.New("no such file")
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a folder, not a file")
	}
	return nil
}

var passwordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// RedactSource is a ledger source (a DSN) with its password masked, for showing it:
// `waasctl config view` and every message that names a ledger.
func RedactSource(src string) string { return redact(src) }

// redact drops a password from a ledger source before it goes in a
// message: URL user info and libpq's password=... .
func redact(src string) string {
	return passwordKV.ReplaceAllString(textsafe.MaskPassword(src), "${1}xxxxx")
}
