package wallets

import (
	"context"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/sandbox"
)

// Flags become options.
func TestListFlags(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 1})
	for _, tc := range []struct {
		args    []string
		want    cmdutil.WalletScope
		wantErr string
	}{
		{[]string{"--all"}, cmdutil.WalletScope{All: true}, ""},
		{[]string{"--pool", "abc"}, cmdutil.WalletScope{Pool: "abc"}, ""},
		{nil, cmdutil.WalletScope{}, "say which wallets: --pool POOL or --all"},
		{[]string{"--pool", "a", "--all"}, cmdutil.WalletScope{}, "--pool and --all cannot be used together"},
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.Scope != tc.want {
			t.Errorf("%v: %+v %v", tc.args, got, err)
		}
	}
}

// The run function lists every wallet of every pool, one per line when piped.
func TestListRunAll(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 2, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 5}})
	opts := &ListOptions{IO: env.Factory.IOStreams, APIClient: env.Factory.APIClient, Output: func() cmdutil.OutputFormat { return "" }, Scope: cmdutil.WalletScope{All: true}}
	if err := listRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(env.Stdout.String()), "\n")
	if len(lines) != 15 || !strings.Contains(lines[0], "/mpcWallets/") || !strings.Contains(lines[0], "\t") {
		t.Fatalf("output:\n%s", env.Stdout.String())
	}
}
