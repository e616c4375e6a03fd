package keys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/waas"
)

// RevokeOptions is what `keys revoke` needs.
type RevokeOptions struct {
	IO          *iostreams.IOStreams
	Factory     *cmdutil.Factory
	Profile     string
	Key         string
	Reason      string
	Issuer      string
	RotateFirst bool
	Force       bool
	Yes         bool
}

// NewCmdRevoke returns `keys revoke`.
func NewCmdRevoke(f *cmdutil.Factory, runF func(context.Context, *RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "revoke [PROFILE] --reason TEXT [--key NAME|FINGERPRINT] [--rotate-first | --force]",
		Short: "Revoke a key at WaaS now, and check that it is refused",
		Long: `Revoke a key server-side through the profile's issuer and check that WaaS now refuses
it (HTTP 401). For an incident: a key that may have leaked.

Without --key the profile's current key is meant. Revoking the current key would leave
the profile's consumers without a working key, so it needs either --rotate-first (an
emergency rotation with no grace: a new key is created, verified and delivered, and the
old one revoked at the end) or --force (revoke it now and leave the profile without a key).
A previous key, or a key named with --key that the keyring does not hold, is revoked
directly, under the profile's lock (exit 6 while a rotation or another command holds it).
--key takes a key's name, or the fingerprint (full, or the short form 'keys status' shows)
of one of the profile's keys; a fingerprint the profile does not hold is refused (exit 2),
never sent to WaaS. The keys of a rotation in progress are refused: 'keys rotate PROFILE
--resume --grace 0' revokes its old key, '--abort' its new one. --reason is recorded in the
audit log.`,
		Example: `  waasctl keys revoke prod --reason "key pasted in a public issue" --rotate-first --yes
  waasctl keys revoke prod --key SHA256:E3LZG0UcxP4r --reason "left over from a rotation"`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			if strings.TrimSpace(opts.Reason) == "" {
				return cmdutil.FlagErrorf("--reason is required: say why, for the audit log")
			}
			if credentials.LooksSecret(opts.Reason) {
				return cmdutil.FlagErrorf("--reason holds private key material (a PEM key, or a key in base64 or hex); describe the incident instead")
			}
			if err := cmdutil.Exclusive(map[string]bool{"rotate-first": opts.RotateFirst, "force": opts.Force}); err != nil {
				return err
			}
			if err := checkIssuer(opts.Issuer); err != nil {
				return err
			}
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("refusing to revoke without confirmation: pass --yes (there is no terminal to ask on)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return revokeRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Key, "key", "", "The key to revoke: its name or fingerprint (default: the current key)")
	fl.StringVar(&opts.Reason, "reason", "", "Why, for the audit log (required)")
	fl.StringVar(&opts.Issuer, "issuer", "", "Who revokes keys: sandbox, manual or exec (default: the profile's issuer)")
	fl.BoolVar(&opts.RotateFirst, "rotate-first", false, "For the current key: rotate to a new key first, with no grace, then revoke it")
	fl.BoolVar(&opts.Force, "force", false, "For the current key: revoke it now, leaving the profile without a working key")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

func revokeRun(ctx context.Context, opts *RevokeOptions) error {
	f := opts.Factory
	store, err := f.Keyring()
	if err != nil {
		return err
	}
	item, err := store.Get(ctx, opts.Profile)
	if errors.Is(err, credentials.ErrNotFound) {
		item = &credentials.Item{Profile: opts.Profile}
	} else if err != nil {
		return err
	}
	// The reason was checked for any key material already; now that the profile's keys are at
	// hand, their exact bytes in any encoding are refused too.
	var secrets []string
	for _, k := range []*credentials.StoredKey{item.Current, item.Pending, item.Previous} {
		if k != nil {
			secrets = append(secrets, k.PrivateKey)
		}
	}
	guard := credentials.NewGuard(secrets...)
	if guard.Refuses(opts.Reason) {
		return cmdutil.FlagErrorf("--reason holds one of profile %q's private keys; describe the incident instead", opts.Profile)
	}
	target, slot := pickKey(item, opts.Key)
	if target == nil && opts.Key == "" {
		return fmt.Errorf("profile %q has no current key; name the key to revoke with --key", opts.Profile)
	}
	if target == nil {
		// A key the keyring does not hold goes to WaaS by its name: a fingerprint (or any
		// other text) sent as a name would only fail there, or name something else.
		if err := revocableName(opts.Profile, opts.Key); err != nil {
			return err
		}
	}
	isCurrent := slot == "current"
	if isCurrent && !opts.RotateFirst && !opts.Force {
		return cmdutil.FlagErrorf("%s is the current key of profile %q: pass --rotate-first to replace it first, or --force to revoke it and leave the profile without a key", target.Name, opts.Profile)
	}
	name := opts.Key
	if target != nil {
		name = target.Name
	}
	if !opts.Yes {
		ok, err := f.Prompter.Confirm(fmt.Sprintf("Revoke %s at WaaS now?", name), false)
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ExitErrorf(cmdutil.ExitFailure, "nothing revoked")
		}
	}
	// The profile's journal, lock and audit log: the team store's in team mode.
	st, err := cmdutil.OpenRotationState(ctx, f, opts.Profile, os.Getenv, rotation.Holder{Command: "keys revoke"}, false)
	if err != nil {
		return err
	}
	audit := func(action, outcome, detail string) {
		e := auditlog.Entry{Command: "keys revoke", Profile: opts.Profile, Action: action, KeyNames: []string{name}, Outcome: outcome, Detail: detail}
		if target != nil {
			e.Fingerprints = []string{target.Fingerprint}
		}
		if _, err := st.AppendAudit(context.WithoutCancel(ctx), e, guard); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: the audit log was not written: %v\n", err)
		}
	}

	if isCurrent && opts.RotateFirst {
		// A rotation in progress has a PENDING key made before the leak may have been noticed:
		// the emergency needs a key made now, so that one is aborted first, not resumed.
		if j := journalInProgress(ctx, st, opts.Profile); j != nil {
			if j.Emergency {
				return fmt.Errorf("an emergency rotation of profile %s is in progress (rotation %s, at %s): finish it with `waasctl keys rotate %s --resume`", opts.Profile, j.ID, j.Step, opts.Profile)
			}
			return fmt.Errorf("a rotation of profile %s is in progress (rotation %s, at %s); its new key was made before this emergency, so do not resume it: abort it with `waasctl keys rotate %s --abort`, then run this command again", opts.Profile, j.ID, j.Step, opts.Profile)
		}
		// The engine's revoke step revokes the old key and confirms the 401.
		audit("revoke.rotate-first", "started", opts.Reason)
		// A leaked key must die even if another profile holds it too: say who loses it.
		if hs, err := rotation.HoldersOf(ctx, store, opts.Profile, target.Name, target.Fingerprint, "current", "pending"); err == nil {
			for _, h := range hs {
				fmt.Fprintf(opts.IO.ErrOut, "warning: %s is also %s, which stops working when it is revoked.\n", target.Name, h)
			}
		}
		rot := &RotateOptions{IO: opts.IO, Factory: f, Prompter: f.Prompter, Profile: opts.Profile, Issuer: opts.Issuer, Grace: "0", Yes: true,
			// A snapshot now would be taken after the leak: it must never become the
			// baseline an incident assessment compares with. The journal records it, for --resume.
			NoSnapshot: true, Emergency: true, EmergencyReason: opts.Reason, RevokeShared: true, state: st}
		if err := rotateRun(ctx, rot); err != nil {
			outcome := auditlog.OutcomeFailed
			if errors.Is(err, context.Canceled) || cmdutil.IsUserCancellation(err) {
				outcome = auditlog.OutcomeInterrupted
			}
			audit("revoke.rotate-first", outcome, opts.Reason)
			return err
		}
		audit("revoke.rotate-first", "ok", opts.Reason)
		return nil
	}

	rot := &RotateOptions{IO: opts.IO, Factory: f, Profile: opts.Profile, Issuer: opts.Issuer, Grace: "0", state: st}
	eng, err := newEngine(ctx, rot)
	if err != nil {
		return err
	}
	// The profile's lock, shared with keys rotate and auth add/remove: a revocation must not
	// race a rotation, nor empty a slot a rotation is waiting on.
	lock, err := st.AcquireLock(ctx, opts.Profile, "keys revoke")
	if err != nil {
		return rotationError(ctx, st, opts.Profile, err)
	}
	defer lock.Release(context.WithoutCancel(ctx))
	if item, err = store.Get(ctx, opts.Profile); errors.Is(err, credentials.ErrNotFound) {
		item = &credentials.Item{Profile: opts.Profile}
	} else if err != nil {
		return err
	}
	if again, againSlot := pickKey(item, opts.Key); againSlot != slot || again != nil && target != nil && again.Fingerprint != target.Fingerprint {
		return fmt.Errorf("profile %q's keys changed while waiting for the lock; run the command again", opts.Profile)
	}
	if err := refuseRotationKey(ctx, st, opts.Profile, item, name, target); err != nil {
		audit("revoke", "refused", opts.Reason+": "+err.Error())
		return err
	}
	// A key another profile holds as CURRENT or PENDING: revoking it here would leave that
	// profile without a working key, silently. --force on this profile's own CURRENT key says
	// so knowingly (and is warned who else loses it); anything else is refused.
	fp := ""
	if target != nil {
		fp = target.Fingerprint
	}
	if hs, err := rotation.HoldersOf(ctx, store, opts.Profile, name, fp, "current", "pending"); err != nil {
		return err
	} else if len(hs) > 0 {
		if !(isCurrent && opts.Force) {
			err := fmt.Errorf("%s is also %s: revoking it would leave that profile without a working key; revoke it there (keys revoke PROFILE --rotate-first), or give that profile a key of its own first", name, hs[0])
			audit("revoke", "refused", opts.Reason+": "+err.Error())
			return err
		}
		for _, h := range hs {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s is also %s, which stops working now.\n", name, h)
		}
	}
	// A holder whose lock is gone (its team store session ended) changes nothing.
	if err := lock.Check(ctx); err != nil {
		return lockLost(opts.Profile, err)
	}
	if err := eng.Issuer.Revoke(ctx, name); err != nil {
		audit("revoke", "failed", opts.Reason)
		return cmdutil.APIError(fmt.Errorf("revoking %s: %w", name, err))
	}
	confirmed := "no secret in the keyring to check the refusal with"
	if target != nil {
		key, err := credentials.NewAPIKey(target.Name, target.PrivateKey, "keyring")
		if err != nil {
			return err
		}
		if err := waitRejected(ctx, func(ctx context.Context) error { _, err := eng.Check(ctx, key); return err }); err != nil {
			audit("revoke", "unconfirmed", opts.Reason)
			return err
		}
		confirmed = "WaaS now refuses it (HTTP 401)"
		if slot == "previous" {
			item.Previous = nil
		} else if slot == "pending" {
			item.Pending = nil
		}
		if slot != "current" {
			if err := lock.Check(ctx); err != nil {
				return lockLost(opts.Profile, err)
			}
			if err := store.Put(ctx, item); err != nil {
				return err
			}
		}
	}
	audit("revoke", "ok", opts.Reason)
	fmt.Fprintf(opts.IO.ErrOut, "Revoked %s: %s.\n", name, confirmed)
	if isCurrent {
		fmt.Fprintf(opts.IO.ErrOut, "Profile %q has no working key now: add one with 'waasctl auth add %s --key-file FILE --force'.\n", opts.Profile, opts.Profile)
	}
	return nil
}

// lockLost is the error of a command whose profile lock was lost before a change: another host
// may hold it now (exit 6).
func lockLost(profile string, err error) error {
	if errors.Is(err, rotation.ErrLockLost) {
		return cmdutil.NewExitError(cmdutil.ExitLocked, &rotation.TakenOverError{Profile: profile, Err: err})
	}
	return err
}

// refuseRotationKey refuses to revoke a key that the rotation in progress still works with: its
// old key (which its revoke step revokes, and checks), its new key, or the keyring's PENDING
// key (which its --abort revokes). Revoking one behind its back left the rotation, and every
// --resume, waiting for a key that was gone.
func refuseRotationKey(ctx context.Context, st rotation.StateBackend, profile string, item *credentials.Item, name string, target *credentials.StoredKey) error {
	j, err := rotation.InProgressIn(ctx, st, profile)
	if err != nil || j == nil {
		return err
	}
	fp := ""
	if target != nil {
		fp = target.Fingerprint
	}
	is := func(r rotation.KeyRef) bool {
		return r.Name != "" && (r.Name == name || fp != "" && r.Fingerprint == fp)
	}
	pending := item.Pending != nil && (item.Pending.Name == name || fp != "" && item.Pending.Fingerprint == fp)
	switch {
	case is(j.OldKey):
		return fmt.Errorf("%s is the old key of rotation %s of profile %s (at %s), which revokes it itself: `waasctl keys rotate %s --resume --grace 0` revokes it now", name, j.ID, profile, j.Step, profile)
	case is(j.NewKey) || pending:
		return fmt.Errorf("%s is the new key of rotation %s of profile %s (at %s): `waasctl keys rotate %s --abort` revokes it and rolls the rotation back", name, j.ID, profile, j.Step, profile)
	}
	return nil
}

// pickKey finds the key --key names (a name or a fingerprint, full or
// short) among the profile's slots; with no --key, the current key.
func pickKey(item *credentials.Item, want string) (*credentials.StoredKey, string) {
	slots := []struct {
		name string
		key  *credentials.StoredKey
	}{{"current", item.Current}, {"pending", item.Pending}, {"previous", item.Previous}}
	for _, s := range slots {
		if s.key == nil {
			continue
		}
		if want == "" && s.name == "current" ||
			want != "" && (s.key.Name == want || s.key.Fingerprint == want || credentials.ShortFingerprint(s.key.Fingerprint) == want) {
			return s.key, s.name
		}
	}
	return nil, ""
}

// revocableName checks that want, which matches no key of profile, can be sent to WaaS as
// a key name.
func revocableName(profile, want string) error {
	if strings.HasPrefix(want, "SHA256:") {
		return cmdutil.FlagErrorf("no key of profile %q has the fingerprint %s ('waasctl keys status %s' lists them); to revoke a key the keyring does not hold, give its name: --key organizations/{org}/apiKeys/{key}", profile, want, profile)
	}
	if err := credentials.CheckKeyName(want); err != nil {
		return cmdutil.FlagErrorf("--key: %v; give a key name or the fingerprint 'waasctl keys status %s' shows", err, profile)
	}
	return nil
}

// rejectionTries and rejectionBackoff bound waitRejected: 10 tries, 0.5 s more
// between each two (27.5 s in all); tests shorten the waits.
const rejectionTries = 10

var rejectionBackoff = func(try int) time.Duration { return time.Duration(try) * 500 * time.Millisecond }

// waitRejected checks, a few times over propagation delays, that WaaS
// refuses the revoked key. Only an HTTP 401 proves it: any other error (a
// 500, a lost connection, a timeout) is no answer and is tried again.
func waitRejected(ctx context.Context, call func(context.Context) error) error {
	var last error
	for try := 1; try <= rejectionTries; try++ {
		err := call(ctx)
		if waas.HTTPCode(err) == 401 {
			return nil
		}
		last = err
		if try == rejectionTries {
			break // no wait after the last try
		}
		t := time.NewTimer(rejectionBackoff(try))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if last == nil {
		return errors.New("the key is revoked at the issuer but WaaS still accepts it; check again in a minute with 'waasctl auth status'")
	}
	return fmt.Errorf("could not confirm the revocation: %w", last)
}
