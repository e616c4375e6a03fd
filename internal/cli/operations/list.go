package operations

import (
	"context"
	"iter"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `operations list` needs.
type ListOptions struct {
	IO          *iostreams.IOStreams
	APIClient   func() (*waas.Client, error)
	Output      func() cmdutil.OutputFormat
	DeviceGroup string
	Scope       cmdutil.WalletScope
}

// NewCmdList returns `operations list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list (--device-group GROUP | --pool POOL | --all)",
		Aliases: []string{"ls"},
		Short:   "List pending MPC operations",
		Long: `List the pending MPC operations of one device group, of every device group of a pool's
wallets, or with --all of every wallet's device group. WaaS has no call that lists
device groups, so groups are found through wallets: a group created without a wallet is
seen only with --device-group. Groups are asked --concurrency at a time; the output keeps
wallet order.`,
		Example: `  waasctl operations list --all -o jsonl
  waasctl operations list --device-group pools/P/deviceGroups/G`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.Exclusive(map[string]bool{"device-group": opts.DeviceGroup != "", "pool": opts.Scope.Pool != "", "all": opts.Scope.All}); err != nil {
				return err
			}
			if err := cmdutil.CheckName("--device-group", opts.DeviceGroup, cmdutil.DeviceGroupName); err != nil {
				return err
			}
			if opts.DeviceGroup == "" && opts.Scope.Check() != nil {
				return cmdutil.FlagErrorf("say which device groups: --device-group GROUP, --pool POOL or --all")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DeviceGroup, "device-group", "", "Only this device `group` (pools/POOL/deviceGroups/ID)")
	opts.Scope.AddFlags(cmd, "device groups of the wallets")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	run := cmdutil.ListRun[Operation]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "operations"}
	if opts.DeviceGroup != "" {
		return cmdutil.StreamList(ctx, run, groupOperations(ctx, c, opts.DeviceGroup))
	}
	return cmdutil.StreamList(ctx, run, walletOperations(ctx, c, opts.Scope.Wallets(ctx, c)))
}

func groupOperations(ctx context.Context, c *waas.Client, group string) iter.Seq2[Operation, error] {
	return func(yield func(Operation, error) bool) {
		for op, err := range c.Operations(ctx, group) {
			if err != nil {
				yield(Operation{}, err)
				return
			}
			if !yield(newOperation(op, group, ""), nil) {
				return
			}
		}
	}
}

// walletOperations flattens the per-group fan-out into one operation per row.
func walletOperations(ctx context.Context, c *waas.Client, wallets iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[Operation, error] {
	return func(yield func(Operation, error) bool) {
		for g, err := range c.OperationsOf(ctx, wallets) {
			if err != nil {
				yield(Operation{}, err)
				return
			}
			for _, op := range g.Operations {
				if !yield(newOperation(op, g.Wallet.DeviceGroup, g.Wallet.Name), nil) {
					return
				}
			}
		}
	}
}
