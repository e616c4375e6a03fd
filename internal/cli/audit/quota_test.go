package audit

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
)

func quotaOptions(env *clitest.Env, dir string, out cmdutil.OutputFormat) *QuotaOptions {
	f := env.Factory
	return &QuotaOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config,
		Output:   func() cmdutil.OutputFormat { return out },
		Profile:  func() string { return "default" },
		StateDir: func() (string, error) { return dir, nil },
		WarnAt:   "80%",
	}
}

func TestQuotaExitCodeFollowsTheThreshold(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 5, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 4}})
	dir := t.TempDir()
	for _, tc := range []struct {
		limits string
		code   int
	}{
		{"wallets=100", 0},
		{"wallets=11", 0}, // 8 of 11 is 72.7%, under 80%
		{"wallets=10", 3}, // 80%: at the threshold
		{"wallets=8", 3},  // at the limit
		{"pools=1", 3},    // over
	} {
		opts := quotaOptions(env, dir, cmdutil.OutputJSON)
		opts.Limits, opts.NoSave = tc.limits, true
		err := quotaRun(testctx.New(t), opts)
		code := 0
		var ee *cmdutil.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("--limit %s: exit %d, want %d", tc.limits, code, tc.code)
		}
	}
}

func TestQuotaJSONCarriesTheCounts(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 6, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 2, AddressesPerWallet: 2}})
	opts := quotaOptions(env, t.TempDir(), cmdutil.OutputJSON)
	if err := quotaRun(testctx.New(t), opts); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Totals  map[string]int `json:"totals"`
		Crossed bool           `json:"crossed"`
		Saved   string         `json:"saved"`
	}
	if err := json.Unmarshal([]byte(env.Stdout.String()), &r); err != nil {
		t.Fatalf("%v in %s", err, env.Stdout.String())
	}
	if r.Totals["pools"] != 3 || r.Totals["wallets"] != 6 || r.Totals["addresses"] != 12 || r.Crossed || r.Saved == "" {
		t.Fatalf("report %+v", r)
	}
}
