package sandboxtest_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
)

// ledgerEstate has 2 pools of 3 wallets in groups of 2 and 1, with two
// pending operations per group: 6 wallets, 4 groups, 8 operations.
func ledgerEstate(t *testing.T) sandbox.Inventory {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{Seed: 3, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 3, WalletsPerGroup: 2, OperationsPerGroup: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Inventory()
}

// checkOwners checks owner (name -> owner): a wallet and its
// operations share their group's owner and that groups have distinct ones.
func checkOwners(t *testing.T, inv sandbox.Inventory, owner map[string]string, prefix string) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range inv.DeviceGroups {
		o := owner[g.Name]
		if !strings.HasPrefix(o, prefix) || seen[o] {
			t.Fatalf("group %s owner %q", g.Name, o)
		}
		seen[o] = true
	}
	for _, w := range inv.Wallets {
		if owner[w.Name] != owner[w.DeviceGroup] {
			t.Fatalf("wallet %s owned by %q, its group by %q", w.Name, owner[w.Name], owner[w.DeviceGroup])
		}
	}
	for _, op := range inv.Operations {
		if owner[op.Name] != owner[op.DeviceGroup] {
			t.Fatalf("operation %s owned by %q, its group by %q", op.Name, owner[op.Name], owner[op.DeviceGroup])
		}
	}
}

func TestLedgerCSVListsEveryResourceWithItsOwner(t *testing.T) {
	inv := ledgerEstate(t)
	var buf bytes.Buffer
	if err := sandboxtest.WriteLedgerCSV(&buf, inv); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], []string{"kind", "name", "owner"}) {
		t.Fatalf("header %v", recs[0])
	}
	count := map[string]int{}
	owner := map[string]string{}
	for _, r := range recs[1:] {
		count[r[0]]++
		owner[r[1]] = r[2]
	}
	if count["wallet"] != 6 || count["device_group"] != 4 || count["operation"] != 8 || len(recs) != 19 {
		t.Fatalf("rows per kind %v", count)
	}
	checkOwners(t, inv, owner, "user-")
	if owner[inv.DeviceGroups[0].Name] != "user-1" {
		t.Fatalf("first group's owner %q", owner[inv.DeviceGroups[0].Name])
	}
}

func TestLedgerJSONLWithOwnerPrefix(t *testing.T) {
	inv := ledgerEstate(t)
	var buf bytes.Buffer
	if err := sandboxtest.WriteLedgerJSONL(&buf, inv, sandboxtest.OwnerPrefix("acct-")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 18 || !strings.HasPrefix(lines[0], `{"kind":"wallet","name":"pools/`) {
		t.Fatalf("%d lines, first %s", len(lines), lines[0])
	}
	owner := map[string]string{}
	for _, l := range lines {
		var r sandboxtest.LedgerRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		owner[r.Name] = r.Owner
	}
	checkOwners(t, inv, owner, "acct-")
}

// readLedger runs LedgerQueries and returns name -> owner per kind.
func readLedger(t *testing.T, query func(q string) ([][2]string, error)) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for kind, q := range sandboxtest.LedgerQueries {
		rows, err := query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[kind] = map[string]string{}
		for _, r := range rows {
			out[kind][r[0]] = r[1]
		}
	}
	return out
}

// checkSQLLedger checks a SQL ledger against inv: full names for wallets
// and groups, bare IDs for operations.
func checkSQLLedger(t *testing.T, inv sandbox.Inventory, got map[string]map[string]string) {
	t.Helper()
	owner := map[string]string{}
	for name, o := range got["wallets"] {
		owner[name] = o
	}
	for name, o := range got["device_groups"] {
		owner[name] = o
	}
	if len(got["wallets"]) != len(inv.Wallets) || len(got["device_groups"]) != len(inv.DeviceGroups) || len(got["operations"]) != len(inv.Operations) {
		t.Fatalf("ledger sizes %d/%d/%d", len(got["wallets"]), len(got["device_groups"]), len(got["operations"]))
	}
	for _, op := range inv.Operations {
		id := op.Name[strings.LastIndexByte(op.Name, '/')+1:]
		o, ok := got["operations"][id]
		if !ok {
			t.Fatalf("operation ID %s missing; ledger holds %v", id, got["operations"])
		}
		owner[op.Name] = o
	}
	checkOwners(t, inv, owner, "user-")
}

func TestLedgerSQLite(t *testing.T) {
	inv := ledgerEstate(t)
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := sandboxtest.CreateLedgerSQLite(path, inv); err != nil {
		t.Fatal(err)
	}
	if err := sandboxtest.CreateLedgerSQLite(path, inv); err == nil {
		t.Fatal("a second ledger over the first was not refused")
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSQLLedger(t, inv, readLedger(t, func(q string) ([][2]string, error) {
		rows, err := db.Query(q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var r [2]string
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}))
}

func TestLedgerPostgres(t *testing.T) {
	inv := ledgerEstate(t)
	dsn := sandboxtest.NewLedgerPostgres(t, inv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var colType string
	if err := conn.QueryRow(ctx, "SELECT data_type FROM information_schema.columns WHERE table_name = 'signing_requests' AND column_name = 'mpc_operation_id'").Scan(&colType); err != nil || colType != "uuid" {
		t.Fatalf("mpc_operation_id column type %q (%v), want uuid", colType, err)
	}
	checkSQLLedger(t, inv, readLedger(t, func(q string) ([][2]string, error) {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var r [2]string
			// A uuid column scans into a string in its canonical form.
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}))
}
