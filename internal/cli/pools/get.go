package pools

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdGet returns `pools get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *cmdutil.GetOptions) error) *cobra.Command {
	return cmdutil.NewGetCmd(f, cmdutil.GetSpec[waasapi.Pool]{
		Use:      "get POOL",
		Short:    "Show one pool",
		Long:     "Show one pool, by name (pools/ID) or ID.",
		ArgError: "pools get needs a pool name, e.g. pools/ID",
		Name:     func(arg string) string { return cmdutil.ResourceName("pools", arg) },
		Fetch: func(ctx context.Context, c *waas.Client, name string) (*waasapi.Pool, error) {
			return c.GetPool(ctx, name)
		},
		Columns: Columns,
	}, runF)
}
