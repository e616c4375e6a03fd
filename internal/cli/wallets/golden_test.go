package wallets

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestWalletsList(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(*clitest.Env) []string { return []string{"--all"} })
}

func TestWalletsListOnePool(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "list_pool", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
		func(env *clitest.Env) []string { return []string{"--pool", env.Sandbox.Inventory().Pools[0]} })
}

func TestWalletsGet(t *testing.T) {
	clitest.GoldenTerminalAndPiped(t, "get", clitest.SeededEstate(),
		func(f *cmdutil.Factory) *cobra.Command { return NewCmdGet(f, nil) },
		func(env *clitest.Env) []string { return []string{env.Sandbox.Inventory().Wallets[0].Name} })
}
