// Package log holds the `waasctl log` commands, which read the audit log kept by
// internal/auditlog.
package log

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdLog returns the log command group.
func NewCmdLog(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log <command>",
		Short: "Show and verify the tamper-evident audit log",
		Long: `waasctl records what it does to API keys (who, on which host, when, which command,
profile and key fingerprints, and how it ended) in an append-only audit log in which
every entry carries the hash of the one before it. 'log verify' checks the chain and
its head checkpoint, so that an edited, deleted, reordered or cut-off entry is found.

The log is audit/audit.jsonl in the state folder ($WAASCTL_STATE_DIR, else
$XDG_STATE_HOME/waasctl, else ~/.local/state/waasctl), beside its checkpoint
audit/audit.head. It holds names and fingerprints, never keys.

In team mode (docs/team.md) the log is the team store's table instead, shared by every
host of the team: show and verify read it from any host, each entry naming the host (and
age identity) that appended it.`,
	}
	cmd.AddCommand(NewCmdShow(f, nil), NewCmdVerify(f, nil))
	return cmd
}
