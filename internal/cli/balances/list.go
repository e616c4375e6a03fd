package balances

import (
	"context"
	"iter"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `balances list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Address   string
	Wallet    string
	Network   string
}

// NewCmdList returns `balances list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list (--address ADDRESS | --wallet WALLET --network NETWORK)",
		Aliases: []string{"ls"},
		Short:   "List the balances of one address, or of every address of a wallet on a network",
		Long: `List balances. Amounts are in the asset's atomic units (wei for ether), as base-10
strings; for ERC-721 and ERC-1155 they count token IDs.`,
		Example: `  waasctl balances list --address networks/ethereum-goerli/addresses/0xDAFEA492D9c6733ae3d56b7Ed1ADB60692c98Bc5
  waasctl balances list --wallet pools/P/mpcWallets/W --network ethereum-goerli`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Address != "" && opts.Wallet != "":
				return cmdutil.FlagErrorf("give --address or --wallet, not both")
			case opts.Address == "" && (opts.Wallet == "" || opts.Network == ""):
				return cmdutil.FlagErrorf("say whose balances: --address ADDRESS, or --wallet WALLET with --network NETWORK")
			}
			if err := cmdutil.CheckName("--address", opts.Address, cmdutil.AddressName); err != nil {
				return err
			}
			if err := cmdutil.CheckName("--wallet", opts.Wallet, cmdutil.WalletName); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Address, "address", "", "The `address` (networks/N/addresses/0x...)")
	cmd.Flags().StringVar(&opts.Wallet, "wallet", "", "Every address of this `wallet`...")
	cmd.Flags().StringVar(&opts.Network, "network", "", "...on this `network`")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	run := cmdutil.ListRun[waasapi.Balance]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "balances"}
	if opts.Address != "" {
		return cmdutil.StreamList(ctx, run, c.Balances(ctx, opts.Address))
	}
	return cmdutil.StreamList(ctx, run, walletBalances(ctx, c, cmdutil.ResourceName("networks", opts.Network), opts.Wallet))
}

func walletBalances(ctx context.Context, c *waas.Client, network, wallet string) iter.Seq2[waasapi.Balance, error] {
	return func(yield func(waasapi.Balance, error) bool) {
		var addrs []string
		for a, err := range c.Addresses(ctx, network, wallet) {
			if err != nil {
				yield(waasapi.Balance{}, err)
				return
			}
			addrs = append(addrs, a.Name)
		}
		for _, a := range addrs {
			for b, err := range c.Balances(ctx, a) {
				if !yield(b, err) || err != nil {
					return
				}
			}
		}
	}
}
