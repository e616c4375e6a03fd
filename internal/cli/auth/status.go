package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

// StatusOptions is what `auth status` needs.
type StatusOptions struct {
	IO      *iostreams.IOStreams
	Keyring func() (credentials.Store, error)
	Config  func() (*config.Config, error)
	Output  func() cmdutil.OutputFormat
	Verify  func(ctx context.Context, key *credentials.APIKey, endpoint string) error
	Getenv  func(string) string
	Now     func() time.Time
	// Location is the zone dates are printed in; nil: the local one.
	Location *time.Location
	Profile  string
	Endpoint string
	KeyFile  string
}

// Status is what `auth status` reports.
type Status struct {
	Profile       string     `json:"profile"`
	Source        string     `json:"source"`
	Key           string     `json:"key"`
	Fingerprint   string     `json:"fingerprint"`
	Endpoint      string     `json:"endpoint"`
	Authenticates bool       `json:"authenticates"`
	Error         string     `json:"error,omitempty"`
	AddedAt       *time.Time `json:"addedAt,omitempty"`
	AgeDays       *float64   `json:"ageDays,omitempty"`
	MaxAge        string     `json:"maxAge,omitempty"`
	Overdue       bool       `json:"overdue"`
}

// NewCmdStatus returns `auth status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Keyring: f.Keyring, Config: f.Config, Getenv: os.Getenv, Now: time.Now,
		Output: func() cmdutil.OutputFormat { return f.Output }}
	opts.Verify = verifyKey(f, &opts.Profile)
	return &cobra.Command{
		Use:   "status [PROFILE]",
		Short: "Say which key is in use, whether it authenticates, and how old it is",
		Long: `Say where the key in use comes from (--key-file, the WAASCTL_API_KEY_* or
COINBASE_CLOUD_API_KEY_* variables, which override the keyring, or the profile's keyring
item), check that it authenticates against the endpoint, and compare its age with the
profile's policy max_age. Exits 4 when the key is rejected.`,
		Args: cmdutil.MaximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args); err != nil {
				return err
			}
			opts.Endpoint, opts.KeyFile = f.Endpoint, f.KeyFile
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	st := Status{Profile: opts.Profile}
	key, added, err := keyInUse(ctx, opts)
	if err != nil {
		return err
	}
	st.Source, st.Key, st.Fingerprint = key.Source, key.Name, key.Fingerprint
	if st.Endpoint, err = profileEndpoint(opts.Config, opts.Profile, opts.Endpoint); err != nil {
		return err
	}
	verr := opts.Verify(ctx, key, st.Endpoint)
	st.Authenticates = verr == nil
	if verr != nil {
		st.Error = verr.Error()
	}
	if !added.IsZero() {
		age := opts.Now().Sub(added)
		days := age.Hours() / 24
		st.AddedAt, st.AgeDays = &added, &days
		if cfg, err := opts.Config(); err == nil {
			if p, ok := cfg.Profiles[opts.Profile]; ok && p.Policy != nil && p.Policy.MaxAge != "" {
				maxAge, err := config.ParseAge(p.Policy.MaxAge)
				if err != nil {
					return fmt.Errorf("profile %q policy max_age: %w", opts.Profile, err)
				}
				st.MaxAge, st.Overdue = p.Policy.MaxAge, age > maxAge
			}
		}
	}
	if err := printStatus(opts, st, added); err != nil {
		return err
	}
	switch code := waas.HTTPCode(verr); {
	case verr == nil:
		return nil
	case code == 401 || code == 403:
		return cmdutil.ExitErrorf(cmdutil.ExitAuth, "the key %s is rejected by %s", key.Name, st.Endpoint)
	default:
		return fmt.Errorf("could not check the key against %s: %w", st.Endpoint, verr)
	}
}

// keyInUse finds the key API commands would use, and when it was added if it
// comes from the keyring.
func keyInUse(ctx context.Context, opts *StatusOptions) (*credentials.APIKey, time.Time, error) {
	key, err := credentials.LookupContext(ctx, opts.KeyFile, opts.Getenv)
	if err == nil || !errors.Is(err, credentials.ErrNoCredentials) {
		return key, time.Time{}, err
	}
	store, err := opts.Keyring()
	if err != nil {
		return nil, time.Time{}, err
	}
	item, err := store.Get(ctx, opts.Profile)
	if errors.Is(err, credentials.ErrNotFound) || (err == nil && item.Current == nil) {
		return nil, time.Time{}, fmt.Errorf("profile %q has no key: add one with 'waasctl auth add %s --key-file FILE'", opts.Profile, opts.Profile)
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	key, err = credentials.NewAPIKey(item.Current.Name, item.Current.PrivateKey, "keyring "+store.Backend())
	return key, item.Current.AddedAt, err
}

func printStatus(opts *StatusOptions, st Status, added time.Time) error {
	if !cmdutil.HumanText(opts.Output()) {
		return cmdutil.PrintObject(opts.IO, opts.Output(), st, nil)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Profile:       %s\n", st.Profile)
	fmt.Fprintf(w, "Key:           %s (%s)\n", st.Key, credentials.ShortFingerprint(st.Fingerprint))
	fmt.Fprintf(w, "Source:        %s\n", st.Source)
	fmt.Fprintf(w, "Endpoint:      %s\n", st.Endpoint)
	if st.Authenticates {
		fmt.Fprintln(w, "Authenticates: yes")
	} else {
		fmt.Fprintf(w, "Authenticates: no: %s\n", st.Error)
	}
	if !added.IsZero() {
		line := fmt.Sprintf("Age:           %s (added %s)", humanAge(opts.Now().Sub(added)), added.In(cmp.Or(opts.Location, time.Local)).Format(time.DateOnly))
		if st.MaxAge != "" {
			verdict := "within"
			if st.Overdue {
				verdict = "OVERDUE: older than"
			}
			line += fmt.Sprintf("; %s the policy's max_age of %s", verdict, st.MaxAge)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
