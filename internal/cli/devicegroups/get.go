package devicegroups

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdGet returns `device-groups get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *cmdutil.GetOptions) error) *cobra.Command {
	return cmdutil.NewGetCmd(f, cmdutil.GetSpec[waasapi.DeviceGroup]{
		Use:      "get GROUP",
		Short:    "Show one device group and its devices",
		ArgError: "device-groups get needs a name, pools/POOL/deviceGroups/ID",
		Pattern:  cmdutil.DeviceGroupName,
		Fetch: func(ctx context.Context, c *waas.Client, name string) (*waasapi.DeviceGroup, error) {
			return c.GetDeviceGroup(ctx, name)
		},
		Columns: GroupColumns,
	}, runF)
}
