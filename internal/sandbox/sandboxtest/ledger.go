package sandboxtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/waasctl/waasctl/internal/sandbox"
)

// A ledger is the middle tier's record of what it owns: every MPC wallet,
// device group and pending MPC operation, each with the end user it belongs
// to. Tests build one from a sandbox's Inventory before an adversary plants
// anything, so that a reconciler comparing the two finds exactly the plants.

// The kinds of ledger rows.
const (
	LedgerWallet      = "wallet"
	LedgerDeviceGroup = "device_group"
	LedgerOperation   = "operation"
)

// LedgerRow is one resource the middle tier owns.
type LedgerRow struct {
	Kind  string `json:"kind"`  // LedgerWallet, LedgerDeviceGroup or LedgerOperation
	Name  string `json:"name"`  // the full resource name
	Owner string `json:"owner"` // the end user, e.g. user-1
}

// LedgerQueries are the queries that read the SQL ledgers this package
// creates, one per kind, each returning (name or ID, owner). The operations
// query returns bare operation IDs, as a real middle tier stores them.
var LedgerQueries = map[string]string{
	"operations":    "SELECT mpc_operation_id, user_id FROM signing_requests",
	"wallets":       "SELECT wallet_name, user_id FROM wallets",
	"device_groups": "SELECT device_group, user_id FROM device_groups",
}

// LedgerOption changes how a ledger is written.
type LedgerOption func(*ledgerOptions)

type ledgerOptions struct{ ownerPrefix string }

// OwnerPrefix names owners prefix+n instead of user-n.
func OwnerPrefix(prefix string) LedgerOption {
	return func(o *ledgerOptions) { o.ownerPrefix = prefix }
}

// LedgerRows is inv as a ledger: wallets, then device groups, then
// operations, each in name order. Each device group belongs to one user,
// numbered in group name order from 1, and its wallets and operations to
// the same user.
func LedgerRows(inv sandbox.Inventory, opts ...LedgerOption) []LedgerRow {
	o := ledgerOptions{ownerPrefix: "user-"}
	for _, opt := range opts {
		opt(&o)
	}
	owner := make(map[string]string, len(inv.DeviceGroups))
	for i, g := range inv.DeviceGroups {
		owner[g.Name] = o.ownerPrefix + strconv.Itoa(i+1)
	}
	rows := make([]LedgerRow, 0, len(inv.Wallets)+len(inv.DeviceGroups)+len(inv.Operations))
	for _, w := range inv.Wallets {
		rows = append(rows, LedgerRow{LedgerWallet, w.Name, owner[w.DeviceGroup]})
	}
	for _, g := range inv.DeviceGroups {
		rows = append(rows, LedgerRow{LedgerDeviceGroup, g.Name, owner[g.Name]})
	}
	for _, op := range inv.Operations {
		rows = append(rows, LedgerRow{LedgerOperation, op.Name, owner[op.DeviceGroup]})
	}
	return rows
}

// WriteLedgerCSV writes inv as CSV with the header kind,name,owner.
func WriteLedgerCSV(w io.Writer, inv sandbox.Inventory, opts ...LedgerOption) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "name", "owner"})
	for _, r := range LedgerRows(inv, opts...) {
		_ = cw.Write([]string{r.Kind, r.Name, r.Owner})
	}
	cw.Flush()
	return cw.Error()
}

// WriteLedgerJSONL writes inv as one {"kind","name","owner"} object a line.
func WriteLedgerJSONL(w io.Writer, inv sandbox.Inventory, opts ...LedgerOption) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range LedgerRows(inv, opts...) {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ledgerTables is the SQL schema: table and columns per kind. Operations
// are stored by their bare ID, as a middle tier that keeps the ID the
// create call returned does.
var ledgerTables = []struct {
	kind, table, column string
}{
	{LedgerWallet, "wallets", "wallet_name"},
	{LedgerDeviceGroup, "device_groups", "device_group"},
	{LedgerOperation, "signing_requests", "mpc_operation_id"},
}

// storedName is what the ledger's SQL tables hold for a row's name.
func storedName(r LedgerRow) string {
	if r.Kind == LedgerOperation {
		return r.Name[strings.LastIndexByte(r.Name, '/')+1:]
	}
	return r.Name
}

// CreateLedgerSQLite creates a SQLite ledger of inv at path, which must not
// exist yet: tables wallets(wallet_name, user_id), device_groups(
// device_group, user_id) and signing_requests(mpc_operation_id, user_id),
// read by LedgerQueries.
func CreateLedgerSQLite(path string, inv sandbox.Inventory, opts ...LedgerOption) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("ledger %s already exists", path)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	// A throwaway file: no journal, no fsync.
	if _, err := db.Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	rows := LedgerRows(inv, opts...)
	for _, t := range ledgerTables {
		if _, err := tx.Exec(fmt.Sprintf("CREATE TABLE %s (%s TEXT, user_id TEXT)", t.table, t.column)); err != nil {
			return err
		}
		stmt, err := tx.Prepare(fmt.Sprintf("INSERT INTO %s (%s, user_id) VALUES (?, ?)", t.table, t.column))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Kind != t.kind {
				continue
			}
			if _, err := stmt.Exec(storedName(r), r.Owner); err != nil {
				stmt.Close()
				return err
			}
		}
		stmt.Close()
	}
	return tx.Commit()
}

// Environment variables that point tests at a PostgreSQL server.
const (
	// PostgresDSNEnv holds a postgres:// URL of a server's postgres
	// database, as scripts/with-postgres.sh exports it.
	PostgresDSNEnv = "WAASCTL_TEST_POSTGRES_DSN"
	// RequirePostgresEnv=1 makes tests that need PostgreSQL fail rather
	// than skip when PostgresDSNEnv is unset, so CI cannot skip them
	// silently.
	RequirePostgresEnv = "WAASCTL_REQUIRE_POSTGRES"
)

// PostgresDSN returns the test server's admin DSN from PostgresDSNEnv, or
// skips the test when there is none (fails it under RequirePostgresEnv=1).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv(RequirePostgresEnv) == "1" {
			t.Fatalf("%s is unset but %s=1: run under scripts/with-postgres.sh", PostgresDSNEnv, RequirePostgresEnv)
		}
		t.Skipf("no PostgreSQL: %s is unset (run under scripts/with-postgres.sh)", PostgresDSNEnv)
	}
	return dsn
}

// NewLedgerPostgres creates a PostgreSQL ledger of inv in a new database
// of the test server, dropped when the test ends, and returns its DSN. It
// skips the test without a server, as PostgresDSN does.
func NewLedgerPostgres(t testing.TB, inv sandbox.Inventory, opts ...LedgerOption) string {
	t.Helper()
	admin := PostgresDSN(t)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "waasctl_ledger_" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dsn, err := CreateLedgerPostgres(ctx, admin, name, inv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := DropLedgerPostgres(ctx, admin, name); err != nil {
			t.Logf("dropping ledger database %s: %v", name, err)
		}
	})
	return dsn
}

// CreateLedgerPostgres creates database dbName on the server of adminDSN
// (a postgres:// URL), replacing any database of that name, loads inv into
// it with the tables CreateLedgerSQLite makes, except that
// signing_requests.mpc_operation_id is a uuid column, and returns the DSN
// of the new database.
func CreateLedgerPostgres(ctx context.Context, adminDSN, dbName string, inv sandbox.Inventory, opts ...LedgerOption) (string, error) {
	dsn, err := withDatabase(adminDSN, dbName)
	if err != nil {
		return "", err
	}
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", fmt.Errorf("ledger: connecting to the PostgreSQL server: %w", err)
	}
	db := pgx.Identifier{dbName}.Sanitize()
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if err == nil {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+db)
	}
	_ = admin.Close(ctx)
	if err != nil {
		return "", fmt.Errorf("ledger: creating database %s: %w", dbName, err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("ledger: connecting to %s: %w", dbName, err)
	}
	defer conn.Close(ctx)
	rows := LedgerRows(inv, opts...)
	for _, t := range ledgerTables {
		colType := "TEXT"
		if t.kind == LedgerOperation {
			colType = "uuid"
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s %s, user_id TEXT)", t.table, t.column, colType)); err != nil {
			return "", fmt.Errorf("ledger: %w", err)
		}
		var values [][]any
		for _, r := range rows {
			if r.Kind != t.kind {
				continue
			}
			var v any = storedName(r)
			if t.kind == LedgerOperation {
				id, err := uuid.Parse(storedName(r))
				if err != nil {
					return "", fmt.Errorf("ledger: operation %s: %w", r.Name, err)
				}
				v = pgtype.UUID{Bytes: id, Valid: true}
			}
			values = append(values, []any{v, r.Owner})
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{t.table}, []string{t.column, "user_id"}, pgx.CopyFromRows(values)); err != nil {
			return "", fmt.Errorf("ledger: loading %s: %w", t.table, err)
		}
	}
	return dsn, nil
}

// DropLedgerPostgres drops database dbName, if it exists, from the server
// of adminDSN.
func DropLedgerPostgres(ctx context.Context, adminDSN, dbName string) error {
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize())
	return err
}

// withDatabase is adminDSN with its database replaced by dbName.
func withDatabase(adminDSN, dbName string) (string, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not echoing the DSN: it may hold a password.
		return "", errors.New("ledger: the PostgreSQL DSN must be a postgres:// URL")
	}
	if dbName == "" || strings.ContainsAny(dbName, "/?#") {
		return "", fmt.Errorf("ledger: database name %q: want a plain name", dbName)
	}
	u.Path, u.RawPath = "/"+dbName, ""
	return u.String(), nil
}
