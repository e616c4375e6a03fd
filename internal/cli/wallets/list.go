package wallets

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `wallets list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Scope     cmdutil.WalletScope
}

// NewCmdList returns `wallets list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list (--pool POOL | --all)",
		Aliases: []string{"ls"},
		Short:   "List the MPC wallets of a pool, or of every pool",
		Long: `List the MPC wallets of one pool, or with --all of every pool. Pools are listed
--concurrency at a time and the output keeps pool order, then WaaS's order within a
pool, whatever the concurrency. The output streams: a million wallets take little memory.`,
		Example: `  waasctl wallets list --pool pools/95257c5a-522f-4241-bf97-2656a8e9cc91
  waasctl wallets list --all -o jsonl > wallets.jsonl`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Scope.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	opts.Scope.AddFlags(cmd, "wallets")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	return cmdutil.StreamList(ctx, cmdutil.ListRun[waasapi.MPCWallet]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "wallets"}, opts.Scope.Wallets(ctx, c))
}
