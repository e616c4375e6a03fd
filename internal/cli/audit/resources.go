package audit

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/waas"
)

// ResourcesOptions is what `audit resources` needs.
type ResourcesOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Config    func() (*config.Config, error)
	Output    func() cmdutil.OutputFormat
	Profile   func() string

	Ledger cmdutil.LedgerFlags
	Pool   string
}

// NewCmdResources returns `audit resources`.
func NewCmdResources(f *cmdutil.Factory, runF func(context.Context, *ResourcesOptions) error) *cobra.Command {
	opts := &ResourcesOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config,
		Output:  func() cmdutil.OutputFormat { return f.Output },
		Profile: func() string { return f.Profile },
	}
	cmd := &cobra.Command{
		Use:   "resources [--pool P] [--ledger SOURCE]",
		Short: "Compare MPC wallets and device groups with the middle tier's ledger, both ways",
		Long: `List every MPC wallet (of every pool, or one) with its device group and compare both
with the middle tier's ledger, per pool:

  unknown  WaaS has it, the ledger does not: created by someone else (suspicious)
  missing  the ledger has it, WaaS does not (confirmed by a GET answering 404): an
           integrity problem, or a ledger pointing at another organization

WaaS cannot list device groups, only wallets and their groups: a device group without a
wallet is invisible here. A ledger group without a wallet is looked up before it is
called missing; a ledger entry stored as a bare ID is looked for in every pool in scope
(with --pool, one not in that pool is only counted: it may be in another).

The table shows the counts of each pool, then the findings; -o csv/tsv/jsonl print one
finding per row, -o json/yaml the whole report. Exits 3 on any finding, 1 when the ledger
cannot be read (and reports nothing).`,
		Example: `  waasctl audit resources --ledger ledger.csv
  waasctl audit resources --pool pools/retail -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := cmdutil.ResolveProfile(cmd, f, nil); err != nil {
				return err
			}
			if opts.Pool != "" {
				opts.Pool = cmdutil.ResourceName("pools", opts.Pool)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return resourcesRun(cmd.Context(), opts)
		},
	}
	opts.Ledger.AddFlags(cmd)
	cmd.Flags().StringVar(&opts.Pool, "pool", "", "Only this `pool` (pools/ID or ID)")
	return cmd
}

func resourcesRun(ctx context.Context, opts *ResourcesOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	spec, err := opts.Ledger.Spec(cfg, opts.Profile())
	if err != nil {
		return err
	}
	c, err := opts.APIClient()
	if err != nil {
		return err
	}
	l, err := reconcile.Open(ctx, spec)
	if err != nil {
		return err
	}
	defer l.Close()
	progress := cmdutil.NewProgress(opts.IO, "wallets")
	last := 0
	rep, err := reconcile.AuditResources(ctx, c, l, reconcile.Scope{Pool: opts.Pool}, func(n int) { progress.Add(n - last); last = n })
	progress.Finish()
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; the audit is incomplete and nothing was reported")
		}
		return cmdutil.LedgerError(err)
	}
	if err := printResources(opts, rep); err != nil {
		return err
	}
	t := rep.Totals
	wallets := func(n int, adj string) string { return cmdutil.Count(n, adj+"wallet", adj+"wallets") }
	groups := func(n int, adj string) string { return cmdutil.Count(n, adj+"device group", adj+"device groups") }
	fmt.Fprintf(opts.IO.ErrOut, "%s and %s (%s): %s, %s, %s, %s; ledger %s with %s, %s\n",
		wallets(t.Wallets, ""), groups(t.DeviceGroups, ""), rep.Scope,
		wallets(t.UnknownWallets, "unknown "), groups(t.UnknownDeviceGroups, "unknown "),
		wallets(t.MissingWallets, "missing "), groups(t.MissingDeviceGroups, "missing "),
		rep.Ledger, wallets(rep.LedgerEntries[reconcile.Wallet], ""), groups(rep.LedgerEntries[reconcile.DeviceGroup], ""))
	if rep.Unattributed > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "%d ledger entries are bare IDs not found in %s; audit every pool to check them\n", rep.Unattributed, rep.Scope)
	}
	if rep.Findings() > 0 {
		return cmdutil.SilentExit(cmdutil.ExitFindings)
	}
	return nil
}

// finding is one row of the flat -o csv/tsv/jsonl output.
type finding struct {
	Finding   string         `json:"finding"` // unknown | missing
	Kind      reconcile.Kind `json:"kind"`
	Name      string         `json:"name"`
	Pool      string         `json:"pool,omitempty"`
	Owner     string         `json:"owner,omitempty"`
	LedgerRow string         `json:"ledgerRow,omitempty"`
	Confirmed *bool          `json:"confirmed,omitempty"`
}

func findings(r *reconcile.ResourcesReport) []finding {
	var out []finding
	for _, u := range r.Unknown {
		out = append(out, finding{Finding: "unknown", Kind: u.Kind, Name: u.Name, Pool: u.Pool})
	}
	for _, m := range r.Missing {
		out = append(out, finding{Finding: "missing", Kind: m.Kind, Name: m.Name, Pool: m.Pool, Owner: m.Owner, LedgerRow: m.Where, Confirmed: &m.Confirmed})
	}
	return out
}

func printResources(opts *ResourcesOptions, r *reconcile.ResourcesReport) error {
	format := opts.Output().Resolve(opts.IO)
	switch format {
	case cmdutil.OutputJSON, cmdutil.OutputYAML:
		return cmdutil.PrintObject(opts.IO, format, r, nil)
	case cmdutil.OutputTable:
	default:
		return cmdutil.PrintList(opts.IO, format, findings(r), []cmdutil.Column[finding]{
			{Header: "FINDING", Value: func(f finding) string { return f.Finding }},
			{Header: "KIND", Value: func(f finding) string { return string(f.Kind) }},
			{Header: "NAME", Value: func(f finding) string { return f.Name }},
			{Header: "POOL", Value: func(f finding) string { return f.Pool }},
			{Header: "OWNER", Value: func(f finding) string { return f.Owner }},
			{Header: "LEDGER ROW", Value: func(f finding) string { return f.LedgerRow }},
			{Header: "CONFIRMED", Value: func(f finding) string {
				if f.Confirmed == nil {
					return ""
				}
				return map[bool]string{true: "404", false: "not checked"}[*f.Confirmed]
			}},
		})
	}
	itoa := strconv.Itoa
	rows := append(append([]reconcile.PoolSummary{}, r.Pools...), r.Totals)
	if err := cmdutil.PrintList(opts.IO, format, rows, []cmdutil.Column[reconcile.PoolSummary]{
		{Header: "POOL", Value: func(p reconcile.PoolSummary) string { return p.Pool }},
		{Header: "WALLETS", Value: func(p reconcile.PoolSummary) string { return itoa(p.Wallets) }},
		{Header: "DEVICE GROUPS", Value: func(p reconcile.PoolSummary) string { return itoa(p.DeviceGroups) }},
		{Header: "UNKNOWN WALLETS", Value: func(p reconcile.PoolSummary) string { return itoa(p.UnknownWallets) }},
		{Header: "UNKNOWN GROUPS", Value: func(p reconcile.PoolSummary) string { return itoa(p.UnknownDeviceGroups) }},
		{Header: "MISSING WALLETS", Value: func(p reconcile.PoolSummary) string { return itoa(p.MissingWallets) }},
		{Header: "MISSING GROUPS", Value: func(p reconcile.PoolSummary) string { return itoa(p.MissingDeviceGroups) }},
	}); err != nil {
		return err
	}
	out := opts.IO.Out
	if len(r.Unknown) > 0 {
		fmt.Fprintln(out, "\nIn WaaS, not in the ledger (created by someone else?):")
		if err := cmdutil.PrintList(opts.IO, format, r.Unknown, []cmdutil.Column[reconcile.UnknownResource]{
			{Header: "KIND", Value: func(u reconcile.UnknownResource) string { return string(u.Kind) }},
			{Header: "NAME", Value: func(u reconcile.UnknownResource) string { return u.Name }},
			{Header: "POOL", Value: func(u reconcile.UnknownResource) string { return u.Pool }},
		}); err != nil {
			return err
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintln(out, "\nIn the ledger, not in WaaS:")
		if err := cmdutil.PrintList(opts.IO, format, r.Missing, []cmdutil.Column[reconcile.MissingResource]{
			{Header: "KIND", Value: func(m reconcile.MissingResource) string { return string(m.Kind) }},
			{Header: "NAME", Value: func(m reconcile.MissingResource) string { return m.Name }},
			{Header: "OWNER", Value: func(m reconcile.MissingResource) string { return m.Owner }},
			{Header: "LEDGER ROW", Value: func(m reconcile.MissingResource) string { return m.Where }},
			{Header: "CONFIRMED", Value: func(m reconcile.MissingResource) string {
				if m.Confirmed {
					return "404"
				}
				return "not checked"
			}},
		}); err != nil {
			return err
		}
	}
	return nil
}
