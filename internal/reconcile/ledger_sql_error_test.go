package reconcile_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
)

// A query that fails part way (here on its fifth row, after four good ones) is an error
// naming the query, never a complete but shorter ledger: the wallets it did not return would
// be reported as owned by no one.
func TestSQLLedgerQueryFailingPartWayIsAnError(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE wallets (wallet_name TEXT, user_id TEXT)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		// abs() of the smallest integer overflows: a run-time error on row 5.
		query := `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM s WHERE n < 10)
			SELECT CASE WHEN n < 5 THEN printf('pools/p1/mpcWallets/0b5d6a4e-1d3b-4b8e-9a53-2f8e0c1d2e%02d', n) ELSE abs(-9223372036854775807 - 1) END, 'alice' FROM s`
		checkFailsPartWay(t, "sqlite:"+path, query)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sandboxtest.PostgresDSN(t)
		// Division by zero on row 5.
		query := `SELECT CASE WHEN n < 5 THEN 'pools/p1/mpcWallets/0b5d6a4e-1d3b-4b8e-9a53-2f8e0c1d2e' || lpad(n::text, 2, '0') ELSE (1/(n-n))::text END, 'alice' FROM generate_series(1, 10) AS n`
		checkFailsPartWay(t, dsn, query)
	})
}

func checkFailsPartWay(t *testing.T, source, query string) {
	t.Helper()
	ctx := context.Background()
	l, err := reconcile.Open(ctx, reconcile.Spec{Source: source, Queries: map[reconcile.Kind]string{reconcile.Wallet: query}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows := 0
	err = l.Scan(ctx, []reconcile.Kind{reconcile.Wallet}, func(reconcile.Entry) error { rows++; return nil })
	if err == nil {
		t.Fatalf("a query that failed after %d rows was read as a complete ledger", rows)
	}
	if rows >= 10 {
		t.Fatalf("%d rows read from a query that fails on row 5", rows)
	}
	if !strings.Contains(err.Error(), "the wallets query") {
		t.Fatalf("err = %v, want it to name the query", err)
	}
	t.Logf("after %d rows: %v", rows, err)
}
