package wallets

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// NewCmdGet returns `wallets get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *cmdutil.GetOptions) error) *cobra.Command {
	return cmdutil.NewGetCmd(f, cmdutil.GetSpec[waasapi.MPCWallet]{
		Use:      "get WALLET",
		Short:    "Show one MPC wallet",
		Long:     "Show one MPC wallet, by its full name pools/POOL/mpcWallets/ID.",
		ArgError: "wallets get needs a wallet name, pools/POOL/mpcWallets/ID",
		Pattern:  cmdutil.WalletName,
		Fetch: func(ctx context.Context, c *waas.Client, name string) (*waasapi.MPCWallet, error) {
			return c.GetMPCWallet(ctx, name)
		},
		Columns: Columns,
	}, runF)
}
