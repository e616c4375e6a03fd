// Package keys holds the `waasctl keys` commands: status and check read the
// keyring and the rotation journals; rotate drives internal/rotation.
package keys

import (
	"fmt"
	"time"

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

// age says how old something is, to the unit that matters.
func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
