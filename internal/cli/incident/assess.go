package incident

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
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

	Profile string
	Since   string
	Ledger  cmdutil.LedgerFlags
}

// NewCmdAssess returns `incident assess`.
func NewCmdAssess(f *cmdutil.Factory, runF func(context.Context, *AssessOptions) error) *cobra.Command {
	opts := &AssessOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config, StateDir: config.StateDir, Now: time.Now,
		Output:     func() cmdutil.OutputFormat { return f.Output },
		UseProfile: func(p string) { f.Profile = p },
	}
	cmd := &cobra.Command{
		Use:   "assess [PROFILE] [--since SNAPSHOT] [--ledger SOURCE]",
		Short: "Report the blast radius of a possibly leaked key: what changed, what is unknown",
		Long: `Assess what a possibly leaked API key of PROFILE could have done. The command takes a
fresh snapshot of the estate with the profile's current key (saved in the state folder as
evidence), then:

  - diffs it against the baseline: --since SNAPSHOT, or the newest earlier snapshot of the
    profile (same endpoint and organization) in the state folder;
  - reconciles it with the middle tier's ledger (--ledger or the profile's ledger.dsn):
    pending MPC operations, wallets and device groups the ledger does not know;
  - shows quota usage and how much of it the additions took;
  - lists what it cannot know (WaaS keeps no creation times, and more).

Markdown for people (the default), -o json or yaml for tools. Without a baseline the verdict
is "inconclusive", never "clean": old and new cannot be told apart.

Exits 0 only when the verdict is "clean"; 3 for "findings" or "inconclusive"; 1 when the
snapshot, baseline or ledger cannot be read; 2 for bad flags, such as a --since file that
does not exist.`,
		Example: `  waasctl keys revoke --profile prod --rotate-first --reason "key in a public gist"
  waasctl incident assess prod --ledger postgres://auditor@db/ledger > incident.md
  waasctl incident assess prod --since ~/.local/state/waasctl/snapshots/prod-20261101T000000.000Z.jsonl -o json`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			opts.UseProfile(opts.Profile)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return assessRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Since, "since", "", "Baseline snapshot `file` (default: the newest earlier snapshot of PROFILE in the state folder)")
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
	if opts.Since != "" {
		if _, err := os.Stat(opts.Since); err != nil {
			return cmdutil.FlagErrorf("--since %s: %v", opts.Since, errors.Unwrap(err))
		}
	}
	limits := inventory.ConfigLimits(cfg.Profiles[opts.Profile].Quota)
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	stateDir, err := opts.StateDir()
	if err != nil {
		return err
	}
	dir := inventory.SnapshotDir(stateDir)
	meta := inventory.SnapshotMeta{Time: opts.Now().UTC(), Endpoint: c.Endpoint(), Organization: c.Organization(), Profile: opts.Profile, Source: inventory.SourceIncident}
	since := opts.Since
	if since == "" {
		if since, _, err = inventory.LatestSnapshot(dir, opts.Profile, meta.Endpoint, meta.Organization, meta.Time); err != nil {
			return err
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "taking a snapshot of the estate with profile %s...\n", opts.Profile)
	path, _, err := inventory.SaveSnapshot(ctx, c, dir, "", meta)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; no assessment was made")
		}
		return cmdutil.APIError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "snapshot saved to %s\n", path)
	a, err := reconcile.Assess(ctx, reconcile.AssessInput{Snapshot: path, Since: since, Ledger: ledger, Client: c, Limits: limits})
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; no assessment was made")
		}
		return cmdutil.LedgerError(err)
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
