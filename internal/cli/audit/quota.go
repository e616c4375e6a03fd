package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/waas"
)

// QuotaOptions is what `audit quota` needs.
type QuotaOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Config    func() (*config.Config, error)
	Output    func() cmdutil.OutputFormat
	Profile   func() string
	StateDir  func() (string, error)

	Limits string
	WarnAt string
	Since  string
	NoSave bool
}

// NewCmdQuota returns `audit quota`.
func NewCmdQuota(f *cmdutil.Factory, runF func(context.Context, *QuotaOptions) error) *cobra.Command {
	opts := &QuotaOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config, StateDir: config.StateDir,
		Output:  func() cmdutil.OutputFormat { return f.Output },
		Profile: func() string { return f.Profile },
	}
	cmd := &cobra.Command{
		Use:   "quota [--limit KIND=N,...] [--warn-at PERCENT] [--since SNAPSHOT]",
		Short: "Count pools, wallets, device groups and addresses against limits",
		Long: `Count what the estate holds (WaaS has no usage API, so this enumerates: pools, the
wallets of each, their device groups, and the addresses on every network), compare the
totals with limits, and show the growth since the last census: a leaked key creating
wallets shows up here. On a terminal the counts of each pool follow the totals; -o json
carries them too.

Limits come from the profile's quota in the config file, overridden by --limit. KIND is
one of pools, wallets, device_groups, addresses. Each run saves its census in the state
folder; the next run compares with the latest one for the same endpoint and organization,
or with the one --since names.

Exits 3 when any count reaches --warn-at percent of its limit (or the limit itself),
0 otherwise, so it can gate a CI pipeline; -o json gives the counts to tools.`,
		Example: `  waasctl audit quota --limit wallets=10000,pools=20 --warn-at 80%
  waasctl audit quota -o json --no-save`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := cmdutil.ResolveProfile(cmd, f, nil); err != nil {
				return err
			}
			if _, _, err := opts.parseFlags(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return quotaRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Limits, "limit", "", "Limits as `KIND=N,...`, e.g. wallets=10000,pools=20")
	cmd.Flags().StringVar(&opts.WarnAt, "warn-at", "80%", "Warn (and exit 3) at this `percent` of a limit")
	cmd.Flags().StringVar(&opts.Since, "since", "", "Compare with this saved census `file` instead of the latest")
	cmd.Flags().BoolVar(&opts.NoSave, "no-save", false, "Do not save this census")
	return cmd
}

// QuotaReport is the -o json output.
type QuotaReport struct {
	*inventory.Counts
	Usage      []inventory.Usage     `json:"usage"`
	WarnAt     float64               `json:"warnAtPercent"`
	Since      *SinceRef             `json:"since,omitempty"`
	PoolGrowth []inventory.PoolDelta `json:"poolGrowth,omitempty"`
	Crossed    bool                  `json:"crossed"`
	Saved      string                `json:"saved,omitempty"`
}

// SinceRef names the census a report compares with.
type SinceRef struct {
	Path string    `json:"path"`
	Time time.Time `json:"time"`
}

func (o *QuotaOptions) limits() (inventory.Limits, float64, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, 0, err
	}
	limits := inventory.ConfigLimits(cfg.Profiles[o.Profile()].Quota)
	flagLimits, warnAt, err := o.parseFlags()
	if err != nil {
		return nil, 0, err
	}
	for k, v := range flagLimits {
		limits[k] = v
	}
	return limits, warnAt, nil
}

// parseFlags reads --limit and --warn-at; the command calls it before anything else, so that a
// bad value is a usage error before any request.
func (o *QuotaOptions) parseFlags() (inventory.Limits, float64, error) {
	limits, err := inventory.ParseLimits(o.Limits)
	if err != nil {
		return nil, 0, cmdutil.FlagErrorf("--limit: %v", err)
	}
	warnAt, err := inventory.ParsePercent(o.WarnAt)
	if err != nil {
		return nil, 0, cmdutil.FlagErrorf("--warn-at: %v", err)
	}
	return limits, warnAt, nil
}

func quotaRun(ctx context.Context, opts *QuotaOptions) error {
	limits, warnAt, err := opts.limits()
	if err != nil {
		return err
	}
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	stateDir, err := opts.StateDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(stateDir, "quota")

	var earlier *inventory.Counts
	var earlierPath string
	if opts.Since != "" {
		if earlier, err = inventory.LoadCounts(ctx, opts.Since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		earlierPath = opts.Since
	} else if earlier, earlierPath, err = inventory.LatestCounts(dir, opts.Profile(), c.Endpoint(), c.Organization()); err != nil {
		return err
	}

	progress := cmdutil.NewProgress(opts.IO, "resources counted")
	counts, err := inventory.Count(ctx, c, func(int) { progress.Add(1) })
	progress.Finish()
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted while counting; nothing was saved")
		}
		return cmdutil.APIError(err)
	}
	counts.Profile, counts.Endpoint, counts.Org = opts.Profile(), c.Endpoint(), c.Organization()

	report := QuotaReport{Counts: counts, Usage: inventory.Evaluate(counts, limits, warnAt, earlier), WarnAt: warnAt, PoolGrowth: inventory.PoolGrowth(counts, earlier)}
	if earlier != nil {
		report.Since = &SinceRef{Path: earlierPath, Time: earlier.Time}
	}
	for _, u := range report.Usage {
		report.Crossed = report.Crossed || u.Crossed()
	}
	if !opts.NoSave {
		if report.Saved, err = inventory.SaveCounts(dir, opts.Profile(), counts); err != nil {
			return fmt.Errorf("saving the census: %w", err)
		}
	}
	if err := printQuota(opts, report); err != nil {
		return err
	}
	if report.Crossed {
		for _, u := range report.Usage {
			if u.Crossed() {
				fmt.Fprintf(opts.IO.ErrOut, "quota: %s %s: %d of %d (%.1f%%; warn at %s%%)\n", u.Resource, u.Status, u.Count, u.Limit, *u.Percent, strconv.FormatFloat(warnAt, 'f', -1, 64))
			}
		}
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	}
	return nil
}

func printQuota(opts *QuotaOptions, r QuotaReport) error {
	format := opts.Output().Resolve(opts.IO)
	switch format {
	case cmdutil.OutputJSON, cmdutil.OutputYAML, cmdutil.OutputJSONL:
		return cmdutil.PrintObject(opts.IO, format, r, nil)
	}
	cols := []cmdutil.Column[inventory.Usage]{
		{Header: "RESOURCE", Value: func(u inventory.Usage) string { return u.Resource }},
		{Header: "COUNT", Value: func(u inventory.Usage) string { return strconv.Itoa(u.Count) }},
		{Header: "LIMIT", Value: func(u inventory.Usage) string { return orDash(u.Limit > 0, strconv.Itoa(u.Limit)) }},
		{Header: "USED", Field: "percent", Value: func(u inventory.Usage) string {
			return orDash(u.Percent != nil, func() string { return fmt.Sprintf("%.1f%%", derefOr(u.Percent)) }())
		}},
		{Header: "STATUS", Value: func(u inventory.Usage) string { return u.Status }},
	}
	// GROWTH is there on every run for TSV and CSV, so that their columns do not change after the
	// first run (empty without a census to compare with); the table shows it only when it has it.
	cols = append(cols, cmdutil.Column[inventory.Usage]{Header: "GROWTH", Hidden: r.Since == nil, Value: func(u inventory.Usage) string {
		if u.Growth == nil {
			return ""
		}
		return fmt.Sprintf("%+d", *u.Growth)
	}})
	if err := cmdutil.PrintList(opts.IO, format, r.Usage, cols); err != nil {
		return err
	}
	if format != cmdutil.OutputTable {
		return nil
	}
	out := opts.IO.Out
	fmt.Fprintln(out)
	if err := cmdutil.PrintList(opts.IO, format, r.PerPool, []cmdutil.Column[inventory.PoolCounts]{
		{Header: "POOL", Value: func(p inventory.PoolCounts) string { return p.Pool }},
		{Header: "DISPLAY NAME", Value: func(p inventory.PoolCounts) string { return p.DisplayName }},
		{Header: "WALLETS", Value: func(p inventory.PoolCounts) string { return strconv.Itoa(p.Wallets) }},
		{Header: "DEVICE GROUPS", Value: func(p inventory.PoolCounts) string { return strconv.Itoa(p.DeviceGroups) }},
		{Header: "ADDRESSES", Value: func(p inventory.PoolCounts) string { return strconv.Itoa(p.Addresses) }},
	}); err != nil {
		return err
	}
	if r.Since != nil {
		fmt.Fprintf(out, "\nGrowth since the census of %s (%s):\n", cmdutil.ClockTime(r.Since.Time, time.Local), r.Since.Path)
		if len(r.PoolGrowth) == 0 {
			fmt.Fprintln(out, "  none")
		}
		for _, d := range r.PoolGrowth {
			tag := ""
			if d.New {
				tag = " (new pool)"
			}
			fmt.Fprintf(out, "  %s%s: %+d wallets, %+d device groups, %+d addresses\n", d.Pool, tag, d.Wallets, d.DeviceGroups, d.Addresses)
		}
	} else {
		fmt.Fprintln(out, "\nNo earlier census to compare with; this one is the baseline.")
	}
	if r.Saved != "" {
		fmt.Fprintf(opts.IO.ErrOut, "census saved to %s\n", r.Saved)
	}
	return nil
}

func orDash(ok bool, s string) string {
	if !ok {
		return "-"
	}
	return s
}

func derefOr(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
