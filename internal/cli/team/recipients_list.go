package team

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
)

// RecipientsListOptions is what `team recipients list` needs.
type RecipientsListOptions struct {
	IO        *iostreams.IOStreams
	TeamStore func() (*team.Store, error)
	Output    func() cmdutil.OutputFormat
}

// NewCmdRecipientsList returns `team recipients list`.
func NewCmdRecipientsList(f *cmdutil.Factory, runF func(context.Context, *RecipientsListOptions) error) *cobra.Command {
	opts := &RecipientsListOptions{IO: f.IOStreams, TeamStore: f.TeamStore, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the team's recipients",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return recipientsListRun(cmd.Context(), opts)
		},
	}
}

func recipientsListRun(ctx context.Context, opts *RecipientsListOptions) error {
	s, err := openStore(ctx, opts.TeamStore)
	if err != nil {
		return err
	}
	rs, err := s.Recipients(ctx)
	if err != nil {
		return err
	}
	return cmdutil.PrintList(opts.IO, opts.Output(), rs, []cmdutil.Column[team.Recipient]{
		{Header: "NAME", Value: func(r team.Recipient) string { return r.Name }},
		{Header: "PUBLIC KEY", Value: func(r team.Recipient) string { return r.PublicKey }},
		{Header: "ADDED", Value: func(r team.Recipient) string { return r.AddedAt.UTC().Format(time.DateTime) + " UTC" }},
		{Header: "ADDED BY", Value: func(r team.Recipient) string { return r.AddedBy }},
	})
}
