package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
)

// addCompletions gives the shell what it cannot know: profile names (from the config and the
// keyring), pool names (from the API), issuer and keyring backend names, and snapshot files.
// It walks the tree once, so that a command gets the completion of its PROFILE argument and
// its --pool, --issuer and --since flags by naming them the way every command does; a command
// that sets its own completion keeps it. Nothing here prompts or waits more than
// cmdutil.CompletionTimeout.
func addCompletions(root *cobra.Command, f *cmdutil.Factory) {
	_ = root.RegisterFlagCompletionFunc("profile", cmdutil.CompleteProfiles(f, 0))
	_ = root.RegisterFlagCompletionFunc("keyring-backend", func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return withPrefix(credentials.AvailableBackends())(cmd, args, toComplete)
	})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		use := c.Use
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			switch {
			case strings.Contains(use, "PROFILE..."):
				c.ValidArgsFunction = cmdutil.CompleteProfiles(f, 0)
			case strings.Contains(use, "PROFILE"):
				c.ValidArgsFunction = cmdutil.CompleteProfiles(f, 1)
			case strings.HasPrefix(use, "get POOL"):
				c.ValidArgsFunction = onlyFirst(cmdutil.CompletePools(f))
			case strings.HasPrefix(use, "diff A B"): // inventory diff: two snapshot files
				snapshots := cmdutil.CompleteSnapshots(f, false)
				c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
					if len(args) >= 2 {
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
					return snapshots(cmd, args, toComplete)
				}
			}
		}
		fixed := map[string][]string{"issuer": config.IssuerTypes}
		for name, values := range fixed {
			if c.LocalFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, withPrefix(values))
			}
		}
		if c.LocalFlags().Lookup("pool") != nil {
			_ = c.RegisterFlagCompletionFunc("pool", cmdutil.CompletePools(f))
		}
		// A snapshot file: incident assess --since (log show's --since is a time).
		if fl := c.LocalFlags().Lookup("since"); fl != nil && strings.Contains(strings.ToLower(fl.Usage), "snapshot") {
			_ = c.RegisterFlagCompletionFunc("since", cmdutil.CompleteSnapshots(f, true))
		}
	}
	walk(root)
}

// onlyFirst completes the first positional argument with fn, and nothing after it.
func onlyFirst(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

// withPrefix completes one of values, those that start with what is typed.
func withPrefix(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
