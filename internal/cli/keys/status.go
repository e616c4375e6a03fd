package keys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/team"
)

// StatusOptions is what `keys status` needs.
type StatusOptions struct {
	IO       *iostreams.IOStreams
	Keyring  func() (credentials.Store, error)
	StateDir func() (string, error)
	// TeamState is the team store as profile's rotation state, nil when the profile's state
	// stays on this host (then the journal is read from StateDir).
	TeamState func(ctx context.Context, profile string) (*team.RotationState, error)
	Output    func() cmdutil.OutputFormat
	Now       func() time.Time
	// Location is the zone times are printed in; nil: the local one.
	Location *time.Location
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
	// LockHolder names who holds the profile's lock in the team store (host, user, pid,
	// command, step), when someone does.
	LockHolder string `json:"lockHolder,omitempty"`
}

// NewCmdStatus returns `keys status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Keyring: f.Keyring, StateDir: config.StateDir, Now: time.Now, Output: func() cmdutil.OutputFormat { return f.Output },
		TeamState: func(ctx context.Context, profile string) (*team.RotationState, error) {
			return cmdutil.TeamRotationState(ctx, f, profile, os.Getenv)
		}}
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
		j, where, holder, err := statusJournal(ctx, opts, stateDir, name)
		if err != nil {
			return err
		}
		var graceUntil time.Time
		zone := cmp.Or(opts.Location, time.Local)
		if j != nil && !j.Step.Finished() {
			inProgress = string(j.Step) + " (since " + cmdutil.ClockTime(j.UpdatedAt, zone) + ", journal " + where + ")"
			if j.Step == rotation.StepRevoke && j.RevokedAt.IsZero() && now.Before(j.GraceUntil) {
				// When the wait ends is what an operator asks first.
				graceUntil = j.GraceUntil
				inProgress = fmt.Sprintf("revoke after the grace period, which ends %s (in %s); then: waasctl keys rotate %s --resume",
					cmdutil.ClockTime(j.GraceUntil, zone), cmdutil.Age(j.GraceUntil.Sub(now)), name)
			}
		}
		if inProgress != "" && holder != "" {
			inProgress += "; lock held by " + holder
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
				st.LockHolder = holder
			}
			if err := p.Add(st); err != nil {
				return err
			}
		}
	}
	return p.Close()
}

// statusJournal reads profile's journal (nil when there is none) and says where it is; in team
// mode also who holds the profile's lock ("" when nobody does).
func statusJournal(ctx context.Context, opts *StatusOptions, stateDir, profile string) (*rotation.Journal, string, string, error) {
	var ts *team.RotationState
	if opts.TeamState != nil {
		var err error
		if ts, err = opts.TeamState(ctx, profile); err != nil {
			return nil, "", "", err
		}
	}
	if ts == nil {
		j, err := rotation.LoadJournal(stateDir, profile)
		return j, filepath.Join(stateDir, "journals", profile+".json"), "", err
	}
	j, _, err := ts.LoadJournal(ctx, profile)
	if errors.Is(err, rotation.ErrNoJournal) {
		j, err = nil, nil
	}
	if err != nil {
		return nil, "", "", err
	}
	holders, err := ts.Store().LockHolders(ctx)
	if err != nil {
		return nil, "", "", err
	}
	holder := ""
	if h, ok := holders[profile]; ok {
		holder = h.String()
	}
	return j, "in the team store", holder, nil
}
