package devicegroups

import (
	"context"
	"iter"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `device-groups list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Scope     cmdutil.WalletScope
}

// NewCmdList returns `device-groups list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list (--pool POOL | --all)",
		Aliases: []string{"ls"},
		Short:   "List the device groups of a pool's wallets, or of every wallet",
		Long: `List device groups through the wallets that own them (WaaS has no call that lists device
groups). A device group created directly, without a wallet, does not appear; a group several
wallets share appears once, with the first of them.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Scope.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := opts.APIClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return cmdutil.StreamList(ctx, cmdutil.ListRun[Listed]{IO: opts.IO, Format: opts.Output(), Columns: ListedColumns, Noun: "device groups"},
				groupsOf(waas.FirstOfEachGroup(opts.Scope.Wallets(ctx, c))))
		},
	}
	opts.Scope.AddFlags(cmd, "device groups")
	return cmd
}

func groupsOf(wallets iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[Listed, error] {
	return func(yield func(Listed, error) bool) {
		for w, err := range wallets {
			if err != nil {
				yield(Listed{}, err)
				return
			}
			if !yield(Listed{Name: w.DeviceGroup, MPCWallet: w.Name}, nil) {
				return
			}
		}
	}
}
