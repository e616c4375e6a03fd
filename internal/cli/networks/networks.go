// Package networks holds the `waasctl networks` commands.
package networks

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdNetworks returns the networks command group.
func NewCmdNetworks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "networks <command>", Short: "List the blockchain networks WaaS supports"}
	cmd.AddCommand(NewCmdList(f, nil))
	return cmd
}

// Columns is how a network prints in tables, TSV and CSV.
var Columns = []cmdutil.Column[waasapi.Network]{
	{Header: "NAME", Value: func(n waasapi.Network) string { return n.Name }},
	{Header: "DISPLAY NAME", Value: func(n waasapi.Network) string { return n.DisplayName }},
	{Header: "TYPE", Value: func(n waasapi.Network) string { return n.Type.String() }},
	{Header: "PROTOCOL FAMILY", Value: func(n waasapi.Network) string { return n.ProtocolFamily }},
}
