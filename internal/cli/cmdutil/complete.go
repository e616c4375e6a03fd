package cmdutil

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// CompletionTimeout bounds what a completion may wait for (the keyring, the API): a shell
// waiting on Tab is worse than a shell that offers nothing.
var CompletionTimeout = 2 * time.Second

// forCompletion readies f for a completion request: nothing may prompt (the shell owns the
// terminal, and a keyring that needs a passphrase without WAASCTL_KEYRING_PASSPHRASE offers
// nothing), and no keyring call may take longer than CompletionTimeout.
func forCompletion(f *Factory) {
	f.IOStreams.SetNeverPrompt(true)
	if f.KeyringTimeout <= 0 || f.KeyringTimeout > CompletionTimeout {
		f.KeyringTimeout = CompletionTimeout
	}
}

// within runs fn and returns what it returned, or nothing once CompletionTimeout has passed.
func within[T any](ctx context.Context, fn func(context.Context) []T) []T {
	ctx, cancel := context.WithTimeout(ctx, CompletionTimeout)
	defer cancel()
	done := make(chan []T, 1)
	go func() { done <- fn(ctx) }()
	select {
	case v := <-done:
		return v
	case <-ctx.Done():
		return nil // what is still running ends with the process
	}
}

// ProfileNames lists the profiles the config file and the keyring know, sorted, for shell
// completion: errors (no config, a locked keyring) leave their part out.
func ProfileNames(ctx context.Context, f *Factory) []string {
	forCompletion(f)
	var names []string
	if f.Config != nil {
		if cfg, err := f.Config(); err == nil {
			for name := range cfg.Profiles {
				names = append(names, name)
			}
		}
	}
	if f.Keyring != nil {
		names = append(names, within(ctx, func(ctx context.Context) []string {
			store, err := f.Keyring()
			if err != nil {
				return nil
			}
			stored, err := store.Profiles(ctx)
			if err != nil {
				return nil
			}
			return stored
		})...)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return credentials.CheckProfile(n) != nil })
	slices.Sort(names)
	return slices.Compact(names)
}

// CompleteProfiles completes profile names (positional PROFILE arguments and --profile);
// maxArgs bounds how many positional profiles the command takes (0: any number).
func CompleteProfiles(f *Factory, maxArgs int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if maxArgs > 0 && len(args) >= maxArgs {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range ProfileNames(cmd.Context(), f) {
			if strings.HasPrefix(n, toComplete) && !slices.Contains(args, n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// CompletePools completes pool names (pools/ID) from the API, when the profile's key works
// within CompletionTimeout, never prompting for anything.
func CompletePools(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		forCompletion(f)
		if f.APIClient == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// The profile the command would use; completion runs no PreRun, so resolve it here.
		if p, err := ResolveProfile(cmd, f, nil); err == nil {
			f.Profile = p
		}
		names := within(cmd.Context(), func(ctx context.Context) []cobra.Completion {
			c, err := f.APIClient()
			if err != nil {
				return nil
			}
			var out []cobra.Completion
			for p, err := range c.Pools(ctx) {
				if err != nil {
					return out
				}
				if strings.HasPrefix(p.Name, toComplete) || strings.HasPrefix(strings.TrimPrefix(p.Name, "pools/"), toComplete) {
					// The display name is the server's text: inert before a shell shows it.
					out = append(out, cobra.CompletionWithDesc(p.Name, textsafe.Line(p.DisplayName)))
				}
			}
			return out
		})
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteSnapshots completes the inventory snapshots in the state folder, newest first, for
// what takes a snapshot file (incident assess --since, inventory diff A B); with byProfile, only
// those of the PROFILE argument, when there is one. A path being typed that is not under the
// state folder falls back to the shell's own file completion.
func CompleteSnapshots(f *Factory, byProfile bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		stateDir, err := config.StateDir()
		if err != nil {
			return nil, cobra.ShellCompDirectiveDefault
		}
		dir := inventory.SnapshotDir(stateDir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, cobra.ShellCompDirectiveDefault
		}
		var out []cobra.Completion
		for i := len(entries) - 1; i >= 0; i-- {
			e := entries[i]
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".jsonl") {
				continue
			}
			// With a PROFILE given, its snapshots only (snapshots are named PROFILE-TIME.jsonl).
			if byProfile && len(args) > 0 && !strings.HasPrefix(e.Name(), args[0]+"-") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if strings.HasPrefix(p, toComplete) || strings.HasPrefix(e.Name(), toComplete) {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}
