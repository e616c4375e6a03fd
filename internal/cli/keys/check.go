package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
)

// CheckOptions is what `keys check` needs.
type CheckOptions struct {
	IO       *iostreams.IOStreams
	Keyring  func() (credentials.Store, error)
	Config   func() (*config.Config, error)
	Output   func() cmdutil.OutputFormat
	Now      func() time.Time
	MaxAge   string
	Profiles []string
}

// Checked is one profile's current key against the age policy.
type Checked struct {
	Profile     string    `json:"profile"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	AddedAt     time.Time `json:"addedAt"`
	AgeDays     float64   `json:"ageDays"`
	MaxAge      string    `json:"maxAge"`
	Overdue     bool      `json:"overdue"`
}

// NewCmdCheck returns `keys check`.
func NewCmdCheck(f *cmdutil.Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams, Keyring: f.Keyring, Config: f.Config, Now: time.Now, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:   "check [PROFILE...] [--max-age AGE]",
		Short: "Exit 3 if a profile's current key is older than the policy (a CI gate)",
		Long: `Compare the age of each profile's current key with a maximum age: --max-age, else the
profile's policy.max_age in the config file. Without profiles, every profile in the
keyring is checked. Exits 3 and names the overdue keys when any key is older; 0 otherwise.

A key's age counts from when waasctl stored it (auth add, or a rotation): WaaS does not
say when a key was created.`,
		Example: `  waasctl keys check --max-age 90d
  waasctl keys check prod -o json`,
		Args: cmdutil.MinimumArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Profiles = args
			if opts.MaxAge != "" {
				if _, err := config.ParseAge(opts.MaxAge); err != nil {
					return cmdutil.FlagErrorf("--max-age: %v", err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.MaxAge, "max-age", "", "The oldest a key may be, e.g. 90d (default: each profile's policy.max_age)")
	return cmd
}

func checkRun(ctx context.Context, opts *CheckOptions) error {
	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	profiles := opts.Profiles
	if len(profiles) == 0 {
		if profiles, err = store.Profiles(ctx); err != nil {
			return err
		}
	}
	now := opts.Now()
	var results []Checked
	for _, p := range profiles {
		item, err := store.Get(ctx, p)
		if errors.Is(err, credentials.ErrNotFound) || (err == nil && item.Current == nil) {
			return fmt.Errorf("profile %q has no key in the %s keyring", p, store.Backend())
		}
		if err != nil {
			return err
		}
		maxAge := opts.MaxAge
		if maxAge == "" {
			if pc, ok := cfg.Profiles[p]; ok && pc.Policy != nil {
				maxAge = pc.Policy.MaxAge
			}
		}
		if maxAge == "" {
			return cmdutil.FlagErrorf("no maximum age for profile %q: pass --max-age (e.g. 90d) or set policy.max_age in %s", p, cfg.Path)
		}
		limit, err := config.ParseAge(maxAge)
		if err != nil {
			return fmt.Errorf("profile %q policy.max_age: %w", p, err)
		}
		a := now.Sub(item.Current.AddedAt)
		results = append(results, Checked{
			Profile: p, Key: item.Current.Name, Fingerprint: item.Current.Fingerprint, AddedAt: item.Current.AddedAt,
			AgeDays: a.Hours() / 24, MaxAge: maxAge, Overdue: a > limit,
		})
	}
	cols := []cmdutil.Column[Checked]{
		{Header: "PROFILE", Value: func(c Checked) string { return c.Profile }},
		{Header: "KEY", Value: func(c Checked) string { return c.Key }},
		{Header: "FINGERPRINT", Value: func(c Checked) string { return credentials.ShortFingerprint(c.Fingerprint) }},
		{Header: "AGE", Value: func(c Checked) string { return cmdutil.Age(now.Sub(c.AddedAt)) }},
		{Header: "MAX AGE", Value: func(c Checked) string { return c.MaxAge }},
		{Header: "STATUS", Value: func(c Checked) string {
			if c.Overdue {
				return "overdue"
			}
			return "ok"
		}},
	}
	if err := cmdutil.PrintList(opts.IO, opts.Output().Resolve(opts.IO), results, cols); err != nil {
		return err
	}
	overdue := 0
	for _, r := range results {
		if r.Overdue {
			overdue++
			fmt.Fprintf(opts.IO.ErrOut, "overdue: profile %s key %s (%s) is %s old, over its max age of %s: rotate it\n",
				r.Profile, r.Key, credentials.ShortFingerprint(r.Fingerprint), cmdutil.Age(now.Sub(r.AddedAt)), r.MaxAge)
		}
	}
	if overdue > 0 {
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	}
	return nil
}
