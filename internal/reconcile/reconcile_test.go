package reconcile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// estate is a sandbox whose middle tier recorded everything it created in
// ledgers of every kind, and an adversary that then planted wallets and
// signing requests nobody recorded.
type estate struct {
	sb      *sandboxtest.Sandbox
	planted sandboxtest.Planted
	ledgers map[string]reconcile.Spec // by ledger kind
	// noPostgres: a PostgreSQL ledger was asked for, but there is no server and none is
	// required; only the PostgreSQL case skips, saying so.
	noPostgres bool
}

func queries() map[reconcile.Kind]string {
	out := map[reconcile.Kind]string{}
	for k, q := range sandboxtest.LedgerQueries {
		kind, ok := reconcile.ParseKind(k)
		if !ok {
			panic("sandboxtest.LedgerQueries: unknown kind " + k)
		}
		out[kind] = q
	}
	return out
}

func newEstate(t *testing.T, withPostgres bool) *estate {
	t.Helper()
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 61, Shape: sandbox.EstateShape{
		Pools: 3, WalletsPerPool: 6, WalletsPerGroup: 2, AddressesPerWallet: 1, OperationsPerGroup: 2,
	}})
	inv := sb.Inventory()
	dir := t.TempDir()
	e := &estate{sb: sb, ledgers: map[string]reconcile.Spec{}}

	csvPath := filepath.Join(dir, "ledger.csv")
	writeWith(t, csvPath, func(f *os.File) error { return sandboxtest.WriteLedgerCSV(f, inv) })
	e.ledgers["csv"] = reconcile.Spec{Source: csvPath}
	jsonlPath := filepath.Join(dir, "ledger.jsonl")
	writeWith(t, jsonlPath, func(f *os.File) error { return sandboxtest.WriteLedgerJSONL(f, inv) })
	e.ledgers["jsonl"] = reconcile.Spec{Source: jsonlPath}
	sqlitePath := filepath.Join(dir, "ledger.db")
	if err := sandboxtest.CreateLedgerSQLite(sqlitePath, inv); err != nil {
		t.Fatal(err)
	}
	e.ledgers["sqlite"] = reconcile.Spec{Source: "sqlite:" + sqlitePath, Queries: queries()}
	if withPostgres && os.Getenv(sandboxtest.PostgresDSNEnv) == "" && os.Getenv(sandboxtest.RequirePostgresEnv) != "1" {
		e.noPostgres = true
	} else if withPostgres {
		e.ledgers["postgres"] = reconcile.Spec{Source: sandboxtest.NewLedgerPostgres(t, inv), Queries: queries()}
	}

	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()
	var err error
	e.planted, err = sandboxtest.Plant(ctx, sb.URL, sb.Key, sandboxtest.PlantSpec{Wallets: 2, Signatures: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.planted.Operations) != 5 || len(e.planted.Wallets) != 2 || len(e.planted.DeviceGroups) != 2 {
		t.Fatalf("planted %+v", e.planted)
	}
	return e
}

func writeWith(t *testing.T, path string, fn func(*os.File) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, spec reconcile.Spec) reconcile.Ledger {
	t.Helper()
	l, err := reconcile.Open(testctx.New(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// TestEveryPlantIsFoundAndNothingElse is the check: on every ledger
// kind, with and without injected faults, the audits report exactly what
// the adversary planted.
func TestEveryPlantIsFoundAndNothingElse(t *testing.T) {
	e := newEstate(t, true)
	wantOps := sorted(e.planted.Operations)
	var wantRes []string
	for _, w := range e.planted.Wallets {
		wantRes = append(wantRes, "wallet "+w)
	}
	for _, g := range e.planted.DeviceGroups {
		wantRes = append(wantRes, "device_group "+g)
	}
	wantRes = sorted(wantRes)
	if e.noPostgres {
		// The file and SQLite ledgers are checked all the same.
		t.Run("postgres", func(t *testing.T) { sandboxtest.PostgresDSN(t) })
	}

	for _, faults := range []float64{0, 0.1} {
		e.sb.SetFaultRate(faults)
		c := e.sb.Client(t, waas.Options{Concurrency: 4, PageSize: 4, Backoff: time.Millisecond})
		for name, spec := range e.ledgers {
			t.Run(name+"/faults="+map[bool]string{true: "0.1", false: "0"}[faults > 0], func(t *testing.T) {
				ctx := testctx.New(t)
				ops, err := reconcile.AuditOperations(ctx, c, open(t, spec), reconcile.Scope{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var gotOps []string
				for _, u := range ops.Unknown {
					gotOps = append(gotOps, u.Operation)
					if u.Kind != "CreateSignature" || u.Pool == "" || u.Wallet == "" || !strings.HasPrefix(u.Operation, u.DeviceGroup+"/") {
						t.Errorf("unknown operation lacks context: %+v", u)
					}
					if u.DeviceGroupInLedger == nil || !*u.DeviceGroupInLedger {
						t.Errorf("%s: spam on a real user's group should say the group is in the ledger: %+v", name, u)
					}
				}
				if got := sorted(gotOps); !slices.Equal(got, wantOps) {
					t.Errorf("unknown operations:\n got %q\nwant %q", got, wantOps)
				}
				if ops.Known+len(ops.Unknown) != ops.Pending || ops.DeviceGroups != 3*3+2 {
					t.Errorf("counts: %d known + %d unknown of %d pending in %d groups", ops.Known, len(ops.Unknown), ops.Pending, ops.DeviceGroups)
				}

				res, err := reconcile.AuditResources(ctx, c, open(t, spec), reconcile.Scope{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var gotRes []string
				for _, u := range res.Unknown {
					gotRes = append(gotRes, string(u.Kind)+" "+u.Name)
				}
				if got := sorted(gotRes); !slices.Equal(got, wantRes) {
					t.Errorf("unknown resources:\n got %q\nwant %q", got, wantRes)
				}
				if len(res.Missing) != 0 {
					t.Errorf("missing: %+v", res.Missing)
				}
				if res.Totals.Wallets != 3*6+2 || res.Totals.DeviceGroups != 3*3+2 || res.Totals.UnknownWallets != 2 || len(res.Pools) != 3 {
					t.Errorf("totals %+v over %d pools", res.Totals, len(res.Pools))
				}
			})
		}
	}
}

func TestScopesAndMissingEntries(t *testing.T) {
	e := newEstate(t, false)
	c := e.sb.Client(t, waas.Options{})
	ctx := testctx.New(t)
	pool := e.planted.Wallets[0][:strings.Index(e.planted.Wallets[0], "/mpcWallets/")]

	// The ledger also records a wallet and a group WaaS never had, in the
	// planted pool, and a bare-ID wallet: missing, the first two confirmed
	// by a 404.
	csvPath := e.ledgers["csv"].Source
	f, err := os.OpenFile(csvPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ghostWallet := pool + "/mpcWallets/00000000-0000-4000-8000-000000000001"
	ghostGroup := pool + "/deviceGroups/00000000-0000-4000-8000-000000000002"
	f.WriteString("wallet," + ghostWallet + ",ghost\ndevice_group," + ghostGroup + ",ghost\nwallet,00000000-0000-4000-8000-000000000003,bare\n")
	f.Close()

	res, err := reconcile.AuditResources(ctx, c, open(t, e.ledgers["csv"]), reconcile.Scope{Pool: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, m := range res.Missing {
		missing = append(missing, string(m.Kind)+" "+m.Name+" "+m.Owner+" "+map[bool]string{true: "404", false: "?"}[m.Confirmed])
	}
	want := []string{"device_group " + ghostGroup + " ghost 404", "wallet " + ghostWallet + " ghost 404"}
	if !slices.Equal(sorted(missing), want) || res.Unattributed != 1 {
		t.Errorf("pool audit missing %q (unattributed %d), want %q and 1", missing, res.Unattributed, want)
	}
	if len(res.Pools) != 1 || res.Pools[0].Pool != pool || res.Totals.UnknownWallets != 2 {
		t.Errorf("pool audit: %+v", res.Pools)
	}

	res, err = reconcile.AuditResources(ctx, c, open(t, e.ledgers["csv"]), reconcile.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 3 || res.Totals.MissingWallets != 2 || res.Totals.MissingDeviceGroups != 1 {
		t.Errorf("whole-estate missing: %+v, totals %+v", res.Missing, res.Totals)
	}
	for _, m := range res.Missing {
		if !m.Confirmed { // the bare ID too: looked up in every pool
			t.Errorf("not confirmed: %+v", m)
		}
	}

	group := ""
	for _, op := range e.planted.Operations {
		group = op[:strings.Index(op, "/mpcOperations/")]
		break
	}
	ops, err := reconcile.AuditOperations(ctx, c, open(t, e.ledgers["sqlite"]), reconcile.Scope{DeviceGroup: group}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ops.DeviceGroups != 1 || len(ops.Unknown) == 0 || ops.Unknown[0].DeviceGroup != group {
		t.Errorf("group audit: %+v", ops)
	}
}

// TestOperationsRecordedDuringTheAuditAreNotReported: an operation the
// middle tier records after the audit read the ledger but before it ends
// is counted as recorded late, not as spam.
func TestOperationsRecordedDuringTheAuditAreNotReported(t *testing.T) {
	e := newEstate(t, false)
	c := e.sb.Client(t, waas.Options{})
	path := e.ledgers["csv"].Source
	late := e.planted.Operations[0]
	recorded := false
	during, err := reconcile.AuditOperations(testctx.New(t), c, open(t, e.ledgers["csv"]), reconcile.Scope{}, func(int) {
		if !recorded { // the first group has been listed: the ledger has been read
			recorded = true
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("operation," + late + ",user-1\n")
			f.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(during.Unknown) != 4 || during.RecordedLate != 1 {
		t.Fatalf("recorded during the audit: %d unknown, %d late; want 4 and 1", len(during.Unknown), during.RecordedLate)
	}
	for _, u := range during.Unknown {
		if u.Operation == late {
			t.Fatalf("%s was recorded during the audit but reported unknown", late)
		}
	}
	rep, err := reconcile.AuditOperations(testctx.New(t), c, open(t, e.ledgers["csv"]), reconcile.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unknown) != 4 || rep.RecordedLate != 0 {
		t.Fatalf("after recording one: %d unknown, %d late", len(rep.Unknown), rep.RecordedLate)
	}
}

// TestBadLedgersFailWholly: a wrong query or a malformed row ends the
// audit with an error naming it, and no report.
func TestBadLedgersFailWholly(t *testing.T) {
	e := newEstate(t, false)
	c := e.sb.Client(t, waas.Options{})
	ctx := testctx.New(t)
	sqlite := e.ledgers["sqlite"]

	tests := []struct {
		name  string
		spec  reconcile.Spec
		want  string
		audit string
	}{
		{"three columns", reconcile.Spec{Source: sqlite.Source, Queries: map[reconcile.Kind]string{reconcile.Operation: "SELECT mpc_operation_id, user_id, 1 FROM signing_requests"}}, "the operations query: returns 3 columns (mpc_operation_id, user_id, 1)", "operations"},
		{"wrong column", reconcile.Spec{Source: sqlite.Source, Queries: map[reconcile.Kind]string{reconcile.Operation: "SELECT user_id FROM signing_requests"}}, "row 1 of the operations query, column user_id: \"user-", "operations"},
		{"no table", reconcile.Spec{Source: sqlite.Source, Queries: map[reconcile.Kind]string{reconcile.Wallet: "SELECT x FROM nope", reconcile.DeviceGroup: "SELECT 1"}}, "the wallets query: ", "resources"},
		{"no query", reconcile.Spec{Source: sqlite.Source, Queries: map[reconcile.Kind]string{reconcile.Wallet: "SELECT wallet_name FROM wallets"}}, "no query for device groups: set ledger.device_groups_query", "resources"},
	}
	for _, tt := range tests {
		l := open(t, tt.spec)
		var err error
		if tt.audit == "operations" {
			var rep *reconcile.OperationsReport
			rep, err = reconcile.AuditOperations(ctx, c, l, reconcile.Scope{}, nil)
			if rep != nil {
				t.Errorf("%s: a report came back with the error", tt.name)
			}
		} else {
			var rep *reconcile.ResourcesReport
			rep, err = reconcile.AuditResources(ctx, c, l, reconcile.Scope{}, nil)
			if rep != nil {
				t.Errorf("%s: a report came back with the error", tt.name)
			}
		}
		var le *reconcile.LedgerError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want a LedgerError containing %q", tt.name, err, tt.want)
		}
	}

	// A malformed row half way through a CSV: the line is named.
	data, err := os.ReadFile(e.ledgers["csv"].Source)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	lines[7] = "wallet,not-a-wallet,user-9"
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	_, err = reconcile.AuditResources(ctx, c, open(t, reconcile.Spec{Source: bad}), reconcile.Scope{}, nil)
	if err == nil || !strings.Contains(err.Error(), "line 8, column 8: \"not-a-wallet\" is not an MPC wallet name") {
		t.Errorf("malformed CSV row: %v", err)
	}
}

// countingLedger counts the reads of a ledger.
type countingLedger struct {
	reconcile.Ledger
	scans int
}

func (l *countingLedger) Scan(ctx context.Context, kinds []reconcile.Kind, fn func(reconcile.Entry) error) error {
	l.scans++
	return l.Ledger.Scan(ctx, kinds, fn)
}

// TestAHealthyEstateReadsTheLedgerOnce: the second read looks for missing
// and late entries; when every entry matched and nothing is unknown, there
// is nothing to look for.
func TestAHealthyEstateReadsTheLedgerOnce(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 62, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 3, OperationsPerGroup: 1}})
	path := filepath.Join(t.TempDir(), "ledger.csv")
	writeWith(t, path, func(f *os.File) error { return sandboxtest.WriteLedgerCSV(f, sb.Inventory()) })
	c := sb.Client(t, waas.Options{})
	l := &countingLedger{Ledger: open(t, reconcile.Spec{Source: path})}
	res, err := reconcile.AuditResources(testctx.New(t), c, l, reconcile.Scope{}, nil)
	if err != nil || res.Findings() != 0 || l.scans != 1 {
		t.Fatalf("healthy: %d findings, %d reads, %v; want 0 and 1", res.Findings(), l.scans, err)
	}
	if _, err := sandboxtest.Plant(testctx.New(t), sb.URL, sb.Key, sandboxtest.PlantSpec{Wallets: 1}); err != nil {
		t.Fatal(err)
	}
	l.scans = 0
	res, err = reconcile.AuditResources(testctx.New(t), c, l, reconcile.Scope{}, nil)
	if err != nil || len(res.Unknown) != 2 || l.scans != 2 {
		t.Fatalf("after a plant: %d unknown, %d reads, %v; want 2 and 2", len(res.Unknown), l.scans, err)
	}
}
