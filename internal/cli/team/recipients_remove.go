package team

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/team"
)

// RecipientsRemoveOptions is what `team recipients remove` needs.
type RecipientsRemoveOptions struct {
	IO          *iostreams.IOStreams
	TeamStore   func() (*team.Store, error)
	AgeIdentity func() (*team.Identity, error)
	// Repin records the new set of recipients in config.yaml (state.recipients).
	Repin    func(*team.Pins) error
	Prompter prompter.Prompter
	Name     string
	Yes      bool
}

// NewCmdRecipientsRemove returns `team recipients remove`.
func NewCmdRecipientsRemove(f *cmdutil.Factory, runF func(context.Context, *RecipientsRemoveOptions) error) *cobra.Command {
	opts := &RecipientsRemoveOptions{IO: f.IOStreams, TeamStore: f.TeamStore, AgeIdentity: f.AgeIdentity, Repin: cmdutil.TeamRepin(f), Prompter: f.Prompter}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a member from the team and re-encrypt every stored key without it",
		Long: `Remove a recipient and re-encrypt every stored key to the remaining recipients, in one
transaction: once it commits, nothing in the database can be read with the removed identity.
The member may have kept copies of the keys it could read, so those keys must be rotated:
the command names the profiles and the commands to run. The recipient's pin is removed from
config.yaml (commit that to the team's ops repository). Run it on a host that can read every
stored key and is not the one removed. A recipient the table lists but config.yaml does not
pin (someone wrote to the database) is removed the same way. Asks for confirmation on a
terminal; elsewhere --yes is required.`,
		Args: cmdutil.ExactArgs(1, "give the NAME of the recipient to remove"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := team.CheckRecipientName(args[0]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			opts.Name = args[0]
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("refusing to remove a recipient without confirmation: pass --yes (there is no terminal to ask on)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return recipientsRemoveRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

func recipientsRemoveRun(ctx context.Context, opts *RecipientsRemoveOptions) error {
	s, err := openStore(ctx, opts.TeamStore)
	if err != nil {
		return err
	}
	id, err := identityOrNil(opts.AgeIdentity)
	if err != nil {
		return err
	}
	if !opts.Yes {
		ok, err := opts.Prompter.Confirm(fmt.Sprintf("Remove %s from the team and re-encrypt every stored key without it?", opts.Name), false)
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ExitErrorf(cmdutil.ExitFailure, "nothing removed")
		}
	}
	rm, err := s.RemoveRecipient(ctx, opts.Name, id, opts.Repin)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed recipient %s (%s); re-encrypted %s to the remaining recipients.\n", rm.Recipient.Name, rm.Recipient.PublicKey, profilesKeys(rm.Reencrypted))
	printPinned(opts.IO.ErrOut, s)
	if len(rm.Exposed) == 0 {
		return nil
	}
	if len(rm.Exposed) == 1 {
		fmt.Fprintf(opts.IO.ErrOut, "%s could read the key of 1 profile and may have kept it: rotate it now:\n", rm.Recipient.Name)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "%s could read the keys of %d profiles and may have kept them: rotate each now:\n", rm.Recipient.Name, len(rm.Exposed))
	}
	for _, p := range rm.Exposed {
		fmt.Fprintf(opts.IO.ErrOut, "  waasctl keys rotate %s\n", p)
	}
	return nil
}

// profilesKeys is "1 profile's key" or "N profiles' keys".
func profilesKeys(n int) string {
	if n == 1 {
		return "1 profile's key"
	}
	return fmt.Sprintf("%d profiles' keys", n)
}
