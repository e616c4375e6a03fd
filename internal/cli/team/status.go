package team

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// StatusOptions is what `team status` needs.
type StatusOptions struct {
	IO          *iostreams.IOStreams
	TeamStore   func() (*team.Store, error)
	AgeIdentity func() (*team.Identity, error)
	Output      func() cmdutil.OutputFormat
}

// StatusView is what `team status` shows.
type StatusView struct {
	Backend       string           `json:"backend"`
	Database      string           `json:"database"` // without the password
	SchemaVersion int              `json:"schemaVersion"`
	Recipients    []team.Recipient `json:"recipients"`
	// Pins are the recipients config.yaml pins (state.recipients); PinsProblem says how the
	// table differs from them, or that there are none ("" when they agree).
	Pins        []Pin                  `json:"pins"`
	PinsProblem string                 `json:"pinsProblem,omitempty"`
	Profiles    []team.ItemInfo        `json:"profiles"`
	Rotations   []team.InProgress      `json:"rotations"`
	Locks       map[string]team.Holder `json:"locks"`
	// Identity is this host's age public key, "" without one.
	Identity       string `json:"identity"`
	IdentitySource string `json:"identitySource,omitempty"`
	// IdentityError says why this host's identity could not be loaded (a keyring that does
	// not open), "" otherwise.
	IdentityError string `json:"identityError,omitempty"`
	// Recipient names this host's identity among the recipients, "" when it is not one.
	Recipient string `json:"recipient"`
	// CanDecrypt: this host reads every stored key.
	CanDecrypt bool `json:"canDecrypt"`
}

// Pin is a recipient config.yaml pins: a name and a public key, with no time or author (the
// recipients table has those).
type Pin struct {
	Name      string `json:"name"`
	PublicKey string `json:"publicKey"`
}

// NewCmdStatus returns `team status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, TeamStore: f.TeamStore, AgeIdentity: f.AgeIdentity, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the team store: schema, recipients, profiles, rotations, and this host's identity",
		Long: `Show the team store's backend and database (never its password), its schema version, the
recipients, the profiles whose keys it holds and whether this host can read each, rotations in
progress and who holds their locks, and this host's age identity.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	if opts.TeamStore == nil {
		return cmdutil.ErrNoTeamStore
	}
	s, err := opts.TeamStore()
	if err != nil {
		return err
	}
	v := StatusView{Backend: team.BackendName, Database: s.String(), Locks: map[string]team.Holder{}}
	// A host whose keyring cannot be opened still gets the rest of the status.
	id, err := identityOrNil(opts.AgeIdentity)
	if err != nil {
		v.IdentityError = textsafe.Line(err.Error())
		id = nil
	}
	if id != nil {
		v.Identity, v.IdentitySource = id.Recipient(), id.Source
	}
	if v.SchemaVersion, err = s.Version(ctx); err != nil {
		return err
	}
	if v.SchemaVersion > 0 {
		if err := s.CheckSchema(ctx); err != nil {
			return err
		}
		if v.Recipients, err = s.Recipients(ctx); err != nil {
			return err
		}
		if s.Pins != nil {
			for _, r := range s.Pins.Recipients() {
				v.Pins = append(v.Pins, Pin{Name: r.Name, PublicKey: r.PublicKey})
			}
		}
		if err := s.CheckPins(ctx); err != nil {
			v.PinsProblem = textsafe.Line(err.Error())
		}
		if v.Profiles, err = s.Items(ctx, id); err != nil {
			return err
		}
		if v.Rotations, err = s.Rotations(ctx); err != nil {
			return err
		}
		if v.Locks, err = s.LockHolders(ctx); err != nil {
			return err
		}
	}
	if i := slices.IndexFunc(v.Recipients, func(r team.Recipient) bool { return r.PublicKey == v.Identity }); i >= 0 && id != nil {
		v.Recipient = v.Recipients[i].Name
	}
	v.CanDecrypt = id != nil && !slices.ContainsFunc(v.Profiles, func(p team.ItemInfo) bool { return !p.Readable })
	err = cmdutil.PrintObject(opts.IO, opts.Output(), v, []cmdutil.Column[StatusView]{
		{Header: "BACKEND", Value: func(v StatusView) string { return v.Backend }},
		{Header: "DATABASE", Value: func(v StatusView) string { return v.Database }},
		{Header: "SCHEMA", Field: "schemaVersion", Value: func(v StatusView) string {
			if v.SchemaVersion == 0 {
				return "none (run 'waasctl team init')"
			}
			return fmt.Sprintf("version %d", v.SchemaVersion)
		}},
		{Header: "RECIPIENTS", Value: func(v StatusView) string {
			return joinOr(v.Recipients, func(r team.Recipient) string { return r.Name })
		}},
		{Header: "PINNED", Field: "pins", Value: func(v StatusView) string {
			s := joinOr(v.Pins, func(p Pin) string { return p.Name })
			if v.PinsProblem != "" {
				s += " (" + v.PinsProblem + ")"
			}
			return s
		}},
		{Header: "PROFILES", Value: func(v StatusView) string {
			return joinOr(v.Profiles, func(p team.ItemInfo) string {
				if v.Identity != "" && !p.Readable {
					return p.Profile + " (not readable here)"
				}
				return p.Profile
			})
		}},
		{Header: "ROTATIONS", Value: func(v StatusView) string {
			return joinOr(v.Rotations, func(r team.InProgress) string {
				s := r.Profile + " at " + r.Step
				if h, ok := v.Locks[r.Profile]; ok {
					s += " (held by " + h.String() + ")"
				}
				return s
			})
		}},
		{Header: "IDENTITY", Value: func(v StatusView) string {
			switch {
			case v.IdentityError != "":
				return "unknown: " + v.IdentityError
			case v.Identity == "":
				return "none (run 'waasctl team identity new')"
			case v.Recipient == "":
				return v.Identity + " (" + v.IdentitySource + "; not a recipient)"
			}
			return v.Identity + " (" + v.IdentitySource + "; recipient " + v.Recipient + ")"
		}},
		{Header: "CAN DECRYPT", Value: func(v StatusView) string {
			switch {
			case v.Identity == "":
				return "no (no identity)"
			case len(v.Profiles) == 0:
				return "nothing stored"
			case v.CanDecrypt:
				return fmt.Sprintf("yes, all %d profiles", len(v.Profiles))
			}
			n := 0
			for _, p := range v.Profiles {
				if p.Readable {
					n++
				}
			}
			return fmt.Sprintf("no: %d of %d profiles", n, len(v.Profiles))
		}},
	})
	return err
}

func joinOr[T any](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return "-"
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return strings.Join(out, ", ")
}
