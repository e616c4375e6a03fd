// Package pools holds the `waasctl pools` commands.
package pools

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdPools returns the pools command group.
func NewCmdPools(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pools <command>",
		Short: "List, show and create pools",
		Long:  "A pool is the top-level container of WaaS resources: MPC wallets and device groups live in one.",
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil), NewCmdCreate(f, nil))
	return cmd
}

// Columns is how a pool prints in tables, TSV and CSV.
var Columns = []cmdutil.Column[waasapi.Pool]{
	{Header: "NAME", Value: func(p waasapi.Pool) string { return p.Name }},
	{Header: "DISPLAY NAME", Value: func(p waasapi.Pool) string { return p.DisplayName }},
}
