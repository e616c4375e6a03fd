package configcmd

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

// ProfilesOptions is what `config profiles` needs.
type ProfilesOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*config.Config, error)
	Keyring func() (credentials.Store, error)
	Output  func() cmdutil.OutputFormat
	Getenv  func(string) string
}

// ProfileSummary is one profile as `config profiles` shows it.
type ProfileSummary struct {
	Profile   string   `json:"profile"`
	Endpoint  string   `json:"endpoint"`
	KeySource string   `json:"keySource"` // where commands would take its key from
	KeyStored *bool    `json:"keyStored"` // nil: the keyring could not be read
	Issuer    string   `json:"issuer,omitempty"`
	Sinks     []string `json:"sinks"`
	MaxAge    string   `json:"maxAge,omitempty"`
	Grace     string   `json:"grace,omitempty"`
	InConfig  bool     `json:"inConfig"`
}

// NewCmdProfiles returns `config profiles`.
func NewCmdProfiles(f *cmdutil.Factory, runF func(context.Context, *ProfilesOptions) error) *cobra.Command {
	opts := &ProfilesOptions{IO: f.IOStreams, Config: f.Config, Keyring: f.Keyring, Output: func() cmdutil.OutputFormat { return f.Output }, Getenv: os.Getenv}
	return &cobra.Command{
		Use:   "profiles",
		Short: "List every profile: endpoint, where its key comes from, issuer, sinks, policy",
		Long: `List every profile the config file or the keyring knows: its endpoint, where commands take
its key from (an environment variable overrides the keyring), whether the keyring holds a key
for it, its issuer, its sinks and its rotation policy. Keys are never shown; 'waasctl auth
list' shows their names and fingerprints.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return profilesRun(cmd.Context(), opts)
		},
	}
}

func profilesRun(ctx context.Context, opts *ProfilesOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	var stored []string
	keyringOK := false
	backend := ""
	if store, err := opts.Keyring(); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the keyring cannot be opened, so whether a key is stored is not known: %v\n", err)
	} else if stored, err = store.Profiles(ctx); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: the keyring cannot be listed, so whether a key is stored is not known: %v\n", err)
	} else {
		keyringOK, backend = true, store.Backend()
	}
	names := slices.Clone(stored)
	for name := range cfg.Profiles {
		names = append(names, name)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	envSource := ""
	switch {
	case opts.Getenv(credentials.EnvKeyName) != "" || opts.Getenv(credentials.EnvKeyPrivateKey) != "":
		envSource = "env " + credentials.EnvKeyName
	case opts.Getenv(credentials.EnvOfficialName) != "" || opts.Getenv(credentials.EnvOfficialPrivateKey) != "":
		envSource = "env " + credentials.EnvOfficialName
	}
	var rows []ProfileSummary
	for _, name := range names {
		p, inConfig := cfg.Profiles[name]
		s := ProfileSummary{Profile: name, Endpoint: p.Endpoint, InConfig: inConfig, Sinks: []string{}}
		if s.Endpoint == "" {
			s.Endpoint = waas.DefaultEndpoint
		}
		if keyringOK {
			has := slices.Contains(stored, name)
			s.KeyStored = &has
		}
		switch {
		case envSource != "":
			s.KeySource = envSource
		case s.KeyStored != nil && *s.KeyStored:
			s.KeySource = "keyring " + backend
		case s.KeyStored == nil:
			s.KeySource = "keyring (unreadable)"
		default:
			s.KeySource = "none: waasctl auth add " + name
		}
		if p.Issuer != nil {
			s.Issuer = p.Issuer.Type
			if len(p.Issuer.Command) > 0 {
				s.Issuer += " " + p.Issuer.Command[0]
			}
		}
		for _, sk := range p.Sinks {
			d := sk.Type
			switch {
			case sk.Path != "":
				d += " " + sk.Path
			case len(sk.Command) > 0:
				d += " " + sk.Command[0]
			}
			s.Sinks = append(s.Sinks, d)
		}
		if p.Policy != nil {
			s.MaxAge, s.Grace = p.Policy.MaxAge, p.Policy.Grace
		}
		rows = append(rows, s)
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	cols := []cmdutil.Column[ProfileSummary]{
		{Header: "PROFILE", Value: func(s ProfileSummary) string { return s.Profile }},
		{Header: "ENDPOINT", Value: func(s ProfileSummary) string { return s.Endpoint }},
		{Header: "KEY STORED", Value: func(s ProfileSummary) string {
			switch {
			case s.KeyStored == nil:
				return "unknown"
			case *s.KeyStored:
				return "yes"
			}
			return "no"
		}},
		{Header: "KEY SOURCE", Value: func(s ProfileSummary) string { return s.KeySource }},
		{Header: "ISSUER", Value: func(s ProfileSummary) string { return dash(s.Issuer) }},
		{Header: "SINKS", Value: func(s ProfileSummary) string { return dash(strings.Join(s.Sinks, ", ")) }},
		{Header: "MAX AGE", Value: func(s ProfileSummary) string { return dash(s.MaxAge) }},
		{Header: "GRACE", Value: func(s ProfileSummary) string { return dash(s.Grace) }},
	}
	if err := cmdutil.PrintList(opts.IO, opts.Output(), rows, cols); err != nil {
		return err
	}
	if len(rows) == 0 && opts.IO.IsStderrTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "no profiles yet: add a key with 'waasctl auth add PROFILE --key-file FILE', or settings with 'waasctl config set profiles.PROFILE.endpoint URL'")
	}
	return nil
}
