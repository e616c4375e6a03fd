package cmdutil

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/waas"
)

// GetSpec describes a command that reads one resource by name and prints
// it: `pools get`, `wallets get`, `device-groups get` differ only in these.
type GetSpec[T any] struct {
	Use, Short, Long string
	ArgError         string                  // usage error when the name is missing
	Name             func(arg string) string // normalises the argument; nil keeps it
	Pattern          string                  // the name's shape, checked before the call; "" skips
	Fetch            func(ctx context.Context, c *waas.Client, name string) (*T, error)
	Columns          []Column[T]
}

// GetOptions is what a get command's run function is given.
type GetOptions struct {
	Name string // the resource's name, normalised and checked
}

// NewGetCmd builds a get command from spec. runF, when not nil, runs instead of the fetch, as
// every NewCmdX's does (tests of the flags pass one).
func NewGetCmd[T any](f *Factory, spec GetSpec[T], runF func(context.Context, *GetOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   spec.Use,
		Short: spec.Short,
		Long:  spec.Long,
		Args:  ExactArgs(1, spec.ArgError),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &GetOptions{Name: args[0]}
			if spec.Name != nil {
				opts.Name = spec.Name(opts.Name)
			}
			if spec.Pattern != "" {
				if err := CheckName("name", opts.Name, spec.Pattern); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := f.APIClient()
			if err != nil {
				return err
			}
			v, err := spec.Fetch(cmd.Context(), c, opts.Name)
			if err != nil {
				return APIError(err)
			}
			return PrintObject(f.IOStreams, f.Output.Resolve(f.IOStreams), *v, spec.Columns)
		},
	}
}
