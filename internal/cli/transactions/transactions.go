// Package transactions holds the `waasctl transactions` commands.
package transactions

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdTransactions returns the transactions command group.
func NewCmdTransactions(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "transactions <command>", Short: "List MPC transactions"}
	cmd.AddCommand(NewCmdList(f, nil))
	return cmd
}

// Columns is how a transaction prints.
var Columns = []cmdutil.Column[waasapi.MPCTransaction]{
	{Header: "NAME", Value: func(t waasapi.MPCTransaction) string { return t.Name }},
	{Header: "NETWORK", Value: func(t waasapi.MPCTransaction) string { return t.Network }},
	{Header: "STATE", Value: func(t waasapi.MPCTransaction) string { return t.State.String() }},
	{Header: "HASH", Value: func(t waasapi.MPCTransaction) string {
		if t.Transaction == nil {
			return ""
		}
		return t.Transaction.Hash
	}},
}
