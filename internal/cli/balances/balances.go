// Package balances holds the `waasctl balances` commands.
package balances

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdBalances returns the balances command group.
func NewCmdBalances(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "balances <command>", Short: "List the asset balances of addresses"}
	cmd.AddCommand(NewCmdList(f, nil))
	return cmd
}

// Columns is how a balance prints.
var Columns = []cmdutil.Column[waasapi.Balance]{
	{Header: "NAME", Value: func(b waasapi.Balance) string { return b.Name }},
	{Header: "ASSET", Value: func(b waasapi.Balance) string { return b.Asset }},
	{Header: "AMOUNT", Value: func(b waasapi.Balance) string { return b.Amount }},
}
