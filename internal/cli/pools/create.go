package pools

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
)

// CreateOptions is what `pools create` needs.
type CreateOptions struct {
	IO          *iostreams.IOStreams
	APIClient   func() (*waas.Client, error)
	Output      func() cmdutil.OutputFormat
	DisplayName string
	ID          string
}

// NewCmdCreate returns `pools create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:   "create DISPLAY-NAME",
		Short: "Create a pool",
		Long: `Create a pool with a display name. With --id the pool gets that ID (lowercase letters,
digits and hyphens), which also makes the call safe to repeat: a second try fails with
"already exists" instead of creating a second pool.`,
		Example: `  waasctl pools create "Retail customers" --id retail`,
		Args:    cmdutil.ExactArgs(1, "pools create needs a display name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.DisplayName = strings.TrimSpace(args[0])
			if opts.DisplayName == "" {
				return cmdutil.FlagErrorf("the display name must not be empty")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.ID, "id", "", "The pool's `ID` (default: chosen by WaaS)")
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	p, err := c.CreatePool(ctx, opts.DisplayName, opts.ID)
	if err != nil {
		return cmdutil.APIError(err)
	}
	return cmdutil.PrintObject(opts.IO, opts.Output().Resolve(opts.IO), *p, Columns)
}
