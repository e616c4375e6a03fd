// Package sandbox holds the `waasctl sandbox` commands.
package sandbox

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdSandbox returns the sandbox command group.
func NewCmdSandbox(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox <command>",
		Short: "Run a local WaaS emulator",
		Long: `Run a local emulator of the Coinbase WaaS REST API, for tests, CI and trying waasctl
without a Coinbase account. See docs/sandbox.md.`,
	}
	cmd.AddCommand(NewCmdServe(f, nil))
	cmd.AddCommand(NewCmdDemo(f, nil))
	return cmd
}
