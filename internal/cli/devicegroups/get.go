package devicegroups

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
)

// GetOptions is what `device-groups get` needs.
type GetOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Name      string
}

// NewCmdGet returns `device-groups get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:   "get GROUP",
		Short: "Show one device group and its devices",
		Args:  cmdutil.ExactArgs(1, "device-groups get needs a name, pools/POOL/deviceGroups/ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := opts.APIClient()
			if err != nil {
				return err
			}
			g, err := c.GetDeviceGroup(cmd.Context(), opts.Name)
			if err != nil {
				return cmdutil.APIError(err)
			}
			return cmdutil.PrintObject(opts.IO, opts.Output().Resolve(opts.IO), *g, GroupColumns)
		},
	}
}
