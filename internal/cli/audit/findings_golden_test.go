package audit

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
)

// TestAuditFindingsOutput: what `audit operations` and `audit resources` print when an
// attacker's wallets and signatures are in the estate and not in the ledger, on a terminal, to
// a pipe and as JSON, and the summary on stderr; exit 3 each time.
func TestAuditFindingsOutput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"tty", true, ""},
		{"nontty", false, ""},
		{"json", false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.New(t, sandbox.Config{Seed: 11, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 2, OperationsPerGroup: 1}})
			if tc.terminal {
				env.Terminal()
			}
			ledger := ledgerCSV(t, env) // the estate before the attacker's additions
			planted, err := sandboxtest.Plant(testctx.New(t), env.URL, env.Key, sandboxtest.PlantSpec{Wallets: 1, Signatures: 2})
			if err != nil {
				t.Fatal(err)
			}
			// The estate is seeded; what Plant creates gets fresh IDs and the ledger a temporary path.
			stable := func(s string) string {
				return strings.ReplaceAll(stableIDs(s, slices.Concat(planted.Wallets, planted.DeviceGroups, planted.Operations)), ledger, "LEDGER")
			}

			ops := operationsOptions(env, ledger, tc.format)
			if code := exitCode(t, operationsRun(testctx.New(t), ops)); code != cmdutil.ExitFindings {
				t.Fatalf("audit operations: exit %d, want 3; stderr %s", code, env.Stderr.String())
			}
			opsOut, opsErr := len(env.Stdout.String()), len(env.Stderr.String())
			clitest.Golden(t, "operations_"+tc.name+".golden", stable(env.Stdout.String()))
			clitest.Golden(t, "operations_"+tc.name+".stderr.golden", stable(env.Stderr.String()))

			f := env.Factory
			res := &ResourcesOptions{
				IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config,
				Output:  func() cmdutil.OutputFormat { return tc.format },
				Profile: func() string { return "default" },
				Ledger:  cmdutil.LedgerFlags{Source: ledger},
			}
			if code := exitCode(t, resourcesRun(testctx.New(t), res)); code != cmdutil.ExitFindings {
				t.Fatalf("audit resources: exit %d, want 3; stderr %s", code, env.Stderr.String())
			}
			clitest.Golden(t, "resources_"+tc.name+".golden", stable(env.Stdout.String()[opsOut:]))
			clitest.Golden(t, "resources_"+tc.name+".stderr.golden", stable(env.Stderr.String()[opsErr:]))
		})
	}
}

// stableIDs replaces the last segment (a UUID) of each name in s with a fixed one numbered by
// where it first appears, so that output naming freshly created resources can be compared with
// a golden file; the fixed IDs have the UUIDs' length, so that tables keep their widths.
func stableIDs(s string, names []string) string {
	type seen struct {
		id  string
		pos int
	}
	var ids []seen
	for _, n := range names {
		id := path.Base(n)
		if i := strings.Index(s, id); i >= 0 {
			ids = append(ids, seen{id, i})
		}
	}
	slices.SortFunc(ids, func(a, b seen) int { return a.pos - b.pos })
	for i, x := range ids {
		s = strings.ReplaceAll(s, x.id, fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1))
	}
	return s
}
