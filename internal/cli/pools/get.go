package pools

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
)

// GetOptions is what `pools get` needs.
type GetOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Name      string
}

// NewCmdGet returns `pools get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:   "get POOL",
		Short: "Show one pool",
		Long:  "Show one pool, by name (pools/ID) or ID.",
		Args:  cmdutil.ExactArgs(1, "pools get needs a pool name, e.g. pools/ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = cmdutil.ResourceName("pools", args[0])
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
}

func getRun(ctx context.Context, opts *GetOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	p, err := c.GetPool(ctx, opts.Name)
	if err != nil {
		return cmdutil.APIError(err)
	}
	return cmdutil.PrintObject(opts.IO, opts.Output().Resolve(opts.IO), *p, Columns)
}
