package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// DiffOptions is what `inventory diff` needs.
type DiffOptions struct {
	IO     *iostreams.IOStreams
	Output func() cmdutil.OutputFormat
	A, B   string
}

// NewCmdDiff returns `inventory diff`.
func NewCmdDiff(f *cmdutil.Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: f.IOStreams, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show the resources added and removed between two snapshots",
		Long: `Verify two snapshots taken by 'waasctl inventory snapshot' and list, per kind, what B has
that A had not (added) and what A had that B has not (removed).

Exits 3 when anything was added, so a CI job can flag growth: a leaked API key shows up as
resources nobody meant to create. Exits 1 when a snapshot is corrupt (truncated, edited or
not a snapshot), naming the line; 2 when A was taken after B (swapped, the additions would
show as removed) or the two are of different estates (endpoint or organization); 0 otherwise.`,
		Example: `  waasctl inventory diff monday.jsonl tuesday.jsonl
  waasctl inventory diff -o json A.jsonl B.jsonl`,
		Args: cmdutil.ExactArgs(2, "inventory diff needs two snapshot files"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// change is one row of the table output.
type change struct{ Change, Kind, Name string }

func diffRun(ctx context.Context, opts *DiffOptions) error {
	fa, err := fsutil.Open(ctx, opts.A)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := fsutil.Open(ctx, opts.B)
	if err != nil {
		return err
	}
	defer fb.Close()
	d, err := inventory.DiffSnapshots(fa, fb)
	if err != nil {
		return fmt.Errorf("%s / %s: %w", opts.A, opts.B, err)
	}
	// Exit 0 says nothing was added. Two estates, or a pair in the wrong order (what a leaked
	// key made then shows as removed), would say it of resources nobody compared.
	if d.From.Endpoint != d.To.Endpoint || d.From.Organization != d.To.Organization {
		return cmdutil.FlagErrorf("%s is of %s, organization %s; %s is of %s, organization %s: diff two snapshots of one estate",
			opts.A, textsafe.Line(d.From.Endpoint), textsafe.Line(d.From.Organization), opts.B, textsafe.Line(d.To.Endpoint), textsafe.Line(d.To.Organization))
	}
	if d.From.Time.After(d.To.Time) {
		return cmdutil.FlagErrorf("%s (taken %s) is newer than %s (taken %s): give the older snapshot first",
			opts.A, d.From.Time.UTC().Format(time.RFC3339), opts.B, d.To.Time.UTC().Format(time.RFC3339))
	}
	format := opts.Output().Resolve(opts.IO)
	switch format {
	case cmdutil.OutputJSON, cmdutil.OutputYAML, cmdutil.OutputJSONL:
		if err := cmdutil.PrintObject(opts.IO, format, d, nil); err != nil {
			return err
		}
	default:
		p := cmdutil.NewListPrinter(opts.IO, format, []cmdutil.Column[change]{
			{Header: "CHANGE", Value: func(c change) string { return c.Change }},
			{Header: "KIND", Value: func(c change) string { return c.Kind }},
			{Header: "NAME", Value: func(c change) string { return c.Name }},
		})
		for _, k := range d.Kinds {
			for _, n := range k.Added {
				if err := p.Add(change{"added", k.Kind, n}); err != nil {
					return err
				}
			}
			for _, n := range k.Removed {
				if err := p.Add(change{"removed", k.Kind, n}); err != nil {
					return err
				}
			}
		}
		if err := p.Close(); err != nil {
			return err
		}
		for _, k := range d.Kinds {
			if len(k.Added)+len(k.Removed) > 0 {
				fmt.Fprintf(opts.IO.ErrOut, "%s: +%d -%d\n", k.Kind, len(k.Added), len(k.Removed))
			}
		}
	}
	if d.AnyAdded() {
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	}
	return nil
}
