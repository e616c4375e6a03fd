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
	"github.com/waasctl/waasctl/internal/waas"
)

// CheckOptions is what `keys check` needs.
type CheckOptions struct {
	IO      *iostreams.IOStreams
	Keyring func() (credentials.Store, error)
	Config  func() (*config.Config, error)
	Output  func() cmdutil.OutputFormat
	Now     func() time.Time
	// Verify checks that profile's key authenticates; nil with --offline.
	Verify   func(ctx context.Context, profile string, key *credentials.APIKey) error
	MaxAge   string
	Profiles []string
}

// Checked is one profile's current key against the age policy.
type Checked struct {
	Profile     string    `json:"profile"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	AddedAt     time.Time `json:"addedAt,omitzero"` // zero: no key (missing)
	AgeDays     float64   `json:"ageDays"`
	MaxAge      string    `json:"maxAge"`
	Overdue     bool      `json:"overdue"`
	// Status is ok, overdue, missing (no key stored), rejected (WaaS
	// refuses the key: revoked) or unchecked (--offline).
	Status string `json:"status"`
}

// NewCmdCheck returns `keys check`.
func NewCmdCheck(f *cmdutil.Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams, Keyring: f.Keyring, Config: f.Config, Now: time.Now, Output: func() cmdutil.OutputFormat { return f.Output }}
	opts.Verify = func(ctx context.Context, profile string, key *credentials.APIKey) error {
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		c, err := cmdutil.ClientForKey(key, profile, profileEndpoint(f, cfg.Profiles[profile]), f)
		if err != nil {
			return err
		}
		_, err = c.ListPools(ctx, waas.PageRequest{Size: 1})
		return err
	}
	var offline bool
	cmd := &cobra.Command{
		Use:   "check [PROFILE...] [--max-age AGE]",
		Short: "Exit 3 if a profile's current key is older than the policy (a CI gate)",
		Long: `Compare the age of each profile's current key with a maximum age: --max-age, else the
profile's policy.max_age in the config file. Without PROFILE, --profile or WAASCTL_PROFILE,
every profile in the keyring is checked, and a keyring with none fails the check.

Each current key is also checked against WaaS (one read): a revoked key fails the gate
even when it is young. --offline skips that call, and says so in the STATUS column.

Exit codes: 0 when every key checked is present, authenticates and is within its age;
3 when a key is overdue, a named profile has no key, or the keyring has no profile at all
(an evicted CI cache); 4 when WaaS rejects a key (it was revoked); 1 when WaaS could not
be asked. The worst wins: 4 over 3.

A key's age counts from when waasctl stored it (auth add, or a rotation): WaaS does not
say when a key was created.`,
		Example: `  waasctl keys check --max-age 90d
  waasctl keys check prod -o json`,
		Args: cmdutil.MinimumArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profiles, err = cmdutil.ChosenProfiles(cmd, args); err != nil {
				return err
			}
			if offline {
				opts.Verify = nil
			}
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
	cmd.Flags().BoolVar(&offline, "offline", false, "Check ages only; do not ask WaaS whether each key still authenticates")
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
		if len(profiles) == 0 {
			// A CI gate that checks nothing must not pass: an evicted cache or a
			// wrong keyring folder looks exactly like this.
			return cmdutil.ExitErrorf(cmdutil.ExitFindings, "no profile has a key in the %s keyring: nothing to check (an empty CI cache, or the wrong WAASCTL_KEYRING_DIR?); name the profiles to check, or add their keys", store.Backend())
		}
	}
	now := opts.Now()
	var results []Checked
	for _, p := range profiles {
		item, err := store.Get(ctx, p)
		if errors.Is(err, credentials.ErrNotFound) || (err == nil && item.Current == nil) {
			results = append(results, Checked{Profile: p, Status: "missing"})
			continue
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
		c := Checked{
			Profile: p, Key: item.Current.Name, Fingerprint: item.Current.Fingerprint, AddedAt: item.Current.AddedAt,
			AgeDays: a.Hours() / 24, MaxAge: maxAge, Overdue: a > limit, Status: "ok",
		}
		if c.Overdue {
			c.Status = "overdue"
		}
		if opts.Verify == nil {
			if !c.Overdue {
				c.Status = "unchecked"
			}
		} else if rejected, err := keyRejected(ctx, opts, p, item.Current); err != nil {
			return err
		} else if rejected {
			c.Status = "rejected"
		}
		results = append(results, c)
	}
	cols := []cmdutil.Column[Checked]{
		{Header: "PROFILE", Value: func(c Checked) string { return c.Profile }},
		{Header: "KEY", Value: func(c Checked) string { return c.Key }},
		{Header: "FINGERPRINT", Value: func(c Checked) string { return credentials.ShortFingerprint(c.Fingerprint) }},
		{Header: "AGE", Value: func(c Checked) string {
			if c.AddedAt.IsZero() {
				return "-" // no key, no age
			}
			return cmdutil.Age(now.Sub(c.AddedAt))
		}},
		{Header: "MAX AGE", Value: func(c Checked) string { return c.MaxAge }},
		{Header: "STATUS", Value: func(c Checked) string { return c.Status }},
	}
	if err := cmdutil.PrintList(opts.IO, opts.Output().Resolve(opts.IO), results, cols); err != nil {
		return err
	}
	code := cmdutil.ExitOK
	for _, r := range results {
		switch r.Status {
		case "missing":
			code = max(code, cmdutil.ExitFindings)
			fmt.Fprintf(opts.IO.ErrOut, "missing: profile %s has no key in the %s keyring: add it with 'waasctl auth add %s --key-file FILE'\n", r.Profile, store.Backend(), r.Profile)
		case "rejected":
			code = cmdutil.ExitAuth
			fmt.Fprintf(opts.IO.ErrOut, "rejected: WaaS refuses profile %s's key %s (%s): it was revoked, and a rotation needs a working key: store one with 'waasctl auth add %s --key-file FILE --force'\n",
				r.Profile, r.Key, credentials.ShortFingerprint(r.Fingerprint), r.Profile)
		case "overdue":
			code = max(code, cmdutil.ExitFindings)
			fmt.Fprintf(opts.IO.ErrOut, "overdue: profile %s key %s (%s) is %s old, over its max age of %s: rotate it\n",
				r.Profile, r.Key, credentials.ShortFingerprint(r.Fingerprint), cmdutil.Age(now.Sub(r.AddedAt)), r.MaxAge)
		}
	}
	if code != cmdutil.ExitOK {
		return cmdutil.SilentExit(code)
	}
	return nil
}

// keyRejected asks WaaS whether the stored key still authenticates: a 401
// or 403 is a rejection; any other failure is an error, since the gate
// cannot tell.
func keyRejected(ctx context.Context, opts *CheckOptions, profile string, stored *credentials.StoredKey) (bool, error) {
	key, err := credentials.NewAPIKey(stored.Name, stored.PrivateKey, "keyring")
	if err != nil {
		return false, fmt.Errorf("profile %q: the stored key: %w", profile, err)
	}
	err = opts.Verify(ctx, profile, key)
	switch code := waas.HTTPCode(err); {
	case err == nil:
		return false, nil
	case code == 401 || code == 403:
		return true, nil
	default:
		return false, fmt.Errorf("could not check profile %s's key against WaaS (pass --offline to check ages only): %w", profile, err)
	}
}
