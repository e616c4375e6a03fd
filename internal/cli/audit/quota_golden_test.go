package audit

import (
	"errors"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/testctx"
)

func TestAuditQuota(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{"quota_tty", true}, {"quota_nontty", false}} {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.New(t, clitest.SeededEstate())
			if tc.terminal {
				env.Terminal()
			}
			opts := quotaOptions(env, t.TempDir(), "")
			opts.Limits, opts.NoSave = "wallets=5,pools=10", true
			err := quotaRun(testctx.New(t), opts)
			// 4 wallets of 5 is 80%, at the warning threshold: exit 3.
			var ee *cmdutil.ExitError
			if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFindings {
				t.Fatalf("err %v, want exit %d", err, cmdutil.ExitFindings)
			}
			clitest.Golden(t, tc.name+".golden", env.Stdout.String())
			clitest.Golden(t, tc.name+".stderr.golden", env.Stderr.String())
		})
	}
}
