package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
)

// RemoveOptions is what `auth remove` needs.
type RemoveOptions struct {
	IO       *iostreams.IOStreams
	Keyring  func() (credentials.Store, error)
	StateDir func() (string, error) // where the profile's rotation lock and journal live
	Prompter prompter.Prompter
	// AuditDir is the audit log's folder.
	AuditDir func() (string, error)
	// TeamState is the team store as the profile's lock, journal and audit log; nil (or a nil
	// answer) keeps them on this host.
	TeamState TeamStateFunc
	Profile   string
	Yes       bool
}

// NewCmdRemove returns `auth remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Keyring: f.Keyring, Prompter: f.Prompter, AuditDir: auditlog.DefaultDir, StateDir: config.StateDir, TeamState: teamStateOf(f)}
	cmd := &cobra.Command{
		Use:     "remove [PROFILE]",
		Aliases: []string{"rm"},
		Short:   "Delete a profile's keys from the keyring (not from WaaS)",
		Long: `Delete a profile's keys (current, pending and previous) from the keyring. The keys stay
valid at WaaS: to revoke a key there, delete it in the portal. Asks for confirmation on a
terminal; elsewhere --yes is required.

Refused while a rotation of the profile is in progress (finish or abort it first: the
rotation's new key would be forgotten while still valid), and with exit 6 while another
command holds the profile's lock.`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("refusing to remove keys without confirmation: pass --yes (there is no terminal to ask on)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

func removeRun(ctx context.Context, opts *RemoveOptions) (err error) {
	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	lock, err := lockProfile(ctx, opts.StateDir, opts.TeamState, opts.Profile, "auth remove")
	if err != nil {
		return err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	item, err := store.Get(ctx, opts.Profile)
	if errors.Is(err, credentials.ErrNotFound) {
		return fmt.Errorf("profile %q has no keys in the %s keyring", opts.Profile, store.Backend())
	}
	// A damaged item is what remove is for: it cannot be read, but it can be deleted.
	if err != nil && !errors.Is(err, credentials.ErrItemDamaged) {
		return err
	}
	// A PENDING key with no rotation in progress here: one may be in progress from another state
	// folder (sudo, another XDG_STATE_HOME), whose journal this lock and check cannot see.
	if item != nil && item.Pending != nil {
		return fmt.Errorf("profile %q holds a PENDING key %s (%s) that no rotation in this state folder accounts for (one may be in progress from another, e.g. under sudo): finish or abort it there, or revoke that key first with `waasctl keys revoke %s --key %s --reason ...`",
			opts.Profile, item.Pending.Name, credentials.ShortFingerprint(item.Pending.Fingerprint), opts.Profile, item.Pending.Name)
	}
	// What is deleted, or was to be, goes to the audit log with the outcome.
	declined := false
	defer func() {
		names, fps := slotKeys(item)
		outcome, detail := outcomeOf(err, "")
		switch {
		case declined:
			outcome, detail = auditlog.OutcomeAborted, "declined at the prompt"
		case err == nil:
			detail = "deleted from the " + store.Backend() + " keyring; removing revokes nothing at WaaS"
		}
		var secrets []string
		if item != nil {
			for _, k := range []*credentials.StoredKey{item.Current, item.Pending, item.Previous} {
				if k != nil {
					secrets = append(secrets, k.PrivateKey)
				}
			}
		}
		auditKeyring(ctx, opts.IO.ErrOut, opts.AuditDir, opts.TeamState, credentials.NewGuard(secrets...), auditlog.Entry{
			Command: "auth remove", Profile: opts.Profile, Action: "remove", Outcome: outcome, Detail: detail,
			KeyNames: names, Fingerprints: fps,
		})
	}()
	if !opts.Yes {
		what := "its keys"
		if item != nil && item.Current != nil {
			what = fmt.Sprintf("%s (%s)", item.Current.Name, credentials.ShortFingerprint(item.Current.Fingerprint))
		}
		ok, err := opts.Prompter.Confirm(fmt.Sprintf("Delete %s from the %s keyring? This revokes nothing at WaaS.", what, store.Backend()), false)
		if err != nil {
			return err
		}
		if !ok {
			declined = true
			return cmdutil.ExitErrorf(cmdutil.ExitFailure, "nothing removed")
		}
	}
	if err := stillLocked(ctx, lock, opts.Profile); err != nil {
		return err
	}
	if err := store.Remove(ctx, opts.Profile); err != nil {
		return err
	}
	// Whether WaaS still accepts them is not asked (remove works offline): say what to check.
	what := "its keys"
	if names, _ := slotKeys(item); len(names) > 0 {
		what = strings.Join(names, ", ")
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed profile %q from the %s keyring. Removing revokes nothing: unless revoked already, delete %s in the portal.\n", opts.Profile, store.Backend(), what)
	return nil
}
