package reconcile

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/textsafe"
)

const (
	wal  = "pools/p1/mpcWallets/0b5d6a4e-1d3b-4b8e-9a53-2f8e0c1d2e3f"
	grp  = "pools/p1/deviceGroups/5f0c2a9e-7b1d-4c3e-8a6f-9d2e1b0c3a4d"
	opID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	op   = grp + "/mpcOperations/" + opID
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		kind    Kind
		in      string
		want    Name
		wantErr string
	}{
		{Wallet, wal, Name{Full: wal, ID: "0b5d6a4e-1d3b-4b8e-9a53-2f8e0c1d2e3f"}, ""},
		{Wallet, "  /" + wal + "/ ", Name{Full: wal, ID: "0b5d6a4e-1d3b-4b8e-9a53-2f8e0c1d2e3f"}, ""},
		{Operation, strings.ToUpper(opID), Name{ID: opID}, ""},
		{Operation, "pools/p1/deviceGroups/5F0C2A9E-7B1D-4C3E-8A6F-9D2E1B0C3A4D/mpcOperations/" + strings.ToUpper(opID), Name{Full: op, ID: opID}, ""},
		{DeviceGroup, grp, Name{Full: grp, ID: "5f0c2a9e-7b1d-4c3e-8a6f-9d2e1b0c3a4d"}, ""},
		{Wallet, "", Name{}, "empty wallet name"},
		{Wallet, "42", Name{}, `"42" is not an MPC wallet name`},
		{Wallet, grp, Name{}, "is not an MPC wallet name: want pools/ID/mpcWallets/ID"},
		{Operation, wal, Name{}, "want pools/ID/deviceGroups/ID/mpcOperations/ID"},
		{DeviceGroup, "pools//deviceGroups/x", Name{}, "segment 2 is empty"},
		{Wallet, "pools/../mpcWallets/" + opID, Name{}, "segment 2 is empty, a dot segment"},
		{Wallet, "pools/p?x=1/mpcWallets/" + opID, Name{}, "segment 2 is empty, a dot segment, or has spaces"},
		{Wallet, "alice@example.com", Name{}, "is not an MPC wallet name"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.kind, tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Normalize(%s, %q) error = %v, want %q", tt.kind, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %+v, %v; want %+v", tt.kind, tt.in, got, err, tt.want)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func scanAll(t *testing.T, src string, kinds ...Kind) ([]Entry, error) {
	t.Helper()
	l, err := Open(testctx.New(t), Spec{Source: src})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var out []Entry
	err = l.Scan(testctx.New(t), kinds, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

func TestFileLedgersReadTheSameEntries(t *testing.T) {
	csvPath := writeFile(t, "ledger.csv", "\ufeffkind,name,owner,created_at\n"+
		"wallet,"+wal+",alice,2026-01-01\n"+
		"device_group,"+grp+",alice,2026-01-01\n"+
		"\n"+
		"operation,"+strings.ToUpper(opID)+",alice,2026-01-02\n"+
		`wallet,"`+strings.Replace(wal, "p1", "p2", 1)+`","bob, jr",2026-01-03`+"\n")
	jsonlPath := writeFile(t, "ledger.jsonl", `{"kind":"wallet","name":"`+wal+`","owner":"alice"}`+"\n"+
		`{"kind":"deviceGroup","name":"`+grp+`","owner":"alice"}`+"\n\n"+
		`  {"kind":"mpc_operation","name":"`+strings.ToUpper(opID)+`","owner":"alice"}`+"\r\n"+
		`{"kind":"wallet","name":"`+strings.Replace(wal, "p1", "p2", 1)+`","owner":"bob, jr"}`)
	for _, src := range []string{csvPath, jsonlPath} {
		all, err := scanAll(t, src, Kinds...)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		var got []string
		for _, e := range all {
			got = append(got, string(e.Kind)+" "+e.Name.String()+" "+e.Owner)
		}
		want := []string{"wallet " + wal + " alice", "device_group " + grp + " alice", "operation " + opID + " alice", "wallet " + strings.Replace(wal, "p1", "p2", 1) + " bob, jr"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", src, got, want)
		}
		wallets, _ := scanAll(t, src, Wallet)
		if len(wallets) != 2 || wallets[1].Where != "line 6" && wallets[1].Where != "line 5" {
			t.Errorf("%s: wallets only = %+v", src, wallets)
		}
	}
}

func TestMalformedLedgersNameTheLine(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty.csv", "", "line 1: empty file"},
		{"nohdr.csv", wal + ",alice\n", "line 1: the header"},
		{"kind.csv", "kind,name\nwallet," + wal + "\nwalet," + wal + "\n", "line 3, column 1: kind \"walet\""},
		{"name.csv", "kind,name,owner\nwallet," + wal + ",a\nwallet,1234,b\n", "line 3, column 8: \"1234\" is not an MPC wallet name"},
		{"fields.csv", "kind,name,owner\nwallet," + wal + "\n", "line 2: 2 fields, the header has 3"},
		{"quote.csv", "kind,name\nwallet,\"" + wal + "\n", "line 2, column"},
		{"syntax.jsonl", `{"kind":"wallet","name":"` + wal + `"}` + "\n" + `{"kind":"wallet" "name":"x"}` + "\n", "line 2, column 18: not a JSON object"},
		{"type.jsonl", `{"kind":"wallet","name":42}` + "\n", `line 1: "name" must be a string`},
		{"noname.jsonl", `{"kind":"wallet"}` + "\n", `line 1: no "name"`},
		{"wrongkind.jsonl", `{"kind":"wallet","name":"` + op + `"}` + "\n", "line 1: \"" + op + "\" is not an MPC wallet name"},
		{"huge.jsonl", strings.Repeat("x", maxLine+10), "line 1: longer than"},
	}
	for _, tt := range tests {
		_, err := scanAll(t, writeFile(t, tt.name, tt.file), Kinds...)
		var le *LedgerError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want a one-line LedgerError containing %q", tt.name, err, tt.want)
		}
	}
}

func TestOpenRejectsWhatItCannotRead(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ src, want string }{
		{filepath.Join(dir, "missing.csv"), "no such file"},
		{dir + "/x.txt", "cannot tell what kind of ledger this is"},
		{"sqlite:" + filepath.Join(dir, "missing.db"), "no such file"},
		{"postgres://u:hunter2@[::1", "not a valid postgres:// URL"},
	}
	for _, tt := range tests {
		_, err := Open(testctx.New(t), Spec{Source: tt.src})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v, want an error containing %q and no password", tt.src, err, tt.want)
		}
	}
	if _, err := Open(testctx.New(t), Spec{}); !errors.Is(err, ErrNoLedger) {
		t.Errorf("Open(empty) = %v, want ErrNoLedger", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing SQLite ledger created it: %v", err)
	}
}

func TestPostgresConnectFailureHidesThePassword(t *testing.T) {
	sock := t.TempDir() // no server listens here
	_, err := Open(testctx.New(t), Spec{Source: "postgres://auditor:hunter2@/ledger?host=" + sock + "&connect_timeout=2"})
	if err == nil || !strings.Contains(err.Error(), "postgres database ledger on socket "+sock+" as auditor: cannot connect") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want a connection error naming database, host and user, without the password", err)
	}
}

// A PostgreSQL ledger on another host that could be read without TLS is refused before anything
// is sent (a ledger answered by whoever is on the path makes a leaked key's work look
// expected), in one line naming the host and the way out, without the password; the operator
// can allow it on a network they trust.
func TestPostgresLedgerWithoutTLSToAnotherHostIsRefused(t *testing.T) {
	t.Setenv(PlaintextEnv, "")
	const pw = "s3cr3t-Pa55word"
	src := "postgres://auditor:" + pw + "@db.invalid:5432/ledger?connect_timeout=2"
	start := time.Now()
	_, err := Open(testctx.New(t), Spec{Source: src})
	var le *LedgerError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "refusing to connect to \"db.invalid\" without TLS") ||
		!strings.Contains(err.Error(), "sslmode=verify-full") || !strings.Contains(err.Error(), PlaintextEnv+"=1") {
		t.Fatalf("Open(%s) = %v; want a LedgerError refusing plaintext, saying what to do", src, err)
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error shows the password or spans lines: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Open took %s: it tried to connect", took)
	}
	for _, ok := range []string{"postgres://auditor:" + pw + "@db.invalid:5432/ledger?connect_timeout=2&sslmode=require"} {
		if _, err := Open(testctx.New(t), Spec{Source: ok}); err == nil || strings.Contains(err.Error(), "without TLS") {
			t.Errorf("Open(%s) = %v; want it to try to connect (and fail)", ok, err)
		}
	}
	t.Setenv(PlaintextEnv, "1")
	if _, err := Open(testctx.New(t), Spec{Source: src}); err == nil || !strings.Contains(err.Error(), "cannot connect") || strings.Contains(err.Error(), pw) {
		t.Errorf("with %s=1: Open = %v; want it to try to connect (and fail) without the password", PlaintextEnv, err)
	}
}

func TestUnknownSourcesAreNotEchoedWithTheirPassword(t *testing.T) {
	for _, src := range []string{"postgress://app:hunter2@db/l", "mysql://app:hunter2@db/l", "host=db user=app password=hunter2 dbname=l connect_timeout=1"} {
		_, err := Open(testctx.New(t), Spec{Source: src})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v: want an error without the password", src, err)
		}
	}
}

// TestLedgerErrorsAreInert: what a database says (an error quoting a name,
// its column names) reaches the operator as one line with nothing a terminal
// acts on, and a long driver message is cut.
func TestLedgerErrorsAreInert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE w (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	hostile := "evil\x1b[2J\nerror: forged\u202e\u009b"
	quoteIdent := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	for name, query := range map[string]string{
		"driver error": "SELECT name FROM " + quoteIdent(hostile+strings.Repeat("x", 2000)),
		"column names": "SELECT 1 AS " + quoteIdent(hostile) + ", 2 AS b, 3 AS c",
	} {
		t.Run(name, func(t *testing.T) {
			l, err := Open(testctx.New(t), Spec{Source: "sqlite:" + path, Queries: map[Kind]string{Wallet: query}})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			err = l.Scan(testctx.New(t), []Kind{Wallet}, func(Entry) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !textsafe.Safe(msg) || !strings.Contains(msg, "error: forged") {
				t.Fatalf("error not inert: %.300q", msg)
			}
			if len(msg) > 600 {
				t.Fatalf("error of %d bytes", len(msg))
			}
		})
	}
}

// TestClassifyLedgerSources: which kind of ledger each way of writing a
// source names. libpq's key=value form is a PostgreSQL DSN only without a
// scheme: a URL that holds "host=" in its query is what its scheme says.
func TestClassifyLedgerSources(t *testing.T) {
	for _, tc := range []struct{ src, kind, target string }{
		{"postgres://u@db/l", "postgres", "postgres://u@db/l"},
		{"PostgreSQL://u@db/l", "postgres", "PostgreSQL://u@db/l"},
		{"host=db dbname=l user=u", "postgres", "host=db dbname=l user=u"},
		{"dbname=l sslmode=disable", "postgres", "dbname=l sslmode=disable"},
		{"sqlite://ledger?host=a b", "sqlite", "ledger?host=a b"},
		{"mysql://u@db/l?host=a b", "", "mysql://u@db/l?host=a b"},
		{"host=db", "", "host=db"}, // one word: a file named so, not a DSN
		{"sqlite:ledger.db", "sqlite", "ledger.db"},
		{"csv:ledger.txt", "csv", "ledger.txt"},
		{"JSONL:ledger", "jsonl", "ledger"},
		{"ledger.csv", "csv", "ledger.csv"},
		{"ledger.ndjson", "jsonl", "ledger.ndjson"},
		{"ledger.sqlite3", "sqlite", "ledger.sqlite3"},
		{"ledger.txt", "", "ledger.txt"},
	} {
		if kind, target := classify(tc.src); kind != tc.kind || target != tc.target {
			t.Errorf("classify(%q) = %q, %q; want %q, %q", tc.src, kind, target, tc.kind, tc.target)
		}
	}
}

// TestOpenRefusesAFolderAsAFileLedger: a file ledger's path must be a file.
func TestOpenRefusesAFolderAsAFileLedger(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"csv:" + dir, "jsonl:" + dir, "sqlite:" + dir} {
		if _, err := Open(testctx.New(t), Spec{Source: src}); err == nil || !strings.Contains(err.Error(), "is a folder, not a file") {
			t.Errorf("%s: err %v, want a folder refused", src, err)
		}
	}
}

// A hurried operator: the refusal names a cloud database's long host name, WAASCTL_LEDGER_PLAINTEXT
// takes true or yes as well as 1, and a value that allows nothing is named in the refusal.
func TestPostgresLedgerPlaintextRefusalForAHurriedOperator(t *testing.T) {
	const host = "ledger-primary.prod.eu-west-1.rds.amazonaws.com"
	src := "postgres://auditor:s3cr3t-Pa55word@" + host + "/ledger?connect_timeout=1"
	t.Setenv(PlaintextEnv, "")
	if _, err := Open(testctx.New(t), Spec{Source: src}); err == nil || !strings.Contains(err.Error(), `refusing to connect to "`+host+`" without TLS`) {
		t.Errorf("Open = %v; want the refusal to name %s", err, host)
	}
	t.Setenv(PlaintextEnv, "enable")
	if _, err := Open(testctx.New(t), Spec{Source: src}); err == nil || !strings.Contains(err.Error(), `set `+PlaintextEnv+`=1 (it is "enable", which is not 1, true, yes or on)`) {
		t.Errorf("with %s=enable: Open = %v; want the refusal to say what the variable holds", PlaintextEnv, err)
	}
	for _, yes := range []string{"true", "yes"} {
		t.Setenv(PlaintextEnv, yes)
		if _, err := Open(testctx.New(t), Spec{Source: "postgres://auditor:pw@db.invalid/ledger?connect_timeout=1"}); err == nil || strings.Contains(err.Error(), "without TLS") {
			t.Errorf("with %s=%s: Open = %v; want it to try to connect (and fail)", PlaintextEnv, yes, err)
		}
	}
}

// A DSN that parses but names a file that cannot be read (sslrootcert, here) or a service that
// is not there (PGSERVICE) is said as such, not as a malformed URL, without the password.
func TestPostgresDSNNamingAnUnreadableFileOrService(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "root.crt")
	_, err := Open(testctx.New(t), Spec{Source: "postgres://auditor:hunter2@db.invalid/ledger?sslmode=verify-full&sslrootcert=" + missing})
	if err == nil || !strings.Contains(err.Error(), "cannot read "+missing) || strings.Contains(err.Error(), "not a valid") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("sslrootcert=%s: Open = %v; want it to name the file it cannot read", missing, err)
	}
	t.Setenv("PGSERVICE", "nosuch")
	t.Setenv("PGSERVICEFILE", filepath.Join(t.TempDir(), "pg_service.conf"))
	_, err = Open(testctx.New(t), Spec{Source: "host=127.0.0.1 port=1 user=auditor password=hunter2 dbname=ledger"})
	if err == nil || !strings.Contains(err.Error(), "PGSERVICE") || strings.Contains(err.Error(), "not a valid") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("PGSERVICE=nosuch: Open = %v; want it to say the service cannot be read", err)
	}
}

// An operator told to add sslmode=verify-full who types verify_full hears which values there
// are, not that the URL is malformed.
func TestPostgresDSNWithAMistypedSSLMode(t *testing.T) {
	for _, src := range []string{
		"postgres://auditor:hunter2@db.example.com/ledger?sslmode=verify_full",
		"host=db.example.com user=auditor password=hunter2 dbname=ledger sslmode=verify_full",
	} {
		_, err := Open(testctx.New(t), Spec{Source: src})
		if err == nil || !strings.Contains(err.Error(), "sslmode must be disable, allow, prefer, require, verify-ca or verify-full") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%s) = %v; want the sslmode values named, without the password", src, err)
		}
	}
}
