// Package incident holds the `waasctl incident` commands.
package incident

import (
	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdIncident returns the incident command group.
func NewCmdIncident(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident <command>",
		Short: "Respond to a leaked key: assess what it could have done",
		Long: `Commands for the responder to a possibly leaked API key. First stop the key:

  waasctl keys revoke PROFILE --rotate-first --reason "leaked in CI log" --yes

then assess the blast radius with 'waasctl incident assess PROFILE'. The runbook is
docs/incident-response.md.`,
	}
	cmd.AddCommand(NewCmdAssess(f, nil))
	return cmd
}
