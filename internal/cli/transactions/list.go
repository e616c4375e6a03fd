package transactions

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `transactions list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Wallet    string
	Scope     cmdutil.WalletScope
}

// NewCmdList returns `transactions list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list (--wallet WALLET | --pool POOL | --all)",
		Aliases: []string{"ls"},
		Short:   "List the MPC transactions of a wallet, of a pool's wallets, or of every wallet",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.Exclusive(map[string]bool{"wallet": opts.Wallet != "", "pool": opts.Scope.Pool != "", "all": opts.Scope.All}); err != nil {
				return err
			}
			if err := cmdutil.CheckName("--wallet", opts.Wallet, cmdutil.WalletName); err != nil {
				return err
			}
			if opts.Wallet == "" && opts.Scope.Check() != nil {
				return cmdutil.FlagErrorf("say whose transactions: --wallet WALLET, --pool POOL or --all")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := opts.APIClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run := cmdutil.ListRun[waasapi.MPCTransaction]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "transactions"}
			if opts.Wallet != "" {
				return cmdutil.StreamList(ctx, run, c.Transactions(ctx, opts.Wallet))
			}
			return cmdutil.StreamList(ctx, run, c.TransactionsOf(ctx, opts.Scope.Wallets(ctx, c)))
		},
	}
	cmd.Flags().StringVar(&opts.Wallet, "wallet", "", "Only this `wallet` (pools/POOL/mpcWallets/ID)")
	opts.Scope.AddFlags(cmd, "wallets' transactions")
	return cmd
}
