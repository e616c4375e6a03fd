package incident

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// TestAssessGolden: the report on the seeded estate (2 pools) against a baseline taken 3 days
// earlier of the same organization when it had only the first pool (the same seed with one pool
// gives the same first pool), a ledger that knows that first pool, and a quota of 10 wallets:
// the second pool's wallets, device groups and pending operations are the findings. Both
// sandboxes are reached as clitest.FixedEndpoint with clitest.FixedKey's key, on a fixed clock,
// so nothing in the report changes from run to run; paths are relative to the test's folder.
func TestAssessGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
		ledger   bool
	}{
		{"assess_tty", true, "", true},
		{"assess_nontty", false, "", true},
		{"assess_json", false, cmdutil.OutputJSON, true},
		// Without a ledger, the additions are listed as not accounted for.
		{"assess_noledger_nontty", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			ctx := testctx.New(t)
			now := clitest.FixedNow
			stateDir := "state"

			before := clitest.SeededEstate()
			before.Shape.Pools = 1
			base := clitest.NewFixed(t, before)
			c, err := base.Factory.APIClient()
			if err != nil {
				t.Fatal(err)
			}
			meta := inventory.SnapshotMeta{Time: now.Add(-72 * time.Hour), Endpoint: c.Endpoint(), Organization: c.Organization(), Profile: "default"}
			if _, _, err := inventory.SaveSnapshot(ctx, c, inventory.SnapshotDir(stateDir), "", meta); err != nil {
				t.Fatal(err)
			}
			ledger, err := os.Create("ledger.csv")
			if err != nil {
				t.Fatal(err)
			}
			if err := sandboxtest.WriteLedgerCSV(ledger, base.Sandbox.Inventory()); err != nil {
				t.Fatal(err)
			}
			if err := ledger.Close(); err != nil {
				t.Fatal(err)
			}

			env := clitest.NewFixed(t, clitest.SeededEstate())
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			cfg := &config.Config{Profiles: map[string]config.Profile{"default": {Quota: &config.Quota{Wallets: 10}}}}
			opts := &AssessOptions{
				IO:          ios,
				APIClient:   func() (*waas.Client, error) { return env.Factory.APIClient() },
				Config:      func() (*config.Config, error) { return cfg, nil },
				Output:      func() cmdutil.OutputFormat { return tc.format },
				UseProfile:  func(string) {},
				StateDir:    func() (string, error) { return stateDir, nil },
				Now:         func() time.Time { return now },
				Profile:     "default",
				LeakedSince: "48h",
				leakedSince: now.Add(-48 * time.Hour),
			}
			if tc.ledger {
				opts.Ledger.Source = "ledger.csv"
			}
			err = assessRun(ctx, opts)
			var ee *cmdutil.ExitError
			if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFindings {
				t.Fatalf("err %v, want exit %d", err, cmdutil.ExitFindings)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
			clitest.Golden(t, tc.name+".stderr.golden", stderr.String())
		})
	}
}
