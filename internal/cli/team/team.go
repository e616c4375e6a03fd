// Package team holds the `waasctl team` commands: the team store that shares keys and rotation
// state across hosts (internal/team, docs/team.md).
package team

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/team"
)

// NewCmdTeam returns the team command group.
func NewCmdTeam(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team <command>",
		Short: "Share keys and rotation state across hosts in PostgreSQL (team mode)",
		Long: `Team mode keeps every profile's keys, encrypted with age to each member of the team,
and the state of rotations in a PostgreSQL database that every host of the team (operators'
laptops, CI jobs, the middle tier) reaches. Each host has its own age identity; its private
half stays in the host's keyring (or, for a CI job, in WAASCTL_AGE_IDENTITY).

Configure the database in config.yaml ('state: {backend: postgres, dsn: ...}', at the top
level or per profile) or with WAASCTL_STATE_DSN, which wins. Its password is never printed.
See docs/team.md for the model, the threat model and the setup from zero.`,
	}
	cmd.AddCommand(NewCmdInit(f, nil), newCmdIdentity(f), newCmdRecipients(f), NewCmdStatus(f, nil))
	return cmd
}

func newCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity <command>",
		Short: "Manage this host's age identity",
	}
	cmd.AddCommand(NewCmdIdentityNew(f, nil))
	return cmd
}

func newCmdRecipients(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipients <command>",
		Short: "Manage the team's age recipients: who can read the stored keys",
	}
	cmd.AddCommand(NewCmdRecipientsAdd(f, nil), NewCmdRecipientsRemove(f, nil), NewCmdRecipientsList(f, nil))
	return cmd
}

// openStore opens the team store and checks its schema.
func openStore(ctx context.Context, open func() (*team.Store, error)) (*team.Store, error) {
	if open == nil {
		return nil, cmdutil.ErrNoTeamStore
	}
	s, err := open()
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// identityOrNil is this host's identity, nil when it has none.
func identityOrNil(load func() (*team.Identity, error)) (*team.Identity, error) {
	if load == nil {
		return nil, nil
	}
	id, err := load()
	if errors.Is(err, team.ErrNoIdentity) {
		return nil, nil
	}
	return id, err
}

// printPinned tells the operator where the new pins are and that every host needs them.
func printPinned(w io.Writer, s *team.Store) {
	if s.Pins == nil {
		return
	}
	fmt.Fprintf(w, "Pinned the recipients in %s: commit it to the team's ops repository; a host whose config.yaml lacks these pins neither reads nor writes the keys.\n", s.Pins.Where)
}
