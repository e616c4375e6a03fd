package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
)

// ListOptions is what `auth list` needs.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Keyring func() (credentials.Store, error)
	Output  func() cmdutil.OutputFormat
	Now     func() time.Time
	// Profiles are the profiles to list (--profile or WAASCTL_PROFILE); nil lists all.
	Profiles []string
}

// ProfileView is one profile as `auth list` shows it.
type ProfileView struct {
	Profile  string   `json:"profile"`
	Backend  string   `json:"backend"`
	Current  *KeyView `json:"current,omitempty"`
	Pending  *KeyView `json:"pending,omitempty"`
	Previous *KeyView `json:"previous,omitempty"`
}

// NewCmdList returns `auth list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Keyring: f.Keyring, Output: func() cmdutil.OutputFormat { return f.Output }, Now: time.Now}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the profiles with a key in the keyring: names and fingerprints, never keys",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profiles, err = cmdutil.ChosenProfiles(cmd, nil); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
}

func listRun(ctx context.Context, opts *ListOptions) error {
	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	names, err := store.Profiles(ctx)
	if err != nil {
		return err
	}
	if opts.Profiles != nil {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(opts.Profiles, n) })
	}
	now := opts.Now()
	cols := []cmdutil.Column[ProfileView]{
		{Header: "PROFILE", Value: func(p ProfileView) string { return p.Profile }},
		{Header: "KEY", Field: "current.name", Value: func(p ProfileView) string { return orNone(p.Current, func(k *KeyView) string { return k.Name }) }},
		{Header: "FINGERPRINT", Field: "current.fingerprint", Value: func(p ProfileView) string {
			return orNone(p.Current, func(k *KeyView) string { return credentials.ShortFingerprint(k.Fingerprint) })
		}},
		{Header: "AGE", Value: func(p ProfileView) string {
			return orNone(p.Current, func(k *KeyView) string { return humanAge(now.Sub(k.AddedAt)) })
		}},
		{Header: "BACKEND", Value: func(p ProfileView) string { return p.Backend }},
		{Header: "SOURCE", Field: "current.source", Value: func(p ProfileView) string { return orNone(p.Current, func(k *KeyView) string { return k.Source }) }},
		{Header: "ROTATION", Value: func(p ProfileView) string {
			switch {
			case p.Pending != nil:
				return "pending " + credentials.ShortFingerprint(p.Pending.Fingerprint)
			case p.Previous != nil:
				return "previous " + credentials.ShortFingerprint(p.Previous.Fingerprint)
			}
			return "-"
		}},
	}
	printer := cmdutil.NewListPrinter(opts.IO, opts.Output().Resolve(opts.IO), cols)
	var damaged []string
	for _, name := range names {
		item, err := store.Get(ctx, name)
		if errors.Is(err, credentials.ErrNotFound) {
			continue // removed while we listed
		}
		if errors.Is(err, credentials.ErrItemDamaged) {
			// One bad item does not hide the others; the error says how to get rid of it.
			fmt.Fprintf(opts.IO.ErrOut, "warning: %v\n", err)
			damaged = append(damaged, name)
			continue
		}
		if err != nil {
			return err
		}
		if err := printer.Add(ProfileView{Profile: name, Backend: store.Backend(), Current: viewOf(item.Current), Pending: viewOf(item.Pending), Previous: viewOf(item.Previous)}); err != nil {
			return err
		}
	}
	if err := printer.Close(); err != nil {
		return err
	}
	if len(damaged) > 0 {
		return fmt.Errorf("%d profiles could not be read (%s): see the warnings above", len(damaged), strings.Join(damaged, ", "))
	}
	if printer.Count() == 0 && opts.IO.IsStderrTTY() {
		opts.IO.ErrOut.Write([]byte("no keys stored; add one with 'waasctl auth add PROFILE --key-file FILE'\n"))
	}
	return nil
}

func orNone(k *KeyView, f func(*KeyView) string) string {
	if k == nil {
		return "-"
	}
	return f(k)
}
