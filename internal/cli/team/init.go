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
)

// InitOptions is what `team init` needs.
type InitOptions struct {
	IO          *iostreams.IOStreams
	TeamStore   func() (*team.Store, error)
	AgeIdentity func() (*team.Identity, error)
	// Repin records the new set of recipients in config.yaml (state.recipients).
	Repin      func(*team.Pins) error
	Recipients []team.Recipient
}

// NewCmdInit returns `team init`.
func NewCmdInit(f *cmdutil.Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: f.IOStreams, TeamStore: f.TeamStore, AgeIdentity: f.AgeIdentity, Repin: cmdutil.TeamRepin(f)}
	var recipients []string
	cmd := &cobra.Command{
		Use:   "init [--recipient NAME=age1...]...",
		Short: "Create or migrate the team store's schema, and add the first recipients",
		Long: `Create the team store's tables (schema "waasctl" in the configured database) or migrate
them to this waasctl's version. Safe to run again, and from two hosts at once: migrations are
applied once, under a database lock. Each --recipient adds a member of the team by the public
key its 'waasctl team identity new' printed, and pins it in config.yaml (state.recipients),
which the team keeps in its ops repository: keys are encrypted only to pinned recipients. A
recipient already there with the same key is left as it is.`,
		Example: `  waasctl team identity new
  waasctl team init --recipient alice=age1...`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, r := range recipients {
				name, key, ok := strings.Cut(r, "=")
				if !ok {
					return cmdutil.FlagErrorf("--recipient wants NAME=age1..., as in --recipient alice=age1...")
				}
				if err := team.CheckRecipientName(name); err != nil {
					return cmdutil.FlagErrorf("--recipient: %v", err)
				}
				if _, err := team.ParseRecipient(key); err != nil {
					return cmdutil.FlagErrorf("--recipient %s: %v", name, err)
				}
				opts.Recipients = append(opts.Recipients, team.Recipient{Name: name, PublicKey: strings.TrimSpace(key)})
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&recipients, "recipient", nil, "Add a recipient `NAME=age1...` (repeatable)")
	return cmd
}

func initRun(ctx context.Context, opts *InitOptions) error {
	if opts.TeamStore == nil {
		return cmdutil.ErrNoTeamStore
	}
	s, err := opts.TeamStore()
	if err != nil {
		return err
	}
	from, to, err := s.Migrate(ctx, s.User+"@"+s.Host)
	if err != nil {
		return err
	}
	if from == to {
		fmt.Fprintf(opts.IO.ErrOut, "Team store %s: schema already at version %d.\n", s, to)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "Team store %s: schema migrated from version %d to %d.\n", s, from, to)
	}
	if len(opts.Recipients) > 0 {
		id, err := identityOrNil(opts.AgeIdentity)
		if err != nil {
			return err
		}
		had, err := s.Recipients(ctx)
		if err != nil {
			return err
		}
		if err := s.AddRecipients(ctx, opts.Recipients, id, opts.Repin); err != nil {
			return err
		}
		added := 0
		for _, r := range opts.Recipients {
			key, _ := team.ParseRecipient(r.PublicKey) // checked when the flag was read
			if slices.ContainsFunc(had, func(h team.Recipient) bool { return h.Name == r.Name && h.PublicKey == key.String() }) {
				fmt.Fprintf(opts.IO.ErrOut, "Recipient %s (%s) was already in the team.\n", r.Name, r.PublicKey)
				continue
			}
			fmt.Fprintf(opts.IO.ErrOut, "Added recipient %s (%s).\n", r.Name, r.PublicKey)
			added++
		}
		if added > 0 { // nothing new to commit when every recipient was there
			printPinned(opts.IO.ErrOut, s)
		}
	}
	return nil
}
