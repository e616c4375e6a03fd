package team

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
)

// RecipientsAddOptions is what `team recipients add` needs.
type RecipientsAddOptions struct {
	IO          *iostreams.IOStreams
	TeamStore   func() (*team.Store, error)
	AgeIdentity func() (*team.Identity, error)
	// Repin records the new set of recipients in config.yaml (state.recipients).
	Repin     func(*team.Pins) error
	Recipient team.Recipient
}

// NewCmdRecipientsAdd returns `team recipients add`.
func NewCmdRecipientsAdd(f *cmdutil.Factory, runF func(context.Context, *RecipientsAddOptions) error) *cobra.Command {
	opts := &RecipientsAddOptions{IO: f.IOStreams, TeamStore: f.TeamStore, AgeIdentity: f.AgeIdentity, Repin: cmdutil.TeamRepin(f)}
	return &cobra.Command{
		Use:   "add NAME age1...",
		Short: "Add a member (a person's host or a CI job) to the team",
		Long: `Add a recipient by the public key its 'waasctl team identity new' printed, and re-encrypt
every stored key to the team including it, in one transaction, and pin it in config.yaml
(state.recipients): commit that to the team's ops repository, since a host without the pin
neither writes nor reads the keys. Re-encrypting needs this host to read the stored keys: run
it on a host that is already a recipient.`,
		Args: cmdutil.ExactArgs(2, "give the recipient's NAME and its public key age1..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := team.CheckRecipientName(args[0]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if _, err := team.ParseRecipient(args[1]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			opts.Recipient = team.Recipient{Name: args[0], PublicKey: strings.TrimSpace(args[1])}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return recipientsAddRun(cmd.Context(), opts)
		},
	}
}

func recipientsAddRun(ctx context.Context, opts *RecipientsAddOptions) error {
	s, err := openStore(ctx, opts.TeamStore)
	if err != nil {
		return err
	}
	id, err := identityOrNil(opts.AgeIdentity)
	if err != nil {
		return err
	}
	if err := s.AddRecipients(ctx, []team.Recipient{opts.Recipient}, id, opts.Repin); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Added recipient %s (%s); every stored key is now encrypted to it too.\n", opts.Recipient.Name, opts.Recipient.PublicKey)
	printPinned(opts.IO.ErrOut, s)
	return nil
}
