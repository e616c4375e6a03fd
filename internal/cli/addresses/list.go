package addresses

import (
	"context"
	"iter"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// ListOptions is what `addresses list` needs.
type ListOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Network   string
	Wallet    string
}

// NewCmdList returns `addresses list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:     "list [--network NETWORK] [--wallet WALLET]",
		Aliases: []string{"ls"},
		Short:   "List addresses, on one network or all, of one wallet or all",
		Long: `List addresses. WaaS lists addresses per network: without --network, every network is
listed in turn. --wallet keeps one wallet's addresses.`,
		Example: `  waasctl addresses list --network networks/ethereum-goerli
  waasctl addresses list --wallet pools/P/mpcWallets/W -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Network != "" {
				opts.Network = cmdutil.ResourceName("networks", opts.Network)
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
	cmd.Flags().StringVar(&opts.Network, "network", "", "Only this `network` (networks/ID or ID)")
	cmd.Flags().StringVar(&opts.Wallet, "wallet", "", "Only this `wallet` (pools/POOL/mpcWallets/ID)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	run := cmdutil.ListRun[waasapi.Address]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "addresses"}
	if opts.Network != "" {
		return cmdutil.StreamList(ctx, run, c.Addresses(ctx, opts.Network, opts.Wallet))
	}
	return cmdutil.StreamList(ctx, run, onEveryNetwork(ctx, c, opts.Wallet))
}

func onEveryNetwork(ctx context.Context, c *waas.Client, wallet string) iter.Seq2[waasapi.Address, error] {
	return func(yield func(waasapi.Address, error) bool) {
		var networks []string
		for n, err := range c.Networks(ctx) {
			if err != nil {
				yield(waasapi.Address{}, err)
				return
			}
			networks = append(networks, n.Name)
		}
		for _, n := range networks {
			for a, err := range c.Addresses(ctx, n, wallet) {
				if !yield(a, err) || err != nil {
					return
				}
			}
		}
	}
}
