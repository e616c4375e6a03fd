package keys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
)

// RotateOptions is what `keys rotate` needs.
type RotateOptions struct {
	IO       *iostreams.IOStreams
	Factory  *cmdutil.Factory
	Prompter prompter.Prompter

	Profile string
	Issuer  string
	Grace   string
	DryRun  bool
	Resume  bool
	Abort   bool
	Yes     bool
	Force   bool
	// RevokeShared: revoke the old key even though another profile holds it as CURRENT.
	RevokeShared bool

	NoSnapshot bool
	// Wait waits out the grace period in the foreground, then revokes, instead of exiting 5.
	Wait bool
	// Emergency starts an emergency rotation (keys revoke --rotate-first): its journal says so,
	// and no snapshot is taken when it ends, on this run or on a --resume.
	Emergency bool
	// EmergencyReason is keys revoke's --reason, recorded in the journal.
	EmergencyReason string
	// Now is the rotation's clock (the journal's times, the grace period, the new key's
	// AddedAt) and stamps the inventory snapshot taken at promotion; nil: time.Now. Tokens are
	// signed with the wall clock whatever it is.
	Now func() time.Time

	state rotation.StateBackend // opened once by stateBackend
}

// stateBackend is where the profile's journal, lock and audit log live: the team store in team
// mode, else this host's state folder (opened once).
func (opts *RotateOptions) stateBackend(ctx context.Context) (rotation.StateBackend, error) {
	if opts.state == nil {
		st, err := cmdutil.OpenRotationState(ctx, opts.Factory, opts.Profile, os.Getenv, rotation.Holder{Command: "keys rotate"}, opts.Force)
		if err != nil {
			return nil, err
		}
		opts.state = st
	}
	return opts.state, nil
}

// NewCmdRotate returns `keys rotate`.
func NewCmdRotate(f *cmdutil.Factory, runF func(context.Context, *RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{IO: f.IOStreams, Factory: f, Prompter: f.Prompter}
	cmd := &cobra.Command{
		Use:   "rotate [PROFILE] [--resume | --abort | --dry-run]",
		Short: "Replace a profile's API key with a new one, safely, in stages",
		Long: `Rotate a profile's API key: preflight (lock, the current key works) -> create (the issuer
makes the new key; it is stored as PENDING in the keyring first) -> verify (the new key
authenticates and sees the same pools) -> deliver (every sink in the profile) -> observe
(the sinks' restart commands) -> promote (PENDING becomes CURRENT, CURRENT becomes
PREVIOUS) -> revoke (after the grace period, the old key is revoked and seen refused).
Once done, an inventory snapshot is taken with the new key (snapshots/ in the state
folder, and the team store in team mode): the baseline 'incident assess' diffs against if
this key ever leaks. A failed
snapshot is a warning, not a failed rotation; --no-snapshot skips it, and an emergency
rotation (keys revoke --rotate-first) takes none, not even on --resume.

The journal in the state folder records every step, so a rotation stopped by anything,
even kill -9, continues with --resume or is rolled back with --abort. One rotation per
profile runs at a time. Exit 5 when it stops part way (the message gives the command to
continue), 6 when another command holds the profile's lock, 4 when a key is rejected, 1 when
the journal disagrees with the keyring (nothing is revoked then).

A new key that the keyring already holds (the current or previous key, or another profile's)
is refused before it is stored; so is a key of another organization. A rotation whose key
another profile also holds is refused unless --revoke-shared. --abort always has a way to end:
with --force it finishes even when a key cannot be revoked, or the journal disagrees with
the keyring, and names every key left for you to delete in the portal (exit 1).

The issuer comes from the profile's issuer in the config (sandbox, manual or exec), or
--issuer. With manual, you create the key in the portal and hand over the download
(--key-file, or a prompt); at revocation you delete the old key in the portal and waasctl
waits until WaaS refuses it.`,
		Example: `  waasctl keys rotate prod --dry-run
  waasctl keys rotate prod --issuer manual --key-file ~/Downloads/cdp_api_key.json --grace 24h
  waasctl keys rotate prod --resume`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			if err := cmdutil.Exclusive(map[string]bool{"resume": opts.Resume, "abort": opts.Abort, "dry-run": opts.DryRun}); err != nil {
				return err
			}
			if err := checkIssuer(opts.Issuer); err != nil {
				return err
			}
			if opts.Grace != "" {
				if _, err := parseGrace(opts.Grace); err != nil {
					return cmdutil.FlagErrorf("--grace: %v", err)
				}
			}
			// --resume and --abort finish what a confirmed run started: no question.
			if !opts.DryRun && !opts.Resume && !opts.Abort && !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("refusing to rotate without confirmation: pass --yes (there is no terminal to ask on)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return rotateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Issuer, "issuer", "", "Who makes and revokes keys: sandbox, manual or exec (default: the profile's issuer)")
	fl.StringVar(&opts.Grace, "grace", "", "Wait this long between promoting the new key and revoking the old, e.g. 24h (default: the profile's policy.grace, else 0)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "Print the plan and touch nothing")
	fl.BoolVar(&opts.Resume, "resume", false, "Continue the rotation in progress")
	fl.BoolVar(&opts.Abort, "abort", false, "Roll back the rotation in progress")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "Do not ask for confirmation")
	fl.BoolVar(&opts.Wait, "wait", false, "Wait in the foreground for the grace period to end (a countdown on a terminal), then revoke the old key, instead of exiting 5 to be resumed later")
	fl.BoolVar(&opts.NoSnapshot, "no-snapshot", false, "Do not take an inventory snapshot after the rotation")
	fl.BoolVar(&opts.Force, "force", false, "Take over the lock of a rotation whose holder cannot be seen to be alive (another host); with --abort, also end the abort when a key cannot be revoked, naming it for deletion by hand")
	fl.BoolVar(&opts.RevokeShared, "revoke-shared", false, "Revoke the old key even if another profile still holds it (that profile then stops working)")
	return cmd
}

func rotateRun(ctx context.Context, opts *RotateOptions) error {
	eng, err := newEngine(ctx, opts)
	if err != nil {
		return err
	}
	if opts.DryRun {
		// The plan of a profile with no key would be a plan of nothing: fail as the rotation would.
		if _, err := eng.Store.Get(ctx, opts.Profile); err != nil {
			return err
		}
		for _, line := range eng.Plan() {
			// "step: what", the step padded as in a run's report, so that the plan reads as a column.
			if step, what, ok := strings.Cut(line, ": "); ok {
				line = fmt.Sprintf("%-10s %s", step+":", what)
			}
			fmt.Fprintln(opts.IO.Out, line)
		}
		return nil
	}
	if err := checkBeforeStart(ctx, opts, eng); err != nil {
		return err
	}
	if !opts.Yes && !opts.Resume && !opts.Abort {
		ok, err := opts.Prompter.Confirm(fmt.Sprintf("Rotate the API key of profile %q (a new key is created; the old one is revoked at the end)?", opts.Profile), false)
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ExitErrorf(cmdutil.ExitFailure, "nothing changed")
		}
	}
	var j *rotation.Journal
	switch {
	case opts.Resume:
		j, err = eng.Resume(ctx)
	case opts.Abort:
		j, err = eng.Abort(ctx)
	default:
		j, err = eng.Rotate(ctx)
	}
	if err == nil && j == nil {
		fmt.Fprintf(opts.IO.ErrOut, "No rotation of profile %q is in progress; nothing to do.\n", opts.Profile)
		return nil
	}
	// Finished, but with keys for the operator to delete by hand: say how it ended, then fail.
	var manual *rotation.ManualRevokeError
	if errors.As(err, &manual) && j != nil {
		j.Step = manual.Step
	}
	if err == nil || manual != nil {
		switch j.Step {
		case rotation.StepDone:
			revoked := "the old key is revoked"
			if manual != nil {
				revoked = "the old key is to be deleted by hand"
			}
			fmt.Fprintf(opts.IO.ErrOut, "Rotation of profile %q done: %s (%s) is current; %s.\n",
				opts.Profile, j.NewKey.Name, credentials.ShortFingerprint(j.NewKey.Fingerprint), revoked)
			if j.Emergency {
				// The old key may have leaked: a snapshot now would postdate the leak, and
				// must never become the baseline an incident assessment compares with.
				fmt.Fprintf(opts.IO.ErrOut, "No inventory snapshot: this was an emergency rotation; assess the old key with: waasctl incident assess %s\n", opts.Profile)
			}
		case rotation.StepAborted:
			// Say what the keyring holds, not what a rollback would have left: --abort --force
			// may close a rotation it could not roll back (or whose keyring it could not read).
			if cur := currentKey(ctx, opts); cur != nil && cur.Fingerprint == j.OldKey.Fingerprint {
				fmt.Fprintf(opts.IO.ErrOut, "Rotation of profile %q aborted: %s (%s) is current again.\n",
					opts.Profile, j.OldKey.Name, credentials.ShortFingerprint(j.OldKey.Fingerprint))
			} else if cur != nil {
				fmt.Fprintf(opts.IO.ErrOut, "Rotation of profile %q closed without rolling back: the keyring's CURRENT key is %s (%s).\n",
					opts.Profile, cur.Name, credentials.ShortFingerprint(cur.Fingerprint))
			} else {
				fmt.Fprintf(opts.IO.ErrOut, "Rotation of profile %q closed without rolling back: the keyring holds no CURRENT key for it; add one with 'waasctl auth add %s'.\n",
					opts.Profile, opts.Profile)
			}
		}
		// keys revoke --rotate-first logged its stop; the run that ends the emergency
		// rotation logs how it ended, or the log would end on that failure.
		if j.Emergency && (opts.Resume || opts.Abort) {
			outcome := auditlog.OutcomeOK
			switch {
			case j.Step == rotation.StepAborted:
				outcome = auditlog.OutcomeAborted
			case manual != nil:
				outcome = "manual-revoke"
			}
			auditEmergencyEnd(ctx, opts, j, outcome)
		}
	}
	return rotationError(ctx, opts.state, opts.Profile, err)
}

// currentKey is the profile's CURRENT key in the keyring, or nil when there is none or the
// keyring cannot be read.
func currentKey(ctx context.Context, opts *RotateOptions) *credentials.StoredKey {
	store, err := opts.Factory.Keyring()
	if err != nil {
		return nil
	}
	it, err := store.Get(ctx, opts.Profile)
	if err != nil {
		return nil
	}
	return it.Current
}

// checkBeforeStart finds, before anything (the journal included) is written, what would make a
// new rotation fail at once: a profile with no key, a manual rotation with nowhere to get the
// new key from or an unreadable key file, a --key-file that the issuer would ignore.
func checkBeforeStart(ctx context.Context, opts *RotateOptions, eng *rotation.Engine) error {
	_, manual := eng.Issuer.(*rotation.ManualIssuer)
	kf := opts.Factory.KeyFile
	if kf != "" && !manual {
		// The portal's download would stay active, unknown to waasctl, while the issuer made another.
		return cmdutil.FlagErrorf("--key-file hands the new key to the manual issuer, but this rotation's issuer is %s: pass --issuer manual to use that key, or drop --key-file", eng.Issuer.Name())
	}
	if opts.Resume || opts.Abort {
		return nil
	}
	if _, err := eng.Store.Get(ctx, opts.Profile); err != nil {
		return err
	}
	if !manual {
		return nil
	}
	if kf == "" {
		if !opts.IO.CanPrompt() {
			return cmdutil.FlagErrorf("the manual issuer needs the new key: pass --key-file FILE (there is no terminal to ask on)")
		}
		return nil
	}
	data, err := credentials.ReadKeyFile(ctx, kf)
	if err == nil {
		_, err = credentials.ParseKeyInput(data, "file "+kf)
	}
	if err != nil {
		return cmdutil.FlagErrorf("--key-file: %v", err)
	}
	return nil
}

// auditEmergencyEnd appends the revoke.rotate-first entry of an emergency rotation finished
// (or rolled back) by --resume or --abort. Best effort, as every audit entry of a command.
func auditEmergencyEnd(ctx context.Context, opts *RotateOptions, j *rotation.Journal, outcome string) {
	store, err := opts.Factory.Keyring()
	if err != nil {
		return
	}
	var secrets []string
	if it, err := store.Get(ctx, opts.Profile); err == nil {
		for _, k := range []*credentials.StoredKey{it.Current, it.Pending, it.Previous} {
			if k != nil {
				secrets = append(secrets, k.PrivateKey)
			}
		}
	}
	st, err := opts.stateBackend(ctx)
	if err != nil {
		return
	}
	detail := "emergency rotation " + j.ID + " ended by keys rotate --resume"
	if opts.Abort {
		detail = "emergency rotation " + j.ID + " rolled back by keys rotate --abort"
	}
	if j.EmergencyReason != "" {
		detail = j.EmergencyReason + " (" + detail + ")"
	}
	e := auditlog.Entry{Command: "keys rotate", Profile: opts.Profile, Action: "revoke.rotate-first",
		KeyNames: []string{j.OldKey.Name}, Fingerprints: []string{j.OldKey.Fingerprint}, Outcome: outcome, Detail: detail}
	if _, err := st.AppendAudit(context.WithoutCancel(ctx), e, credentials.NewGuard(secrets...)); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the audit log was not written: %v\n", err)
	}
}

// snapshotAtPromotion records the estate as the new key first sees it as CURRENT (the
// engine's Promoted hook): the baseline incident assess compares with if this key leaks.
// Taken at promote, not when the rotation is done, which may be a grace period later, when
// the key has long been in use. Failures only warn.
func snapshotAtPromotion(ctx context.Context, opts *RotateOptions) {
	path, sum, err := takeSnapshot(ctx, opts)
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: no inventory snapshot was taken at promotion: %v; take one with: waasctl inventory snapshot --profile %s\n", err, opts.Profile)
		return
	}
	fmt.Fprintf(opts.IO.ErrOut, "Inventory snapshot saved to %s (%d resources).\n", path, sum.Count)
	// In team mode the baseline also goes to the team store, so that a responder on another
	// host (a CI runner's disk is gone after the job) finds it.
	if opts.Factory == nil {
		return
	}
	s, done, err := cmdutil.OpenStateStore(ctx, opts.Factory, opts.Profile, os.Getenv)
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the snapshot was not stored in the team store: %v; store it with: waasctl inventory snapshot --profile %s\n", err, opts.Profile)
		return
	}
	if s == nil {
		return // local mode
	}
	defer done()
	info, err := cmdutil.ShareSnapshot(ctx, s, path)
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the snapshot was not stored in the team store: %v; store it with: waasctl inventory snapshot --profile %s\n", err, opts.Profile)
		return
	}
	fmt.Fprintln(opts.IO.ErrOut, cmdutil.SharedSnapshotNote(s, info, true))
}

func takeSnapshot(ctx context.Context, opts *RotateOptions) (string, inventory.SnapshotSummary, error) {
	f := opts.Factory
	cfg, err := f.Config()
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	endpoint := profileEndpoint(f, cfg.Profiles[opts.Profile])
	store, err := f.Keyring()
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	item, err := store.Get(ctx, opts.Profile)
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	if item.Current == nil {
		return "", inventory.SnapshotSummary{}, fmt.Errorf("profile %q has no current key", opts.Profile)
	}
	key, err := credentials.NewAPIKey(item.Current.Name, item.Current.PrivateKey, "keyring "+store.Backend())
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	c, err := cmdutil.ClientForKey(key, opts.Profile, endpoint, f)
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	stateDir, err := config.StateDir()
	if err != nil {
		return "", inventory.SnapshotSummary{}, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	meta := inventory.SnapshotMeta{Time: now().UTC(), Endpoint: c.Endpoint(), Organization: c.Organization(), Profile: opts.Profile, Source: inventory.SourceRotation}
	return inventory.SaveSnapshot(ctx, c, inventory.SnapshotDir(stateDir), "", meta)
}

// profileEndpoint is --endpoint, else the profile's, else WaaS's.
func profileEndpoint(f *cmdutil.Factory, prof config.Profile) string {
	switch {
	case f.Endpoint != "":
		return f.Endpoint
	case prof.Endpoint != "":
		return prof.Endpoint
	}
	return waas.DefaultEndpoint
}

// rotationError gives an engine error its documented exit code; st (nil: none opened) tells
// whether a rotation is in progress.
func rotationError(ctx context.Context, st rotation.StateBackend, profile string, err error) error {
	if err == nil {
		return nil
	}
	var locked *rotation.LockedError
	var takenOver *rotation.TakenOverError
	switch {
	case errors.As(err, &locked):
		return cmdutil.NewExitError(cmdutil.ExitLocked, err)
	case errors.As(err, &takenOver):
		// Another host holds the rotation now: the same answer as finding its lock taken.
		return cmdutil.NewExitError(cmdutil.ExitLocked, err)
	case errors.Is(err, context.Canceled):
		// Stopped by Ctrl-C or SIGTERM (or Ctrl-C at a prompt): with a rotation in progress
		// it is resumable, which says more than 130; with none, nothing changed and the
		// error goes on to be the plain interruption (130).
		if j := journalInProgress(context.WithoutCancel(ctx), st, profile); j != nil {
			return cmdutil.NewExitError(cmdutil.ExitIncomplete, &interruptedError{cause: err,
				msg: fmt.Sprintf("rotation of profile %s interrupted during %s; continue with: waasctl keys rotate %s --resume (or roll back with --abort)", profile, j.Step, profile)})
		}
		return err
	case errors.Is(err, rotation.ErrIncomplete):
		if strings.Contains(err.Error(), "--resume") { // the engine named the way on already
			return cmdutil.ExitErrorf(cmdutil.ExitIncomplete, "%v (or roll back with --abort)", err)
		}
		return cmdutil.ExitErrorf(cmdutil.ExitIncomplete, "%v; continue with: waasctl keys rotate %s --resume (or roll back with --abort)", err, profile)
	case waas.HTTPCode(err) == 401 || waas.HTTPCode(err) == 403:
		return cmdutil.NewExitError(cmdutil.ExitAuth, err)
	}
	return err
}

// interruptedError says what an interruption left to do, and still matches its cause
// (context.Canceled) for the callers that log it.
type interruptedError struct {
	msg   string
	cause error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.cause }

// journalInProgress is profile's rotation journal in st, or nil if there is none or it cannot
// be read (an unreadable one is reported by the next rotate, resume or abort).
func journalInProgress(ctx context.Context, st rotation.StateBackend, profile string) *rotation.Journal {
	if st == nil {
		return nil
	}
	j, _, err := st.LoadJournal(ctx, profile)
	if err != nil || j.Step.Finished() {
		return nil
	}
	return j
}

// newEngine builds the engine from the profile's config and the flags.
func newEngine(ctx context.Context, opts *RotateOptions) (*rotation.Engine, error) {
	f := opts.Factory
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	prof := cfg.Profiles[opts.Profile]
	endpoint := profileEndpoint(f, prof)
	store, err := f.Keyring()
	if err != nil {
		return nil, err
	}
	st, err := opts.stateBackend(ctx)
	if err != nil {
		return nil, err
	}
	g := opts.Grace
	if g == "" && prof.Policy != nil {
		g = prof.Policy.Grace
	}
	grace, err := parseGrace(g)
	if err != nil {
		return nil, fmt.Errorf("grace: %w", err)
	}
	check := func(ctx context.Context, key *credentials.APIKey) ([]string, error) {
		c, err := cmdutil.ClientForKey(key, opts.Profile, endpoint, f)
		if err != nil {
			return nil, err
		}
		var names []string
		for p, err := range c.Pools(ctx) {
			if err != nil {
				return nil, err
			}
			names = append(names, p.Name)
		}
		return names, nil
	}
	kind, err := issuerKind(ctx, opts, prof, st)
	if err != nil {
		return nil, err
	}
	issuer, err := newIssuer(ctx, opts, kind, prof, store, endpoint, check)
	if err != nil {
		return nil, err
	}
	var sinks []rotation.Sink
	for i, s := range prof.Sinks {
		switch s.Type {
		case "envfile":
			sinks = append(sinks, &rotation.EnvfileSink{Path: s.Path, RestartCommand: s.Restart, Stderr: opts.IO.ErrOut,
				Options: rotation.EnvfileOptions{FollowSymlinks: s.FollowSymlinks, AllowOtherOwner: s.AllowOtherOwner}})
		case "exec":
			if s.FollowSymlinks || s.AllowOtherOwner {
				return nil, fmt.Errorf("profile %q sink %d: follow_symlinks and allow_other_owner are settings of an envfile sink, not of an exec one", opts.Profile, i+1)
			}
			sinks = append(sinks, &rotation.ExecSink{Command: s.Command, RestartCommand: s.Restart, Stderr: opts.IO.ErrOut})
		default:
			return nil, fmt.Errorf("profile %q sink %d: type %s: want envfile or exec", opts.Profile, i+1, textsafe.Value(s.Type))
		}
	}
	return &rotation.Engine{
		Profile: opts.Profile, State: st, Store: store, Issuer: issuer, Sinks: sinks,
		Check: check, Grace: grace, GraceSet: opts.Grace != "", Now: opts.Now,
		Report: func(step rotation.Step, msg string) { fmt.Fprintf(opts.IO.ErrOut, "%-10s %s\n", step+":", msg) },
		Holder: rotation.Holder{Command: "keys rotate"}, Force: opts.Force, Emergency: opts.Emergency,
		Promoted: func(ctx context.Context) {
			if !opts.NoSnapshot {
				snapshotAtPromotion(ctx, opts)
			}
		}, EmergencyReason: opts.EmergencyReason,
		ForceAbort: opts.Abort && opts.Force, RevokeShared: opts.RevokeShared,
		WaitUntil: waitUntil(opts),
	}, nil
}

// issuerKind picks the issuer: --issuer, else for --resume and --abort the issuer that started
// the rotation in progress (the profile's may have changed since, or differ on this host), else
// the profile's. An --issuer other than the journal's is allowed (a key made by hand may be
// revoked by a plugin) and the engine says so when it takes over.
func issuerKind(ctx context.Context, opts *RotateOptions, prof config.Profile, st rotation.StateBackend) (string, error) {
	if opts.Issuer != "" {
		return opts.Issuer, nil
	}
	if opts.Resume || opts.Abort {
		// Unreadable journals are reported by the engine, under the lock.
		if j := journalInProgress(ctx, st, opts.Profile); j != nil && j.Issuer != "" {
			if j.Issuer == "exec" && (prof.Issuer == nil || len(prof.Issuer.Command) == 0) {
				return "", fmt.Errorf("rotation %s of profile %s was started with the exec issuer, but the profile has no issuer command now: restore it in the config, or name another issuer with --issuer", j.ID, opts.Profile)
			}
			return j.Issuer, nil
		}
	}
	if prof.Issuer != nil {
		return prof.Issuer.Type, nil
	}
	return "", nil
}

// checkIssuer refuses an --issuer that names no issuer, before the keyring, the lock or the
// state is touched.
func checkIssuer(name string) error {
	if name == "" || slices.Contains(config.IssuerTypes, name) {
		return nil
	}
	return cmdutil.FlagErrorf("--issuer %s: want %s", textsafe.Value(name), issuerChoices())
}

// issuerChoices is config.IssuerTypes as a sentence: "sandbox, manual or exec".
func issuerChoices() string {
	n := len(config.IssuerTypes)
	return strings.Join(config.IssuerTypes[:n-1], ", ") + " or " + config.IssuerTypes[n-1]
}

func newIssuer(ctx context.Context, opts *RotateOptions, kind string, prof config.Profile, store credentials.Store, endpoint string, check func(context.Context, *credentials.APIKey) ([]string, error)) (rotation.Issuer, error) {
	var command []string
	if prof.Issuer != nil {
		command = prof.Issuer.Command
	}
	switch kind {
	case "sandbox":
		return &currentKeySandboxIssuer{store: store, profile: opts.Profile, endpoint: endpoint, f: opts.Factory}, nil
	case "exec":
		return &rotation.ExecIssuer{Command: command, Stderr: opts.IO.ErrOut}, nil
	case "manual", "":
		return &rotation.ManualIssuer{
			Instruct: func(msg string) { fmt.Fprintln(opts.IO.ErrOut, msg) },
			Obtain: func(ctx context.Context) ([]byte, string, error) {
				if kf := opts.Factory.KeyFile; kf != "" {
					data, err := credentials.ReadKeyFile(ctx, kf)
					return data, "file " + kf, err
				}
				if !opts.IO.CanPrompt() {
					return nil, "", errors.New("the manual issuer needs the new key: pass --key-file FILE (there is no terminal to ask on)")
				}
				path, err := opts.Prompter.Input("Path of the key file the portal downloaded")
				if err != nil {
					return nil, "", err
				}
				path = strings.TrimSpace(path)
				data, err := credentials.ReadKeyFile(ctx, path)
				if err != nil {
					return nil, "", errors.New("that is not a readable key file of at most 64 KiB (the input is not shown)")
				}
				return data, "file " + path, nil
			},
			Rejected: func(ctx context.Context, name string) (bool, error) {
				item, err := store.Get(ctx, opts.Profile)
				if err != nil && !errors.Is(err, credentials.ErrNotFound) {
					return false, err // the keyring may answer next time
				}
				var held *credentials.StoredKey
				if item != nil {
					for _, k := range []*credentials.StoredKey{item.Previous, item.Pending, item.Current} {
						if k != nil && k.Name == name {
							held = k
							break
						}
					}
				}
				if held == nil {
					// Nothing to try it with, now or later: the wait stops and says so.
					return false, fmt.Errorf("%w: %s is not in profile %s's keyring item", rotation.ErrKeyNotHeld, name, opts.Profile)
				}
				k, err := credentials.NewAPIKey(held.Name, held.PrivateKey, "keyring")
				if err != nil {
					return false, err
				}
				_, err = check(ctx, k)
				return waas.HTTPCode(err) == 401, nil
			},
			PollEvery: 10 * time.Second, Timeout: 30 * time.Minute,
			Waiting: func(until time.Time) func() {
				return cmdutil.StartCountdown(opts.IO, until, "waiting for the deletion in the portal").Finish
			},
		}, nil
	}
	return nil, cmdutil.FlagErrorf("issuer %s: want %s", textsafe.Value(kind), issuerChoices())
}

// waitUntil is the engine's wait for the grace period under --wait, else nil (stop, exit 5).
func waitUntil(opts *RotateOptions) func(context.Context, time.Time, string) error {
	if !opts.Wait {
		return nil
	}
	return func(ctx context.Context, until time.Time, what string) error {
		return cmdutil.WaitUntil(ctx, opts.IO, until, what)
	}
}

// parseGrace is config.ParseAge, with zero (in any unit) meaning no grace.
func parseGrace(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d == 0 {
		return 0, nil
	}
	if s == "0" || s == "0d" {
		return 0, nil
	}
	return config.ParseAge(s)
}

// currentKeySandboxIssuer calls the sandbox's key-admin API with the
// profile's CURRENT key as it is at each call, read under the rotation's
// lock: after a promote that is the new key, and a rotation that finished
// just before this one took the lock cannot leave it holding a revoked key.
type currentKeySandboxIssuer struct {
	store    credentials.Store
	profile  string
	endpoint string
	f        *cmdutil.Factory
}

func (c *currentKeySandboxIssuer) issuer(ctx context.Context) (*rotation.SandboxIssuer, error) {
	item, err := c.store.Get(ctx, c.profile)
	if err != nil {
		return nil, fmt.Errorf("profile %q: %w", c.profile, err)
	}
	key, err := credentials.NewAPIKey(item.Current.Name, item.Current.PrivateKey, "keyring")
	if err != nil {
		return nil, err
	}
	client, err := cmdutil.ClientForKey(key, c.profile, c.endpoint, c.f)
	if err != nil {
		return nil, err
	}
	return &rotation.SandboxIssuer{Client: client}, nil
}

func (c *currentKeySandboxIssuer) Name() string { return "sandbox" }

func (c *currentKeySandboxIssuer) Create(ctx context.Context, requestID string) (*rotation.NewKey, error) {
	iss, err := c.issuer(ctx)
	if err != nil {
		return nil, err
	}
	return iss.Create(ctx, requestID)
}

func (c *currentKeySandboxIssuer) Find(ctx context.Context, requestID string) (string, bool, error) {
	iss, err := c.issuer(ctx)
	if err != nil {
		return "", false, err
	}
	return iss.Find(ctx, requestID)
}

func (c *currentKeySandboxIssuer) Revoke(ctx context.Context, name string) error {
	iss, err := c.issuer(ctx)
	if err != nil {
		return err
	}
	return iss.Revoke(ctx, name)
}
