package log

import (
	"context"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// ShowOptions is what `log show` needs.
type ShowOptions struct {
	IO     *iostreams.IOStreams
	Output func() cmdutil.OutputFormat
	Dir    func() (string, error) // the audit log folder
	Now    func() time.Time
	// TeamLog opens the team store whose audit table holds profile's entries ("" for every
	// profile), or returns nil when the state is local. Nil in tests of the file log.
	TeamLog TeamLogFunc

	Profile string
	Since   string
	Limit   int
	Local   bool // --local: this host's file even in team mode
}

// NewCmdShow returns `log show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{
		IO: f.IOStreams, Dir: auditlog.DefaultDir, Now: time.Now,
		Output: func() cmdutil.OutputFormat { return f.Output },
		TeamLog: func(ctx context.Context, profile string) (*team.Store, func(), error) {
			return openTeamLog(ctx, f, profile)
		},
	}
	var forProfile string
	cmd := &cobra.Command{
		Use:   "show [--for-profile P] [--since DURATION|TIME] [--limit N]",
		Short: "Print the audit log, oldest entry first",
		Long: `Print the entries of the audit log, oldest first. The table shows short key
fingerprints and the detail (the reason given for a revocation, what failed); -o json,
jsonl or yaml print every field, including the hash chain.

Every profile's entries are shown unless --for-profile, --profile or WAASCTL_PROFILE
names one (--for-profile and an explicit --profile that differ are a usage error).

show reads the log as it is; it does not check it. Run 'waasctl log verify' for that.

In team mode (a postgres state backend, or WAASCTL_STATE_DSN; see docs/team.md) the log is
the team store's table, which every host of the team appends to: the same entries from any
host, each naming the host (and its age identity) that appended it. --local reads this
host's own file instead; without it, a note on stderr says when that file exists too.`,
		Example: `  waasctl log show --since 7d
  waasctl log show --for-profile prod --limit 20
  waasctl log show -o jsonl | jq 'select(.outcome != "ok")'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var named []string
			if forProfile != "" {
				named = []string{forProfile}
			}
			chosen, err := cmdutil.ChosenProfiles(cmd, named)
			if err != nil {
				return err
			}
			opts.Profile = ""
			if len(chosen) == 1 {
				opts.Profile = chosen[0]
			}
			if _, err := opts.checkedSince(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	// Besides the global --profile, which names the profile only when given explicitly (or by
	// WAASCTL_PROFILE): every profile is the useful default here.
	cmd.Flags().StringVar(&forProfile, "for-profile", "", "Only entries about this `profile` (as --profile does)")
	cmd.Flags().StringVar(&opts.Since, "since", "", "Only entries from the last `DURATION` (24h, 7d) or from a TIME on (2026-03-01, 2026-03-01T12:00:00Z)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "Only the `N` most recent of the matching entries (0: all)")
	cmd.Flags().BoolVar(&opts.Local, "local", false, "Read this host's audit log file even when the state backend is the team store")
	return cmd
}

// Columns is how an entry prints in tables, TSV and CSV.
var Columns = []cmdutil.Column[auditlog.Entry]{
	{Header: "SEQ", Value: func(e auditlog.Entry) string { return strconv.FormatUint(e.Seq, 10) }},
	{Header: "TIME", Value: func(e auditlog.Entry) string { return e.Time.UTC().Format(time.RFC3339) }},
	{Header: "WHO@HOST", Value: func(e auditlog.Entry) string { return e.Who + "@" + e.Host }},
	{Header: "COMMAND", Value: func(e auditlog.Entry) string { return e.Command }},
	{Header: "PROFILE", Value: func(e auditlog.Entry) string { return orDash(e.Profile) }},
	{Header: "ACTION", Value: func(e auditlog.Entry) string { return e.Action }},
	{Header: "KEYS", Value: keys},
	{Header: "OUTCOME", Value: func(e auditlog.Entry) string { return e.Outcome }},
	// The reason an operator gave, or what failed: on one line, whatever the log holds.
	{Header: "DETAIL", Value: func(e auditlog.Entry) string { return orDash(textsafe.Line(e.Detail)) }},
}

// keys shows an entry's keys by short fingerprint, or by name when it recorded none.
func keys(e auditlog.Entry) string {
	if len(e.Fingerprints) == 0 {
		return orDash(strings.Join(e.KeyNames, ","))
	}
	short := make([]string, len(e.Fingerprints))
	for i, fp := range e.Fingerprints {
		short[i] = credentials.ShortFingerprint(fp)
	}
	return strings.Join(short, ",")
}

// checkedSince checks --limit and returns the time --since names (zero for none). The command
// calls it before anything else, so that a bad value is a usage error before the log is opened.
func (o *ShowOptions) checkedSince() (time.Time, error) {
	if o.Limit < 0 {
		return time.Time{}, cmdutil.FlagErrorf("--limit must not be negative (0 shows every entry)")
	}
	return parseSince(o.Since, o.Now())
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	since, err := opts.checkedSince()
	if err != nil {
		return err
	}
	var all iter.Seq2[auditlog.Entry, error]
	store, done, err := opts.TeamLog.teamStore(ctx, opts.Local, opts.Profile)
	if err != nil {
		return err
	}
	defer done()
	if store != nil {
		noteLocalLog(opts.IO, opts.Dir, store, "showing", "show")
		all = store.AuditEntries(ctx)
	} else {
		dir, err := opts.Dir()
		if err != nil {
			return err
		}
		all = auditlog.Read(dir)
	}
	entries := filter(all, func(e auditlog.Entry) bool {
		return (opts.Profile == "" || e.Profile == opts.Profile) && !e.Time.Before(since)
	})
	if opts.Limit > 0 {
		entries = last(entries, opts.Limit)
	}
	run := cmdutil.ListRun[auditlog.Entry]{IO: opts.IO, Format: opts.Output(), Columns: Columns, Noun: "audit log entries"}
	return cmdutil.StreamList(ctx, run, entries)
}

// parseSince reads --since: a duration back from now, or a time; "" is the beginning.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := config.ParseAge(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, cmdutil.FlagErrorf("--since %s: want a duration such as 24h or 7d, or a time such as 2026-03-01 or 2026-03-01T12:00:00Z", textsafe.Value(s))
}

// filter yields the entries of seq that keep accepts, and any error.
func filter(seq iter.Seq2[auditlog.Entry, error], keep func(auditlog.Entry) bool) iter.Seq2[auditlog.Entry, error] {
	return func(yield func(auditlog.Entry, error) bool) {
		for e, err := range seq {
			if err == nil && !keep(e) {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// last yields the n last entries of seq. It has to read to the end before yielding, holding
// n entries; an error is yielded after the entries read before it.
func last(seq iter.Seq2[auditlog.Entry, error], n int) iter.Seq2[auditlog.Entry, error] {
	return func(yield func(auditlog.Entry, error) bool) {
		ring := make([]auditlog.Entry, 0, min(n, 1024))
		start := 0 // index of the oldest entry once the ring is full
		var readErr error
		for e, err := range seq {
			if err != nil {
				readErr = err
				break
			}
			if len(ring) < n {
				ring = append(ring, e)
				continue
			}
			ring[start] = e
			start = (start + 1) % n
		}
		for i := range ring {
			if !yield(ring[(start+i)%len(ring)], nil) {
				return
			}
		}
		if readErr != nil {
			yield(auditlog.Entry{}, readErr)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
