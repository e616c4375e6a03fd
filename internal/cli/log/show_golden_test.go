package log

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/testctx"
)

// goldenLog writes an audit log whose every field is fixed: times from an injected clock, who,
// host and pid given.
func goldenLog(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := auditlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := clitest.FixedNow
	l.SetClock(func() time.Time { at = at.Add(90 * time.Second); return at })
	key := "organizations/5c3c0c44-cf54-567e-923a-2a0fa82add2d/apiKeys/11111111-0000-4000-8000-000000000000"
	for _, e := range []auditlog.Entry{
		{Command: "auth add", Profile: "prod", Action: "add", KeyNames: []string{key}, Fingerprints: []string{fp}, Outcome: auditlog.OutcomeOK, Detail: "verified"},
		{Command: "keys rotate", Profile: "prod", Action: "rotate.create", KeyNames: []string{"organizations/o/apiKeys/k2"}, Outcome: auditlog.OutcomeOK},
		{Command: "keys revoke", Profile: "stage", Action: "revoke", KeyNames: []string{key}, Fingerprints: []string{fp}, Outcome: "refused", Detail: "drill: it is the new key of a rotation"},
	} {
		e.Who, e.Host, e.PID = "alice", "ci", 4242
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLogShow(t *testing.T) {
	dir := goldenLog(t)
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
		profile  string
	}{
		{"show_tty", true, "", ""},
		{"show_nontty", false, "", ""},
		{"show_jsonl", false, cmdutil.OutputJSONL, ""},
		{"show_prod_nontty", false, "", "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, stdout, stderr := showOpts(dir, tc.format)
			if tc.terminal {
				opts.IO.SetStdoutTTY(true)
				opts.IO.SetTerminalWidth(120)
			}
			opts.Profile = tc.profile
			opts.Now = func() time.Time { return clitest.FixedNow.Add(time.Hour) }
			if err := showRun(testctx.New(t), opts); err != nil || stderr.Len() != 0 {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
		})
	}
}
