package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
)

// AssessOptions is what `incident assess` needs.
type AssessOptions struct {
	IO         *iostreams.IOStreams
	APIClient  func() (*waas.Client, error)
	Config     func() (*config.Config, error)
	Output     func() cmdutil.OutputFormat
	UseProfile func(string)
	StateDir   func() (string, error)
	Now        func() time.Time
	// ActiveJournal reads the profile's rotation journal in progress (nil: none): from the team
	// store in team mode, else from stateDir. Nil reads stateDir.
	ActiveJournal func(ctx context.Context, stateDir, profile string) (*rotation.Journal, error)
	// KeyFirstStored is when the audit log (this host's, and the team store's in team mode) first
	// records a key stored with fingerprint (auth add, a rotation's new key); zero when it
	// records none. Nil reads nothing.
	KeyFirstStored func(ctx context.Context, fingerprint string) (time.Time, error)
	// JournalHistory reads the profile's finished rotations, oldest first: stateDir's, and in
	// team mode the team store's too. Nil reads stateDir's.
	JournalHistory func(ctx context.Context, stateDir, profile string) ([]*rotation.Journal, error)

	Profile     string
	Since       string
	LeakedSince string
	Key         string
	Ledger      cmdutil.LedgerFlags

	leakedSince time.Time // LeakedSince parsed

	// TeamStore opens the team store of the profile's state backend, nil when it is local
	// (cmdutil.OpenStateStore). Nil in tests of the local mode.
	TeamStore func(ctx context.Context, profile string) (*team.Store, func(), error)

	// ProfileKeys reads the profile's keyring item when the command signs with the profile's
	// key (nil, nil when the key came from --key-file or the environment): when its keys were
	// added says since when they were in use. Nil reads nothing.
	ProfileKeys func(ctx context.Context, profile string) (*credentials.Item, error)
}

// NewCmdAssess returns `incident assess`.
func NewCmdAssess(f *cmdutil.Factory, runF func(context.Context, *AssessOptions) error) *cobra.Command {
	opts := &AssessOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config, StateDir: config.StateDir, Now: time.Now,
		TeamStore: func(ctx context.Context, profile string) (*team.Store, func(), error) {
			return cmdutil.OpenStateStore(ctx, f, profile, os.Getenv)
		},
		ProfileKeys: func(ctx context.Context, profile string) (*credentials.Item, error) {
			// The key came from the keyring only if Lookup's order found none before it: do
			// not open the keyring (a passphrase, a daemon) for a key file's or env's key.
			if _, err := credentials.LookupContext(ctx, f.KeyFile, os.Getenv); !errors.Is(err, credentials.ErrNoCredentials) {
				return nil, nil
			}
			store, err := f.Keyring()
			if err != nil {
				return nil, err
			}
			item, err := store.Get(ctx, profile)
			if errors.Is(err, credentials.ErrNotFound) {
				return nil, nil
			}
			return item, err
		},
		Output:     func() cmdutil.OutputFormat { return f.Output },
		UseProfile: func(p string) { f.Profile = p },
		ActiveJournal: func(ctx context.Context, stateDir, profile string) (*rotation.Journal, error) {
			st, err := cmdutil.TeamRotationState(ctx, f, profile, os.Getenv)
			if err != nil {
				return nil, err
			}
			if st == nil {
				return rotation.LoadJournal(stateDir, profile)
			}
			j, _, err := st.LoadJournal(ctx, profile)
			if errors.Is(err, rotation.ErrNoJournal) {
				return nil, nil
			}
			return j, err
		},
	}
	opts.KeyFirstStored = func(ctx context.Context, fingerprint string) (time.Time, error) {
		dir, localErr := auditlog.DefaultDir()
		var local time.Time
		if localErr == nil {
			local, localErr = keyFirstStored(ctx, auditlog.Read(dir), fingerprint)
		}
		// In team mode auth add and rotations write to the team store's audit log, not this
		// host's file: the file alone would not know the key (or only from before team mode).
		s, done, err := cmdutil.OpenStateStore(ctx, f, opts.Profile, os.Getenv)
		if err != nil || s == nil {
			return local, cmp.Or(localErr, err)
		}
		defer done()
		shared, err := keyFirstStored(ctx, s.AuditEntries(ctx), fingerprint)
		if shared.IsZero() || (!local.IsZero() && local.Before(shared)) {
			shared = local
		}
		return shared, cmp.Or(localErr, err)
	}
	opts.JournalHistory = func(ctx context.Context, stateDir, profile string) ([]*rotation.Journal, error) {
		local, localErr := rotation.History(stateDir, profile)
		st, err := cmdutil.TeamRotationState(ctx, f, profile, os.Getenv)
		if err != nil || st == nil {
			return local, cmp.Or(localErr, err)
		}
		// Rotations run in team mode, on this host or another, are archived in the team store;
		// the state folder holds only those from before the profile moved there.
		shared, err := st.History(ctx, profile)
		all := append(local, shared...)
		slices.SortStableFunc(all, func(a, b *rotation.Journal) int { return a.StartedAt.Compare(b.StartedAt) })
		return all, cmp.Or(localErr, err)
	}
	cmd := &cobra.Command{
		Use:   "assess [PROFILE] [--leaked-since TIME | --since SNAPSHOT] [--key NAME|FINGERPRINT] [--ledger SOURCE]",
		Short: "Report the blast radius of a possibly leaked key: what changed, what is unknown",
		Long: `Assess what a possibly leaked API key of PROFILE could have done. The command takes a
fresh snapshot of the estate with the profile's current key (saved in the state folder as
evidence), then:

  - diffs it against a baseline taken before the suspected key came into use (below);
  - reconciles it with the middle tier's ledger (--ledger or the profile's ledger.dsn):
    pending MPC operations, wallets and device groups the ledger does not know;
  - shows quota usage and how much of it the additions took;
  - lists what it cannot know (WaaS keeps no creation times, and more).

The suspected key is the key the command signs with (the profile's current key), except
after 'keys revoke --rotate-first': then it is the key that emergency rotation replaced.
--key NAME|FINGERPRINT names another. Snapshots record the key that took them, so the
baseline is, among the profile's snapshots in the state folder (same endpoint and
organization; an assessment's own snapshots never count):

  - with --leaked-since TIME (RFC 3339, or a duration ago such as 36h or 2d): the newest
    snapshot taken before TIME;
  - else the suspected key's promotion snapshot (the one 'keys rotate' takes with the new
    key);
  - else the newest snapshot known to predate the key: taken before the rotation that
    created it, or with an earlier key before the profile's keyring got the suspected one;
  - else the closest snapshot there is, flagged as possibly taken after the leak.

--since SNAPSHOT names the baseline file instead, judged by the same rules (with
--leaked-since too: it predates the leak if it was taken before TIME). The report
states the suspected key, the baseline's time, the key that took it and why it was chosen.

In team mode (the profile's state backend is postgres, or WAASCTL_STATE_DSN is set; see
docs/team.md) the candidates also include the snapshots any host of the team stored there
(a CI job's 'inventory snapshot', for one), and --since also takes the name of a snapshot
in the team store (PROFILE-TIME.jsonl) when no such file is here. The chosen one is copied
into this host's state folder, its hash checked, and the report names the host that took
it. This assessment's own snapshot is stored there too, as evidence.

Markdown for people (the default), -o json or yaml for tools. The verdict is "clean" only
when nothing unknown was found against a baseline known to predate the leak. Without a
baseline, or with one that may have been taken after the leak (with the suspected key, or
by a key that is unknown), it is "inconclusive", never "clean". So is a quiet diff without a
ledger when the profile used earlier keys by the baseline (a key that leaked and was
rotated away made what it made before it; the key that took the baseline counts): the report
lists them; --key or --leaked-since says which key or time you suspect.

Exits 0 only when the verdict is "clean"; 3 for "findings" or "inconclusive"; 1 when the
snapshot, baseline or ledger cannot be read; 2 for bad flags, such as a --since file that
does not exist or a --leaked-since time in the future.`,
		Example: `  waasctl keys revoke prod --rotate-first --reason "key in a public gist" --yes
  waasctl incident assess prod --ledger 'postgres://auditor@db/ledger?sslmode=verify-full' > incident.md
  waasctl incident assess prod --leaked-since 2026-11-01T08:00:00Z
  waasctl incident assess prod --since ~/.local/state/waasctl/snapshots/prod-20261101T000000.000Z.jsonl -o json`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			if opts.LeakedSince != "" {
				t, err := parseLeakedSince(opts.LeakedSince, opts.Now())
				if err != nil {
					return cmdutil.FlagErrorf("--leaked-since: %v", err)
				}
				opts.leakedSince = t
			}
			opts.UseProfile(opts.Profile)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return assessRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Since, "since", "", "Baseline snapshot `file` (default: chosen from PROFILE's snapshots in the state folder, before the suspected key came into use)")
	cmd.Flags().StringVar(&opts.LeakedSince, "leaked-since", "", "The key may have leaked from this `time` on (RFC 3339, or a duration ago: 36h, 2d): the baseline is the newest snapshot before it")
	cmd.Flags().StringVar(&opts.Key, "key", "", "The suspected key, by name or fingerprint (default: the profile's current key, or the key an emergency rotation replaced)")
	opts.Ledger.AddFlags(cmd)
	return cmd
}

func assessRun(ctx context.Context, opts *AssessOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	var ledger reconcile.Ledger
	spec, err := opts.Ledger.Spec(cfg, opts.Profile)
	switch {
	case err == nil:
		if ledger, err = reconcile.Open(ctx, spec); err != nil {
			return err
		}
		defer ledger.Close()
	case spec.Source != "", len(opts.Ledger.Queries) > 0:
		return err // a bad flag, or queries for a ledger nobody named
	}
	// No ledger at all is not an error here: the report says what that costs.
	var store *team.Store
	if opts.TeamStore != nil {
		var done func()
		if store, done, err = opts.TeamStore(ctx, opts.Profile); err != nil {
			return err
		}
		if store != nil {
			defer done()
		}
	}
	stateDir, err := opts.StateDir()
	if err != nil {
		return err
	}
	dir := inventory.SnapshotDir(stateDir)
	if opts.Since != "" {
		if _, err := os.Stat(opts.Since); err != nil {
			path, ferr := sinceFromStore(ctx, store, dir, opts.Since)
			if ferr != nil {
				return ferr
			}
			if path == "" {
				return cmdutil.FlagErrorf("--since %s: %v", opts.Since, errors.Unwrap(err))
			}
			fmt.Fprintf(opts.IO.ErrOut, "baseline %s copied from the team store to %s\n", opts.Since, path)
			opts.Since = path
		}
	}
	limits := inventory.ConfigLimits(cfg.Profiles[opts.Profile].Quota)
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	meta := inventory.SnapshotMeta{Time: opts.Now().UTC(), Endpoint: c.Endpoint(), Organization: c.Organization(), Profile: opts.Profile, Source: inventory.SourceIncident}
	snaps, err := inventory.ListSnapshots(dir, opts.Profile, meta.Endpoint, meta.Organization)
	if err != nil {
		return err
	}
	var shared map[string]team.SnapshotInfo // by the local path it would be copied to
	if store != nil {
		if snaps, shared, err = withTeamSnapshots(ctx, store, dir, snaps, meta); err != nil {
			return err
		}
	}
	suspect, journals, err := suspectKey(ctx, opts, c, stateDir, snaps)
	if err != nil {
		return err
	}
	var baseline *inventory.Baseline
	if opts.Since != "" {
		b, err := judgeSinceFile(ctx, opts.Since, snaps, suspect, opts.leakedSince)
		if err != nil {
			return err
		}
		baseline = &b
	} else {
		baseline = inventory.ChooseBaseline(snaps, suspect, opts.leakedSince)
	}
	if baseline != nil {
		if info, ok := shared[baseline.Path]; ok {
			if err := fetchBaseline(ctx, store, dir, info, baseline); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "baseline %s copied from the team store (taken on host %s) to %s\n", info.Name, info.Host, baseline.Path)
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "suspected key: %s (%s): %s\n", orNone(suspect.Name), credentials.ShortFingerprint(suspect.Fingerprint), suspect.Why)
	fmt.Fprintf(opts.IO.ErrOut, "taking a snapshot of the estate with profile %s...\n", opts.Profile)
	path, _, err := inventory.SaveSnapshot(ctx, c, dir, "", meta)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; no assessment was made")
		}
		return cmdutil.APIError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "snapshot saved to %s\n", path)
	if store != nil {
		// Evidence for the team; the assessment does not depend on it.
		if info, err := cmdutil.ShareSnapshot(ctx, store, path); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: this assessment's snapshot was not stored in the team store: %v\n", err)
		} else {
			fmt.Fprintln(opts.IO.ErrOut, cmdutil.SharedSnapshotNote(store, info, false))
		}
	}
	a, err := reconcile.Assess(ctx, reconcile.AssessInput{Snapshot: path, Baseline: baseline, Suspect: &suspect, Ledger: ledger, Client: c, Limits: limits})
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; no assessment was made")
		}
		return cmdutil.LedgerError(err)
	}
	if baseline != nil {
		a.ConsiderEarlierKeys(inventory.EarlierKeys(snaps, suspect, baseline.Time, rotatedAway(journals)...), opts.Key != "" || !opts.leakedSince.IsZero())
	}
	switch format := opts.Output().Resolve(opts.IO); format {
	case cmdutil.OutputJSON, cmdutil.OutputYAML, cmdutil.OutputJSONL:
		err = cmdutil.PrintObject(opts.IO, format, a, nil)
	default:
		err = writeMarkdown(opts.IO.Out, opts.Profile, a)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "verdict: %s\n", a.Verdict)
	if a.Verdict != reconcile.VerdictClean {
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	}
	return nil
}

// parseLeakedSince reads --leaked-since: an RFC 3339 time, or a duration
// before now (36h, 2d). A time in the future is a mistake, not a baseline.
func parseLeakedSince(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil {
			d, derr = config.ParseAge(s) // 2d, 1w
		}
		if derr != nil {
			return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-01T08:00:00Z) nor a duration ago (36h, 2d)", s)
		}
		t = now.Add(-d)
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the future; give when the key may first have leaked", t.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// judgeSinceFile reads the header of the baseline named with --since and
// judges it by the baseline rules. A missing file is a usage error.
func judgeSinceFile(ctx context.Context, path string, snaps []inventory.SnapshotFile, k inventory.SuspectKey, leakedSince time.Time) (inventory.Baseline, error) {
	f, err := fsutil.Open(ctx, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return inventory.Baseline{}, cmdutil.FlagErrorf("--since %s: no such file or directory", path)
		}
		return inventory.Baseline{}, fmt.Errorf("--since %s: %w", path, err)
	}
	defer f.Close()
	meta, err := inventory.ReadSnapshotHeader(f)
	if err != nil {
		return inventory.Baseline{}, fmt.Errorf("baseline %s: %w", path, err)
	}
	return inventory.JudgeBaseline(inventory.SnapshotFile{Path: path, SnapshotMeta: meta}, snaps, k, leakedSince), nil
}

// suspectKey says which key is suspected and what the rotation journals
// tell of when it came into use: created by a rotation (it cannot have
// leaked before that rotation started) and replaced by one (it was in use
// then). Without --key it is the key this command signs with, the
// profile's current key, unless that key was made by an emergency rotation
// (keys revoke --rotate-first): then the responder is assessing the key the
// rotation replaced.
func suspectKey(ctx context.Context, opts *AssessOptions, c *waas.Client, stateDir string, snaps []inventory.SnapshotFile) (inventory.SuspectKey, []*rotation.Journal, error) {
	signing := rotation.KeyRef{Name: c.KeyName(), Fingerprint: credentials.Fingerprint(c.KeyPublic())}
	readHistory := opts.JournalHistory
	if readHistory == nil {
		readHistory = func(_ context.Context, dir, profile string) ([]*rotation.Journal, error) {
			return rotation.History(dir, profile)
		}
	}
	journals, err := readHistory(ctx, stateDir, opts.Profile)
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the rotation history was not read in full (%s): the assessment knows less of when keys came into use\n", textsafe.Line(err.Error()))
	}
	loadActive := opts.ActiveJournal
	if loadActive == nil {
		loadActive = func(_ context.Context, dir, profile string) (*rotation.Journal, error) {
			return rotation.LoadJournal(dir, profile)
		}
	}
	active, err := loadActive(ctx, stateDir, opts.Profile)
	switch {
	case err != nil:
		fmt.Fprintf(opts.IO.ErrOut, "warning: the rotation journal was not read (%v): the assessment knows less of when keys came into use\n", err)
	case active != nil:
		journals = append(journals, active)
	}

	var k inventory.SuspectKey
	if opts.Key != "" {
		ref, ok := findKey(opts.Key, signing, journals, snaps)
		if !ok {
			return k, nil, cmdutil.FlagErrorf("--key %s: profile %q knows no such key (not the key in use, not in its rotations or snapshots); give its full fingerprint (SHA256:...), or say when the leak could have started with --leaked-since", opts.Key, opts.Profile)
		}
		k = inventory.SuspectKey{Name: ref.Name, Fingerprint: ref.Fingerprint, Why: "named with --key"}
	} else {
		k = inventory.SuspectKey{Name: signing.Name, Fingerprint: signing.Fingerprint, Why: fmt.Sprintf("the key profile %s uses now (its current key)", opts.Profile)}
		if n := len(journals); n > 0 {
			last := journals[n-1]
			if last.Emergency && last.Step != rotation.StepAborted && (!last.Step.Finished() || last.NewKey.Fingerprint == signing.Fingerprint) && last.OldKey.Fingerprint != "" {
				k = inventory.SuspectKey{Name: last.OldKey.Name, Fingerprint: last.OldKey.Fingerprint,
					Why: fmt.Sprintf("the key the emergency rotation %s ('keys revoke --rotate-first', started %s) replaced", last.ID, last.StartedAt.UTC().Format(time.RFC3339))}
			}
		}
	}
	for _, j := range journals {
		if j.NewKey.Fingerprint == k.Fingerprint && (k.CreatedAt.IsZero() || j.StartedAt.Before(k.CreatedAt)) {
			k.CreatedAt = j.StartedAt
		}
		if j.OldKey.Fingerprint == k.Fingerprint && (k.InUseAt.IsZero() || j.StartedAt.Before(k.InUseAt)) {
			k.InUseAt, k.InUseBy = j.StartedAt, fmt.Sprintf("rotation %s away from it started %s", j.ID, j.StartedAt.UTC().Format(time.RFC3339))
		}
	}
	// Since when the profile holds the key: a moment it was in use. "Now", for the key the
	// command signs with, is no such bound: another key's snapshot of the profile (a CI job's
	// key, a --key-file) taken while this key was already in use would pass as older than it,
	// and what the key made before that snapshot would look old.
	if opts.ProfileKeys != nil {
		item, err := opts.ProfileKeys(ctx, opts.Profile)
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: the keyring was not read (%v): the assessment knows less of when keys came into use\n", err)
		}
		if item != nil {
			for _, sk := range []*credentials.StoredKey{item.Current, item.Pending, item.Previous} {
				if sk == nil || sk.Fingerprint != k.Fingerprint || sk.AddedAt.IsZero() {
					continue
				}
				k.HeldSince = sk.AddedAt
				if k.InUseAt.IsZero() || sk.AddedAt.Before(k.InUseAt) {
					k.InUseAt, k.InUseBy = sk.AddedAt, fmt.Sprintf("in profile %s's keyring since %s", opts.Profile, sk.AddedAt.UTC().Format(time.RFC3339))
				}
			}
		}
	}
	// The keyring's date is when it last got the key: removed and added again, the key was
	// held before. The audit log remembers the first time it was stored.
	if !k.HeldSince.IsZero() && opts.KeyFirstStored != nil {
		first, err := opts.KeyFirstStored(ctx, k.Fingerprint)
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: the audit log was not read (%s): the assessment knows less of when keys came into use\n", textsafe.Line(err.Error()))
		}
		if !first.IsZero() && first.Before(k.HeldSince) {
			k.HeldSince = first
			if first.Before(k.InUseAt) {
				k.InUseAt, k.InUseBy = first, fmt.Sprintf("first stored %s (audit log)", first.UTC().Format(time.RFC3339))
			}
		}
	}
	return k, journals, nil
}

// rotatedAway are the old keys of journals' rotations, each in use when its rotation started.
func rotatedAway(journals []*rotation.Journal) []inventory.KeyUse {
	var uses []inventory.KeyUse
	for _, j := range journals {
		uses = append(uses, inventory.KeyUse{Name: j.OldKey.Name, Fingerprint: j.OldKey.Fingerprint, At: j.StartedAt})
	}
	return uses
}

// findKey finds the key named by want (a name, a fingerprint or a short
// fingerprint) among those the profile is known to have used.
func findKey(want string, signing rotation.KeyRef, journals []*rotation.Journal, snaps []inventory.SnapshotFile) (rotation.KeyRef, bool) {
	known := []rotation.KeyRef{signing}
	for _, j := range journals {
		known = append(known, j.OldKey, j.NewKey)
	}
	for _, s := range snaps {
		known = append(known, rotation.KeyRef{Name: s.KeyName, Fingerprint: s.KeyFingerprint})
	}
	for _, r := range known {
		if r.Fingerprint != "" && (r.Name == want || r.Fingerprint == want || credentials.ShortFingerprint(r.Fingerprint) == want) {
			return r, true
		}
	}
	if fullFingerprint.MatchString(want) {
		return rotation.KeyRef{Fingerprint: want}, true
	}
	return rotation.KeyRef{}, false
}

// fullFingerprint is credentials.Fingerprint's form: SHA-256 in unpadded base64.
var fullFingerprint = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)

// keyFirstStored is when entries (an audit log, oldest first) first record a key with
// fingerprint stored (any entry that succeeded naming it); zero when they record none.
func keyFirstStored(ctx context.Context, entries iter.Seq2[auditlog.Entry, error], fingerprint string) (time.Time, error) {
	for e, err := range entries {
		if err != nil {
			return time.Time{}, err
		}
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		if e.Outcome == auditlog.OutcomeOK && slices.Contains(e.Fingerprints, fingerprint) {
			return e.Time, nil
		}
	}
	return time.Time{}, nil
}
