package keys

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
)

// StatusOptions is what `keys status` needs.
type StatusOptions struct {
	IO       *iostreams.IOStreams
	Keyring  func() (credentials.Store, error)
	StateDir func() (string, error)
	Output   func() cmdutil.OutputFormat
	Now      func() time.Time
	// Profiles are the profiles to show; nil shows every profile in the keyring.
	Profiles []string
}

// SlotStatus is one key slot of a profile.
type SlotStatus struct {
	Profile     string    `json:"profile"`
	Slot        string    `json:"slot"` // current | pending | previous
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	AddedAt     time.Time `json:"addedAt"`
	Rotation    string    `json:"rotation,omitempty"` // the step of a rotation in progress
	// GraceUntil: when a rotation waiting out its grace period may revoke the old key.
	GraceUntil time.Time `json:"graceUntil,omitzero"`
}

// NewCmdStatus returns `keys status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Keyring: f.Keyring, StateDir: config.StateDir, Now: time.Now, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:   "status [PROFILE...]",
		Short: "Each profile's current, pending and previous keys, their ages, and any rotation in progress",
		Long: `Show each profile's current, pending and previous keys (names and fingerprints, never the
keys), their ages, and the step of any rotation in progress. Without PROFILE, --profile or
WAASCTL_PROFILE, every profile in the keyring is shown.`,
		Example: `  waasctl keys status
  waasctl keys status prod -o json`,
		Args: cmdutil.MinimumArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Profiles, err = cmdutil.ChosenProfiles(cmd, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	stateDir, err := opts.StateDir()
	if err != nil {
		return err
	}
	names := opts.Profiles
	if names == nil {
		if names, err = store.Profiles(ctx); err != nil {
			return err
		}
	}
	now := opts.Now()
	cols := []cmdutil.Column[SlotStatus]{
		{Header: "PROFILE", Value: func(s SlotStatus) string { return s.Profile }},
		{Header: "SLOT", Value: func(s SlotStatus) string { return s.Slot }},
		{Header: "KEY", Value: func(s SlotStatus) string { return s.Key }},
		{Header: "FINGERPRINT", Value: func(s SlotStatus) string { return credentials.ShortFingerprint(s.Fingerprint) }},
		{Header: "AGE", Value: func(s SlotStatus) string { return cmdutil.Age(now.Sub(s.AddedAt)) }},
		{Header: "ROTATION", Value: func(s SlotStatus) string {
			if s.Rotation == "" {
				return "-"
			}
			return s.Rotation
		}},
	}
	p := cmdutil.NewListPrinter(opts.IO, opts.Output().Resolve(opts.IO), cols)
	for _, name := range names {
		item, err := store.Get(ctx, name)
		if errors.Is(err, credentials.ErrNotFound) {
			if opts.Profiles != nil {
				// A profile asked for by name that has no key is an answer, not a blank.
				return fmt.Errorf("profile %q has no key in the %s keyring: add one with 'waasctl auth add %s --key-file FILE'", name, store.Backend(), name)
			}
			continue
		}
		if err != nil {
			return err
		}
		inProgress := ""
		j, err := rotation.LoadJournal(stateDir, name)
		if err != nil {
			return err
		}
		var graceUntil time.Time
		if j != nil && !j.Step.Finished() {
			inProgress = string(j.Step) + " (since " + j.UpdatedAt.Local().Format(time.DateTime) + ", journal " + filepath.Join(stateDir, "journals", name+".json") + ")"
			if j.Step == rotation.StepRevoke && j.RevokedAt.IsZero() && now.Before(j.GraceUntil) {
				// When the wait ends is what an operator asks first.
				graceUntil = j.GraceUntil
				inProgress = fmt.Sprintf("revoke after the grace period, which ends %s (in %s); then: waasctl keys rotate %s --resume",
					j.GraceUntil.Local().Format(time.DateTime), cmdutil.Age(j.GraceUntil.Sub(now)), name)
			}
		}
		for _, slot := range []struct {
			name string
			key  *credentials.StoredKey
		}{{"current", item.Current}, {"pending", item.Pending}, {"previous", item.Previous}} {
			if slot.key == nil {
				continue
			}
			st := SlotStatus{Profile: name, Slot: slot.name, Key: slot.key.Name, Fingerprint: slot.key.Fingerprint, AddedAt: slot.key.AddedAt}
			if slot.name == "current" {
				st.Rotation = inProgress
				st.GraceUntil = graceUntil
			}
			if err := p.Add(st); err != nil {
				return err
			}
		}
	}
	return p.Close()
}
