package inventory

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/waas"
)

// SnapshotOptions is what `inventory snapshot` needs.
type SnapshotOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Output    func() cmdutil.OutputFormat
	Profile   func() string
	StateDir  func() (string, error)
	// TeamStore opens the team store of the profile's state backend, nil when it is local
	// (cmdutil.OpenStateStore). Nil in tests of the local mode.
	TeamStore func(ctx context.Context, profile string) (*team.Store, func(), error)

	Out string
	// Now is the snapshot's time (time.Now); a fixed clock in tests.
	Now func() time.Time
}

// SnapshotResult is the -o json output.
type SnapshotResult struct {
	Path string `json:"path"`
	inventory.SnapshotSummary
}

// NewCmdSnapshot returns `inventory snapshot`.
func NewCmdSnapshot(f *cmdutil.Factory, runF func(context.Context, *SnapshotOptions) error) *cobra.Command {
	opts := &SnapshotOptions{
		IO: f.IOStreams, APIClient: f.APIClient, StateDir: config.StateDir, Now: time.Now,
		Output:  func() cmdutil.OutputFormat { return f.Output },
		Profile: func() string { return f.Profile },
		TeamStore: func(ctx context.Context, profile string) (*team.Store, func(), error) {
			return cmdutil.OpenStateStore(ctx, f, profile, os.Getenv)
		},
	}
	cmd := &cobra.Command{
		Use:   "snapshot [--out FILE]",
		Short: "Save a complete, integrity-checked snapshot of the estate",
		Long: `Write every pool, wallet, device group, pending operation and address as JSON lines,
with a header naming the endpoint, organization, profile and the API key that took it (name
and fingerprint) and a trailer holding the count and SHA-256 of the lines. The file appears complete or not at all (0600).

Without --out it goes to the state folder: snapshots/PROFILE-TIME.jsonl. The path and the
counts are printed on stderr; -o json prints them on stdout.

In team mode (the profile's state backend is postgres, or WAASCTL_STATE_DSN is set; see
docs/team.md) the snapshot is also stored in the team store, as PROFILE-TIME.jsonl: its
index entry (profile, time, header, size, SHA-256, this host and the file's path) and, up
to 8 MiB, its content, so that 'incident assess' on any host of the team finds it as a
baseline. A larger one is indexed only; its content stays in the file. A snapshot that
looks like it holds a private key is never stored.`,
		Example: `  waasctl inventory snapshot
  waasctl inventory snapshot --out estate.jsonl -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := cmdutil.ResolveProfile(cmd, f, nil); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return snapshotRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "Write the snapshot to this `file` instead of the state folder")
	return cmd
}

func snapshotRun(ctx context.Context, opts *SnapshotOptions) error {
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	meta := inventory.SnapshotMeta{Time: now().UTC(), Endpoint: c.Endpoint(), Organization: c.Organization(), Profile: opts.Profile()}
	stateDir, err := opts.StateDir()
	if err != nil {
		return err
	}
	path, sum, err := inventory.SaveSnapshot(ctx, c, inventory.SnapshotDir(stateDir), opts.Out, meta)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; no snapshot was written")
		}
		if waas.HTTPCode(err) != 0 || waas.Unreachable(err) {
			return cmdutil.APIError(err)
		}
		return err
	}
	// In team mode the snapshot is shared before anything is printed, so that a CI job that
	// cannot share it fails.
	shared, err := share(ctx, opts, path)
	if err != nil {
		return fmt.Errorf("snapshot saved to %s but not stored in the team store: %w", path, err)
	}
	var parts []string
	for _, k := range inventory.ResourceKinds {
		parts = append(parts, kindCount(sum.Counts[k], k))
	}
	// The key that took it decides whether it can be a baseline when that key is suspected.
	fmt.Fprintf(opts.IO.ErrOut, "snapshot saved to %s: %d resources (%s); taken with key %s (%s)\n", path, sum.Count, strings.Join(parts, ", "), sum.KeyName, credentials.ShortFingerprint(sum.KeyFingerprint))
	if shared != "" {
		fmt.Fprintln(opts.IO.ErrOut, shared)
	}
	if opts.Output() != cmdutil.OutputDefault { // the summary above is for people; -o asks for data
		return cmdutil.PrintObject(opts.IO, opts.Output(), SnapshotResult{Path: path, SnapshotSummary: sum}, nil)
	}
	return nil
}

// kindNouns are the resource kinds as the summary says them, singular and plural.
var kindNouns = map[string][2]string{
	inventory.KindPool:        {"pool", "pools"},
	inventory.KindWallet:      {"wallet", "wallets"},
	inventory.KindDeviceGroup: {"device group", "device groups"},
	inventory.KindOperation:   {"operation", "operations"},
	inventory.KindAddress:     {"address", "addresses"},
}

// kindCount is "4 wallets", "1 device group": n resources of kind as the summary says them.
func kindCount(n int, kind string) string {
	if w, ok := kindNouns[kind]; ok {
		return cmdutil.Count(n, w[0], w[1])
	}
	return fmt.Sprintf("%d %s", n, kind)
}

// share stores the snapshot in the team store in team mode, and says what it stored; "" in
// local mode.
func share(ctx context.Context, opts *SnapshotOptions, path string) (string, error) {
	if opts.TeamStore == nil {
		return "", nil
	}
	s, done, err := opts.TeamStore(ctx, opts.Profile())
	if err != nil || s == nil {
		return "", err
	}
	defer done()
	info, err := cmdutil.ShareSnapshot(ctx, s, path)
	if err != nil {
		return "", err
	}
	return cmdutil.SharedSnapshotNote(s, info, true), nil
}
