// Package audit holds the `waasctl audit` commands.
package audit

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdAudit returns the audit command group.
func NewCmdAudit(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit <command>",
		Short: "Check the estate against limits and your ledger (exit 3 on findings)",
	}
	cmd.AddCommand(NewCmdQuota(f, nil))
	cmd.AddCommand(NewCmdOperations(f, nil))
	cmd.AddCommand(NewCmdResources(f, nil))
	return cmd
}
