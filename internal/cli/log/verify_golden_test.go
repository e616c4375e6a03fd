package log

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/testctx"
)

// TestLogVerifyGolden: what verify says of goldenLog's log intact (its head, an anchor for
// later) and with its first entry's detail changed (exit 1, the line and why), on a terminal,
// piped and as JSON.
func TestLogVerifyGolden(t *testing.T) {
	intact := goldenLog(t)
	tampered := goldenLog(t)
	path := filepath.Join(tampered, auditlog.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(`"verified"`), []byte(`"unverified"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dir      string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"verify_tty", intact, true, ""},
		{"verify_nontty", intact, false, ""},
		{"verify_json", intact, false, cmdutil.OutputJSON},
		{"verify_tampered_nontty", tampered, false, ""},
		{"verify_tampered_json", tampered, false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// From the log's parent folder, so that the error names it as "audit" on every run.
			t.Chdir(filepath.Dir(tc.dir))
			opts, stdout := verifyOpts(filepath.Base(tc.dir), tc.format)
			if tc.terminal {
				opts.IO.SetStdoutTTY(true)
				opts.IO.SetTerminalWidth(120)
			}
			err := verifyRun(testctx.New(t), opts)
			var ee *cmdutil.ExitError
			switch {
			case tc.dir == intact && err != nil:
				t.Fatalf("err %v", err)
			case tc.dir == tampered && (!errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure):
				t.Fatalf("err %v, want exit 1", err)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
			if err != nil {
				clitest.Golden(t, tc.name+".err.golden", err.Error()+"\n")
			}
		})
	}
}
