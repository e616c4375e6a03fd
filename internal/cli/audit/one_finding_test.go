package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
)

// One finding is a finding: a ledger that lacks a single device group makes `audit resources`
// exit 3 (a CI job branches on it), and the complete ledger exits 0.
func TestAuditResourcesExits3ForASingleFinding(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 11, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 2}})
	ledger := ledgerCSV(t, env)
	run := func() int {
		f := env.Factory
		return exitCode(t, resourcesRun(testctx.New(t), &ResourcesOptions{
			IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config,
			Output:  func() cmdutil.OutputFormat { return "" },
			Profile: func() string { return "default" },
			Ledger:  cmdutil.LedgerFlags{Source: ledger},
		}))
	}
	if code := run(); code != 0 {
		t.Fatalf("complete ledger: exit %d, want 0; stderr %s", code, env.Stderr.String())
	}

	data, err := os.ReadFile(ledger)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropped := ""
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if dropped == "" && strings.HasPrefix(line, "device_group,") {
			dropped = line
			continue
		}
		kept = append(kept, line)
	}
	if dropped == "" {
		t.Fatal("the ledger has no device group row to drop")
	}
	if err := os.WriteFile(ledger, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run(); code != cmdutil.ExitFindings {
		t.Fatalf("ledger without %s: exit %d, want 3; stderr %s", strings.TrimSpace(dropped), code, env.Stderr.String())
	}
	if !strings.Contains(env.Stderr.String(), "1 unknown device group,") {
		t.Fatalf("stderr does not count the one unknown device group:\n%s", env.Stderr.String())
	}
}
