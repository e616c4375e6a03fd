package networks

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `networks list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
}

// NewCmdList returns `networks list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List networks",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := opts.APIClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return cmdutil.StreamList(ctx, cmdutil.ListRun[waasapi.Network]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "networks"}, c.Networks(ctx))
		},
	}
}
