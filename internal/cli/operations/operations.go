// Package operations holds the `waasctl operations` commands.
package operations

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdOperations returns the operations command group.
func NewCmdOperations(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operations <command>",
		Short: "List pending MPC operations",
		Long: `MPC operations are the pending halves of signatures, device-group creations and device
changes that wait for a user's device. A leaked API key can create them to spam users
with signing requests; 'operations list --all' shows every one.`,
	}
	cmd.AddCommand(NewCmdList(f, nil))
	return cmd
}

// Operation is one pending MPC operation with where it lives.
type Operation struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	DeviceGroup string        `json:"deviceGroup"`
	MPCWallet   string        `json:"mpcWallet,omitempty"`
	Pool        string        `json:"pool"`
	Payload     waasapi.Bytes `json:"payload,omitempty"` // what a CreateSignature would sign
}

func newOperation(op waasapi.MPCOperation, group, wallet string) Operation {
	o := Operation{Name: op.Name, Kind: op.Kind(), DeviceGroup: group, MPCWallet: wallet, Pool: waasapi.PoolOf(group)}
	if m := op.CreateSignatureMetadata; m != nil {
		o.Payload = m.Payload
	}
	return o
}

// Columns is how an operation prints in tables, TSV and CSV.
var Columns = []cmdutil.Column[Operation]{
	{Header: "NAME", Value: func(o Operation) string { return o.Name }},
	{Header: "KIND", Value: func(o Operation) string { return o.Kind }},
	{Header: "WALLET", Field: "mpcWallet", Value: func(o Operation) string { return o.MPCWallet }},
}
