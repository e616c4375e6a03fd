// Package addresses holds the `waasctl addresses` commands.
package addresses

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdAddresses returns the addresses command group.
func NewCmdAddresses(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "addresses <command>", Short: "List on-chain addresses of MPC wallets"}
	cmd.AddCommand(NewCmdList(f, nil))
	return cmd
}

// Columns is how an address prints.
var Columns = []cmdutil.Column[waasapi.Address]{
	{Header: "NAME", Value: func(a waasapi.Address) string { return a.Name }},
	{Header: "WALLET", Field: "mpcWallet", Value: func(a waasapi.Address) string { return a.MPCWallet }},
}
