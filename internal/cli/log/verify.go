package log

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/team"
)

// VerifyOptions is what `log verify` needs.
type VerifyOptions struct {
	IO     *iostreams.IOStreams
	Output func() cmdutil.OutputFormat
	Dir    func() (string, error) // the audit log folder
	// TeamLog opens the team store whose audit table to verify, or returns nil when the state
	// is local. Nil in tests of the file log.
	TeamLog TeamLogFunc

	Profile string // an explicit --profile: its state backend decides
	Anchors []string
	Local   bool // --local: this host's file even in team mode
}

// NewCmdVerify returns `log verify`.
func NewCmdVerify(f *cmdutil.Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{
		IO: f.IOStreams, Dir: auditlog.DefaultDir,
		Output: func() cmdutil.OutputFormat { return f.Output },
		TeamLog: func(ctx context.Context, profile string) (*team.Store, func(), error) {
			return openTeamLog(ctx, f, profile)
		},
	}
	cmd := &cobra.Command{
		Use:   "verify [--anchor SEQ:HASH]...",
		Short: "Check the audit log's hash chain and head checkpoint (exit 1 if tampered)",
		Long: `Check that every line of the audit log is an entry, that the entries are numbered
1, 2, 3... without a gap, that each records the hash of the one before, and that the
last one is the one the head checkpoint (audit.head) names. This finds an edited,
deleted, reordered or inserted line, and lines cut off the end.

On success it prints the head as SEQ:HASH. Someone who can rewrite both the log and
audit.head can forge a consistent log; record the head somewhere they cannot write (a
CI log, a ticket) and pass it back later with --anchor, which checks that the log still
holds that entry, unchanged.

Exits 1 with the first problem and its line when the log was tampered with, 0 when it
verifies. A state folder without a log verifies, with 0 entries.

In team mode (a postgres state backend, or WAASCTL_STATE_DSN; see docs/team.md) it checks
the team store's table the same way, from any host. The table has no head checkpoint apart
from itself, so entries cut off its end are found only with --anchor: in team mode, keep
each printed head where the database's writers cannot change it, and pass it back. --local
checks this host's own file instead.`,
		Example: `  waasctl log verify
  waasctl log verify --anchor 42:3f1c...e9 -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			chosen, err := cmdutil.ChosenProfiles(cmd, nil)
			if err != nil {
				return err
			}
			if len(chosen) == 1 {
				opts.Profile = chosen[0]
			}
			if _, err := opts.anchors(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Anchors, "anchor", nil, "A head printed by an earlier verify, as `SEQ:HASH`, that the log must still hold (repeatable)")
	cmd.Flags().BoolVar(&opts.Local, "local", false, "Check this host's audit log file even when the state backend is the team store")
	return cmd
}

// verifyColumns print a report with -o csv.
var verifyColumns = []cmdutil.Column[auditlog.Report]{
	{Header: "OK", Value: func(r auditlog.Report) string { return fmt.Sprint(r.OK) }},
	{Header: "ENTRIES", Value: func(r auditlog.Report) string { return fmt.Sprint(r.Entries) }},
	{Header: "HEAD", Value: func(r auditlog.Report) string { return headString(r.Head) }},
	{Header: "LINE", Value: func(r auditlog.Report) string {
		return problemField(r, func(p *auditlog.Problem) string { return fmt.Sprint(p.Line) })
	}},
	{Header: "KIND", Value: func(r auditlog.Report) string {
		return problemField(r, func(p *auditlog.Problem) string { return string(p.Kind) })
	}},
	{Header: "DETAIL", Value: func(r auditlog.Report) string {
		return problemField(r, func(p *auditlog.Problem) string { return p.Detail })
	}},
}

// anchors parses --anchor. The command calls it before anything else, so that a bad value is a
// usage error before the log is opened.
func (o *VerifyOptions) anchors() ([]auditlog.Checkpoint, error) {
	var anchors []auditlog.Checkpoint
	for _, a := range o.Anchors {
		cp, err := auditlog.ParseCheckpoint(a)
		if err != nil {
			return nil, cmdutil.FlagErrorf("--anchor: %v", err)
		}
		anchors = append(anchors, cp)
	}
	return anchors, nil
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	anchors, err := opts.anchors()
	if err != nil {
		return err
	}
	store, done, err := opts.TeamLog.teamStore(ctx, opts.Local, opts.Profile)
	if err != nil {
		return err
	}
	defer done()
	if store != nil {
		return verifyTeam(ctx, opts, store, anchors)
	}
	dir, err := opts.Dir()
	if err != nil {
		return err
	}
	r, err := auditlog.Verify(dir, anchors...)
	if err != nil {
		return err
	}

	if cmdutil.HumanText(opts.Output()) {
		if r.OK {
			if err := printOK(opts.IO, r, len(anchors)); err != nil {
				return err
			}
		}
	} else if err := cmdutil.PrintObject(opts.IO, opts.Output(), r, verifyColumns); err != nil {
		return err
	}
	if r.OK {
		return nil
	}
	// The problem goes to stderr in every format, so that a CI log shows it beside -o json.
	return cmdutil.ExitErrorf(cmdutil.ExitFailure, "audit log TAMPERED%s; keep %s and %s in %s as evidence",
		where(r.Problem), auditlog.FileName, auditlog.HeadName, dir)
}

// verifyTeam checks the team store's audit table: the file log's checks, with the table's
// last row in the place of audit.head.
func verifyTeam(ctx context.Context, opts *VerifyOptions, store *team.Store, anchors []auditlog.Checkpoint) error {
	noteLocalLog(opts.IO, opts.Dir, store, "verifying", "verify")
	r, err := store.VerifyAudit(ctx, anchors...)
	if err != nil {
		return err
	}
	if cmdutil.HumanText(opts.Output()) {
		if r.OK {
			msg := fmt.Sprintf("team audit log OK: %d entries", r.Entries)
			switch n := len(anchors); {
			case n == 1:
				msg += ", anchor matches"
			case n > 1:
				msg += fmt.Sprintf(", all %d anchors match", n)
			}
			msg += " (" + store.String() + ")\n"
			if r.Head != nil && r.Head.Seq > 0 {
				msg += "head: " + headString(r.Head) + "\n"
			}
			if _, err := fmt.Fprint(opts.IO.Out, msg); err != nil {
				return err
			}
		}
	} else if err := cmdutil.PrintObject(opts.IO, opts.Output(), r, verifyColumns); err != nil {
		return err
	}
	if r.OK {
		if len(anchors) == 0 && r.Entries > 0 {
			fmt.Fprintln(opts.IO.ErrOut, "note: the team store's log has no head checkpoint apart from the table itself: entries cut off its end are found only with --anchor; keep the head above where the database's writers cannot change it (a CI log, a ticket) and pass it back with --anchor")
		}
		return nil
	}
	return cmdutil.ExitErrorf(cmdutil.ExitFailure, "team audit log TAMPERED%s (line N is the table's Nth row by seq); keep a dump of the schema as evidence: pg_dump --schema=waasctl", where(r.Problem))
}

func printOK(ios *iostreams.IOStreams, r auditlog.Report, anchors int) error {
	var msg string
	switch {
	case r.Entries == 0:
		msg = "audit log OK: 0 entries (nothing logged yet)\n"
	default:
		msg = fmt.Sprintf("audit log OK: %d entries, head matches", r.Entries)
		if r.Note != "" {
			msg = fmt.Sprintf("audit log OK: %d entries", r.Entries)
		}
		switch {
		case anchors == 1:
			msg += ", anchor matches"
		case anchors > 1:
			msg += fmt.Sprintf(", all %d anchors match", anchors)
		}
		// The head on a line of its own, so that a CI job can keep it and pass it to --anchor;
		// none yet when the first append stopped before committing its entry.
		msg += "\n"
		if r.Head != nil {
			msg += "head: " + headString(r.Head) + "\n"
		}
	}
	if _, err := fmt.Fprint(ios.Out, msg); err != nil {
		return err
	}
	if r.Note != "" {
		fmt.Fprintf(ios.ErrOut, "note: %s\n", r.Note)
	}
	return nil
}

// where says "at line 17: broken chain: ..." or, for a problem with the head file itself,
// ": missing head: ...", to follow "audit log TAMPERED".
func where(p *auditlog.Problem) string {
	if p.Line == 0 {
		return ": " + p.String()
	}
	return " at " + p.String()
}

func headString(h *auditlog.Checkpoint) string {
	if h == nil {
		return ""
	}
	return h.String()
}

func problemField(r auditlog.Report, f func(*auditlog.Problem) string) string {
	if r.Problem == nil {
		return ""
	}
	return f(r.Problem)
}
