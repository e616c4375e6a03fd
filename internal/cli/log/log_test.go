package log

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/testctx"
)

const fp = "SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"

// writeLog appends one entry per profile to a new log and returns its folder.
func writeLog(t *testing.T, profiles ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := auditlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range profiles {
		e := auditlog.Entry{
			Who: "alice", Host: "ci", Command: "keys rotate", Profile: p, Action: "rotate.create",
			KeyNames: []string{"organizations/o/apiKeys/k"}, Outcome: auditlog.OutcomeOK,
			Detail: "entry " + string(rune('a'+i)),
		}
		if p == "names-only" {
			e.KeyNames = []string{"organizations/o/apiKeys/k2"}
		} else {
			e.Fingerprints = []string{fp}
		}
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func showOpts(dir string, format cmdutil.OutputFormat) (*ShowOptions, *bytes.Buffer, *bytes.Buffer) {
	ios, _, stdout, stderr := iostreams.Test()
	return &ShowOptions{
		IO: ios, Output: func() cmdutil.OutputFormat { return format },
		Dir: func() (string, error) { return dir, nil }, Now: time.Now,
	}, stdout, stderr
}

func jsonlEntries(t *testing.T, out string) []auditlog.Entry {
	t.Helper()
	var es []auditlog.Entry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e auditlog.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v in %q", err, line)
		}
		es = append(es, e)
	}
	return es
}

func TestShowTable(t *testing.T) {
	dir := writeLog(t, "prod", "names-only")
	opts, stdout, _ := showOpts(dir, cmdutil.OutputDefault) // piped: TSV
	if err := showRun(testctx.New(t), opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", stdout)
	}
	f := strings.Split(lines[0], "\t")
	if len(f) != len(Columns) || f[0] != "1" || f[2] != "alice@ci" || f[3] != "keys rotate" || f[4] != "prod" ||
		f[5] != "rotate.create" || f[6] != "SHA256:n4bQgYhMfWWa" || f[7] != "ok" || f[8] != "entry a" {
		t.Fatalf("row %q", f)
	}
	if _, err := time.Parse(time.RFC3339, f[1]); err != nil {
		t.Fatalf("time %q: %v", f[1], err)
	}
	if f := strings.Split(lines[1], "\t"); f[6] != "organizations/o/apiKeys/k2" {
		t.Fatalf("an entry without fingerprints shows its key names: %q", f)
	}
}

func TestShowFilters(t *testing.T) {
	dir := writeLog(t, "prod", "staging", "prod", "prod")
	for _, tc := range []struct {
		name    string
		profile string
		since   string
		now     time.Time
		limit   int
		details []string
	}{
		{name: "all", details: []string{"entry a", "entry b", "entry c", "entry d"}},
		{name: "profile", profile: "prod", details: []string{"entry a", "entry c", "entry d"}},
		{name: "limit keeps the newest", profile: "prod", limit: 2, details: []string{"entry c", "entry d"}},
		{name: "limit above the count", limit: 10, details: []string{"entry a", "entry b", "entry c", "entry d"}},
		{name: "since a duration", since: "1h", details: []string{"entry a", "entry b", "entry c", "entry d"}},
		{name: "since a duration, later", since: "1d", now: time.Now().Add(72 * time.Hour)},
		{name: "since a date", since: "2000-01-02", limit: 1, details: []string{"entry d"}},
		{name: "since a time to come", since: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		{name: "unknown profile", profile: "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, stdout, _ := showOpts(dir, cmdutil.OutputJSONL)
			opts.Profile, opts.Since, opts.Limit = tc.profile, tc.since, tc.limit
			if !tc.now.IsZero() {
				opts.Now = func() time.Time { return tc.now }
			}
			if err := showRun(testctx.New(t), opts); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range jsonlEntries(t, stdout.String()) {
				got = append(got, e.Detail)
			}
			if strings.Join(got, ",") != strings.Join(tc.details, ",") {
				t.Fatalf("got %q, want %q", got, tc.details)
			}
		})
	}
}

func TestShowBadFlagsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		since string
		limit int
	}{{since: "yesterday"}, {limit: -1}} {
		opts, _, _ := showOpts(t.TempDir(), cmdutil.OutputJSONL)
		opts.Since, opts.Limit = tc.since, tc.limit
		var fe *cmdutil.FlagError
		if err := showRun(testctx.New(t), opts); !errors.As(err, &fe) {
			t.Errorf("%+v: err = %v", tc, err)
		}
	}
}

func TestShowReportsACorruptLine(t *testing.T) {
	dir := writeLog(t, "prod", "prod")
	f, _ := os.OpenFile(filepath.Join(dir, auditlog.FileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("garbage\n")
	f.Close()
	opts, stdout, _ := showOpts(dir, cmdutil.OutputJSONL)
	err := showRun(testctx.New(t), opts)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "waasctl log verify") {
		t.Fatalf("err = %v", err)
	}
	if n := len(jsonlEntries(t, stdout.String())); n != 2 {
		t.Fatalf("%d entries before the corrupt line, want 2", n)
	}
}

func verifyOpts(dir string, format cmdutil.OutputFormat) (*VerifyOptions, *bytes.Buffer) {
	ios, _, stdout, _ := iostreams.Test()
	return &VerifyOptions{IO: ios, Output: func() cmdutil.OutputFormat { return format }, Dir: func() (string, error) { return dir, nil }}, stdout
}

func TestVerifyOK(t *testing.T) {
	opts, stdout := verifyOpts(filepath.Join(t.TempDir(), "none"), cmdutil.OutputDefault)
	if err := verifyRun(testctx.New(t), opts); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "audit log OK: 0 entries (nothing logged yet)\n" {
		t.Fatalf("empty: %q", got)
	}

	dir := writeLog(t, "prod", "prod", "prod")
	opts, stdout = verifyOpts(dir, cmdutil.OutputDefault)
	if err := verifyRun(testctx.New(t), opts); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "audit log OK: 3 entries, head matches\nhead: 3:") {
		t.Fatalf("output %q", out)
	}

	// The printed head is an anchor for later.
	anchor := strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[1], "head: "))
	opts, stdout = verifyOpts(dir, cmdutil.OutputDefault)
	opts.Anchors = []string{anchor}
	if err := verifyRun(testctx.New(t), opts); err != nil || !strings.Contains(stdout.String(), "anchor matches") {
		t.Fatalf("with anchor %s: %v, %q", anchor, err, stdout)
	}
}

func TestVerifyTampered(t *testing.T) {
	dir := writeLog(t, "prod", "prod", "prod")
	path := filepath.Join(dir, auditlog.FileName)
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte("entry b"), []byte("entry B"), 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	opts, stdout := verifyOpts(dir, cmdutil.OutputDefault)
	err := verifyRun(testctx.New(t), opts)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "audit log TAMPERED at line 2: broken chain: ") || stdout.Len() != 0 {
		t.Fatalf("err %q, stdout %q", err, stdout)
	}

	opts, stdout = verifyOpts(dir, cmdutil.OutputJSON)
	if err := verifyRun(testctx.New(t), opts); !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure {
		t.Fatalf("-o json: err = %v", err)
	}
	var r auditlog.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if r.OK || r.Entries != 1 || r.Problem == nil || r.Problem.Line != 2 || r.Problem.Kind != auditlog.KindBrokenChain {
		t.Fatalf("report %+v %+v", r, r.Problem)
	}
}

func TestVerifyBadAnchorIsAUsageError(t *testing.T) {
	opts, _ := verifyOpts(t.TempDir(), cmdutil.OutputDefault)
	opts.Anchors = []string{"3:nothex"}
	var fe *cmdutil.FlagError
	if err := verifyRun(testctx.New(t), opts); !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
}

// TestCommandsUseTheStateDir runs the commands through cobra, as main does.
func TestCommandsUseTheStateDir(t *testing.T) {
	state := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", state)
	l, err := auditlog.Open(filepath.Join(state, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(auditlog.Entry{Command: "keys revoke", Action: "revoke", Outcome: "ok", Profile: "prod"}); err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Output: cmdutil.OutputJSONL}
	for _, args := range [][]string{{"show", "--for-profile", "prod", "--since", "1h", "--limit", "5"}, {"verify"}} {
		stdout.Reset()
		cmd := NewCmdLog(f)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(testctx.New(t)); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), `"seq":1`) && !strings.Contains(stdout.String(), `"entries":1`) {
			t.Fatalf("%v: %q", args, stdout)
		}
	}
}
