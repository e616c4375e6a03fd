// Package configcmd implements `waasctl config`: reading and changing config.yaml from the
// command line (comments and order kept), checking it, and listing its profiles. Named
// configcmd so as not to clash with internal/config, the package it drives.
package configcmd

import (
	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdConfig returns the `config` command group.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show, change and check the config file, without an editor",
		Long: `Show, change and check config.yaml, the non-secret settings of every profile: endpoint,
issuer, sinks, policy, quota limits and ledger. Keys never live there; they live in the
keyring (waasctl auth).

A KEY names one setting with dots, list items by index:
  profiles.prod.endpoint
  profiles.prod.issuer.type           profiles.prod.issuer.command
  profiles.prod.sinks[0].path         profiles.prod.sinks[+]  (appends)
  profiles.prod.policy.max_age        profiles.prod.quota.pools
  profiles.prod.ledger.dsn
A profile whose name has a dot goes in brackets: profiles[eu.prod].endpoint.

Changes keep the file's comments and order, are written atomically (mode 0600), and are
refused, leaving the file as it was, when the result would not load.
docs/configuration.md lists every key.`,
		Example: `  waasctl config set profiles.prod.issuer.type exec
  waasctl config set profiles.prod.issuer.command /usr/local/bin/waas-issuer --org acme
  waasctl config set 'profiles.prod.sinks[+]' '{type: envfile, path: /srv/proxy/.env}'
  waasctl config validate`,
	}
	cmd.AddCommand(
		NewCmdPath(f, nil),
		NewCmdView(f, nil),
		NewCmdGet(f, nil),
		NewCmdSet(f, nil),
		NewCmdUnset(f, nil),
		NewCmdValidate(f, nil),
		NewCmdProfiles(f, nil),
	)
	return cmd
}
