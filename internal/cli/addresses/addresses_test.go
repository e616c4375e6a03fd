package addresses

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
		args                    []string
		wantNetwork, wantWallet string
		wantErr                 bool
	}{
		{nil, "", "", false},
		{[]string{"--network", "ethereum-goerli"}, "networks/ethereum-goerli", "", false},
		{[]string{"--network", "networks/ethereum-goerli"}, "networks/ethereum-goerli", "", false},
		{[]string{"--wallet", wallet}, "", wallet, false},
		{[]string{"--wallet", "w"}, "", "", true},
		{[]string{"extra"}, "", "", true},
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q: accepted", tc.args)
			}
			continue
		}
		if err != nil || got.Network != tc.wantNetwork || got.Wallet != tc.wantWallet {
			t.Errorf("%q: options %+v, err %v; want network %q, wallet %q", tc.args, got, err, tc.wantNetwork, tc.wantWallet)
		}
	}
}

func TestAddressesList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) }, nil)
}

func TestAddressesListOneWallet(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list_wallet", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(env *clitest.Env) []string { return []string{"--wallet", env.Sandbox.Inventory().Wallets[0].Name} })
}
