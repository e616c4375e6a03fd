package transactions

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	wallet := "pools/p/mpcWallets/w"
	for _, tc := range []struct {
		args       []string
		wantWallet string
		wantScope  cmdutil.WalletScope
		wantErr    string
	}{
		{[]string{"--all"}, "", cmdutil.WalletScope{All: true}, ""},
		{[]string{"--pool", "p"}, "", cmdutil.WalletScope{Pool: "p"}, ""},
		{[]string{"--wallet", wallet}, wallet, cmdutil.WalletScope{}, ""},
		{nil, "", cmdutil.WalletScope{}, "say whose transactions: --wallet WALLET, --pool POOL or --all"},
		{[]string{"--wallet", wallet, "--pool", "p"}, "", cmdutil.WalletScope{}, "--pool and --wallet cannot be used together"},
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.Wallet != tc.wantWallet || got.Scope != tc.wantScope {
			t.Errorf("%q: options %+v, err %v; want wallet %q, scope %+v", tc.args, got, err, tc.wantWallet, tc.wantScope)
		}
	}
	if _, err := clitest.ParseFlags(t, env, NewCmdList, "--wallet", "w"); err == nil {
		t.Error("--wallet w (not a wallet name) was accepted")
	}
}

func TestTransactionsList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(*clitest.Env) []string { return []string{"--all"} })
}
