// Package devicegroups holds the `waasctl device-groups` commands.
package devicegroups

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdDeviceGroups returns the device-groups command group.
func NewCmdDeviceGroups(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "device-groups <command>",
		Aliases: []string{"device-group", "dg"},
		Short:   "Show device groups, and list them through their wallets",
		Long: `A device group holds the MPC keys of a wallet and the devices that share them. WaaS has
no call that lists device groups: 'device-groups list' finds them through wallets.`,
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil))
	return cmd
}

// GroupColumns is how a device group prints.
var GroupColumns = []cmdutil.Column[waasapi.DeviceGroup]{
	{Header: "NAME", Value: func(g waasapi.DeviceGroup) string { return g.Name }},
	{Header: "DEVICES", Value: func(g waasapi.DeviceGroup) string { return strings.Join(g.Devices, ",") }},
}

// Listed is a device group found through its wallet.
type Listed struct {
	Name      string `json:"name"`
	MPCWallet string `json:"mpcWallet"`
}

// ListedColumns is how a listed device group prints.
var ListedColumns = []cmdutil.Column[Listed]{
	{Header: "NAME", Value: func(g Listed) string { return g.Name }},
	{Header: "WALLET", Field: "mpcWallet", Value: func(g Listed) string { return g.MPCWallet }},
}
