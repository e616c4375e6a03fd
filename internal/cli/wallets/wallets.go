// Package wallets holds the `waasctl wallets` commands.
package wallets

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdWallets returns the wallets command group.
func NewCmdWallets(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallets <command>",
		Short: "List and show MPC wallets",
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil))
	return cmd
}

// Columns is how a wallet prints in tables, TSV and CSV.
var Columns = []cmdutil.Column[waasapi.MPCWallet]{
	{Header: "NAME", Value: func(w waasapi.MPCWallet) string { return w.Name }},
	{Header: "DEVICE GROUP", Value: func(w waasapi.MPCWallet) string { return w.DeviceGroup }},
}
