// Package inventory holds the `waasctl inventory` commands: complete,
// integrity-checked snapshots of an estate and their differences.
package inventory

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdInventory returns the inventory command group.
func NewCmdInventory(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory <command>",
		Short: "Snapshot the whole estate and compare snapshots",
		Long: `A snapshot lists every pool, wallet, device group, pending operation and address, one
JSON line each, between a header and a trailer that carries a count and a SHA-256, so a
truncated or edited snapshot is detected. Comparing two shows what appeared and vanished.`,
	}
	cmd.AddCommand(NewCmdSnapshot(f, nil), NewCmdDiff(f, nil))
	return cmd
}
