// Package keys holds the `waasctl keys` commands: status and check read the
// keyring and the rotation journals; rotate drives internal/rotation.
package keys

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdKeys returns the keys command group.
func NewCmdKeys(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys <command>",
		Short: "Rotate API keys safely, see their ages, gate CI on key age",
	}
	cmd.AddCommand(NewCmdStatus(f, nil), NewCmdCheck(f, nil), NewCmdRotate(f, nil), NewCmdRevoke(f, nil))
	return cmd
}
