package balances

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	wallet := "pools/p/mpcWallets/w"
	address := "networks/ethereum-goerli/addresses/0xDAFEA492D9c6733ae3d56b7Ed1ADB60692c98Bc5"
	for _, tc := range []struct {
		args    []string
		want    ListOptions
		wantErr string
	}{
		{[]string{"--address", address}, ListOptions{Address: address}, ""},
		{[]string{"--wallet", wallet, "--network", "ethereum-goerli"}, ListOptions{Wallet: wallet, Network: "ethereum-goerli"}, ""},
		{nil, ListOptions{}, "say whose balances: --address ADDRESS, or --wallet WALLET with --network NETWORK"},
		{[]string{"--wallet", wallet}, ListOptions{}, "say whose balances: --address ADDRESS, or --wallet WALLET with --network NETWORK"},
		{[]string{"--address", address, "--wallet", wallet}, ListOptions{}, "give --address or --wallet, not both"},
	} {
		got, err := clitest.ParseFlags(t, env, NewCmdList, tc.args...)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.Address != tc.want.Address || got.Wallet != tc.want.Wallet || got.Network != tc.want.Network {
			t.Errorf("%q: options %+v, err %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	if _, err := clitest.ParseFlags(t, env, NewCmdList, "--address", "0xDAFEA492D9c6733ae3d56b7Ed1ADB60692c98Bc5"); err == nil {
		t.Error("--address without its network was accepted")
	}
}

func TestBalancesListOfAWallet(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list_wallet", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(env *clitest.Env) []string {
			return []string{"--wallet", env.Sandbox.Inventory().Wallets[0].Name, "--network", "ethereum-goerli"}
		})
}
