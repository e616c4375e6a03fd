package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/waas"
)

// OperationsOptions is what `audit operations` needs.
type OperationsOptions struct {
	IO        *iostreams.IOStreams
	APIClient func() (*waas.Client, error)
	Config    func() (*config.Config, error)
	Output    func() cmdutil.OutputFormat
	Profile   func() string
	Now       func() time.Time

	Ledger      cmdutil.LedgerFlags
	Pool        string
	DeviceGroup string
	Watch       time.Duration
}

// NewCmdOperations returns `audit operations`.
func NewCmdOperations(f *cmdutil.Factory, runF func(context.Context, *OperationsOptions) error) *cobra.Command {
	opts := &OperationsOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config, Now: time.Now,
		Output:  func() cmdutil.OutputFormat { return f.Output },
		Profile: func() string { return f.Profile },
	}
	cmd := &cobra.Command{
		Use:   "operations [--pool P | --device-group G] [--ledger SOURCE] [--watch INTERVAL]",
		Short: "List pending MPC operations the middle tier's ledger does not know (signing spam)",
		Long: `List every pending MPC operation across all device groups (or one pool, or one group)
and compare it with the middle tier's ledger: an operation the ledger does not know was
started by someone else, e.g. with a leaked API key, and must not reach a user's device.
Each unknown operation is shown with its kind (from its metadata), device group, wallet
and pool; a summary goes to stderr.

The ledger is a PostgreSQL or SQLite database with a query returning operation names (or
bare IDs) and owners, or a CSV/JSONL file (see docs/reconciliation.md). Operations the
middle tier records while the audit runs are read again at the end and not reported.

--watch INTERVAL keeps checking every INTERVAL and prints only findings not printed
before, until interrupted (exit 130). The first round must succeed (a wrong ledger or key
exits at once); a later round that fails is reported on stderr and the next one runs as
planned. Under --watch, -o json and -o yaml print one JSON finding per line.

Exits 3 when any operation is unknown, 0 when none is, 1 when the ledger cannot be read
(nothing is reported then: a partial audit is never presented as complete).`,
		Example: `  waasctl audit operations --ledger 'postgres://app@db/ledger?sslmode=verify-full' \
    --ledger-query 'operation=SELECT mpc_operation_id, user_id FROM signing_requests'
  waasctl audit operations --pool pools/retail --ledger ledger.csv -o json
  waasctl audit operations --watch 30s -o jsonl   # feed a signing-spam filter`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := cmdutil.ResolveProfile(cmd, f, nil); err != nil {
				return err
			}
			if err := cmdutil.Exclusive(map[string]bool{"pool": opts.Pool != "", "device-group": opts.DeviceGroup != ""}); err != nil {
				return err
			}
			if opts.Pool != "" {
				opts.Pool = cmdutil.ResourceName("pools", opts.Pool)
			}
			if err := cmdutil.CheckName("--device-group", opts.DeviceGroup, cmdutil.DeviceGroupName); err != nil {
				return err
			}
			if cmd.Flags().Changed("watch") && opts.Watch < time.Second {
				return cmdutil.FlagErrorf("--watch %s: the interval must be at least 1s", opts.Watch)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return operationsRun(cmd.Context(), opts)
		},
	}
	opts.Ledger.AddFlags(cmd)
	cmd.Flags().StringVar(&opts.Pool, "pool", "", "Only operations of device groups in this `pool` (pools/ID or ID)")
	cmd.Flags().StringVar(&opts.DeviceGroup, "device-group", "", "Only operations of this device `group` (pools/P/deviceGroups/G)")
	cmd.Flags().DurationVar(&opts.Watch, "watch", 0, "Keep checking every `interval` (e.g. 30s) and print only new findings")
	return cmd
}

func operationsRun(ctx context.Context, opts *OperationsOptions) error {
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
	scope := reconcile.Scope{Pool: opts.Pool, DeviceGroup: opts.DeviceGroup}
	round := func() (*reconcile.OperationsReport, error) {
		l, err := reconcile.Open(ctx, spec)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		progress := cmdutil.NewProgress(opts.IO, "operations")
		defer progress.Finish()
		last := 0
		return reconcile.AuditOperations(ctx, c, l, scope, func(n int) { progress.Add(n - last); last = n })
	}
	rep, err := round()
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "interrupted; the audit is incomplete and nothing was reported")
		}
		return cmdutil.LedgerError(err)
	}
	if opts.Watch == 0 {
		if err := printOperations(opts, rep); err != nil {
			return err
		}
		fmt.Fprintln(opts.IO.ErrOut, operationsSummary(rep))
		if len(rep.Unknown) > 0 {
			return cmdutil.SilentExit(cmdutil.ExitFindings)
		}
		return nil
	}
	return watchOperations(ctx, opts, rep, round)
}

// watchOperations prints the first round's findings, then each later
// round's new ones, until ctx ends.
func watchOperations(ctx context.Context, opts *OperationsOptions, first *reconcile.OperationsReport, round func() (*reconcile.OperationsReport, error)) error {
	format := opts.Output().Resolve(opts.IO)
	if format == cmdutil.OutputJSON || format == cmdutil.OutputYAML {
		format = cmdutil.OutputJSONL // one document per finding, as they come
	}
	// printed holds the unknown operations printed that are still pending:
	// a completed operation never comes back, so memory follows what is
	// pending now, not everything ever seen.
	printed := map[string]bool{}
	total := 0
	report := func(rep *reconcile.OperationsReport) error {
		var fresh []reconcile.UnknownOperation
		still := make(map[string]bool, len(rep.Unknown))
		for _, u := range rep.Unknown {
			if !printed[u.Operation] {
				fresh = append(fresh, u)
			}
			still[u.Operation] = true
		}
		printed = still
		total += len(fresh)
		stamp := opts.Now().Format(time.TimeOnly)
		fmt.Fprintf(opts.IO.ErrOut, "%s %s; %d new\n", stamp, operationsSummary(rep), len(fresh))
		if len(fresh) == 0 {
			return nil
		}
		return printUnknownOperations(opts.IO, format, fresh)
	}
	if err := report(first); err != nil {
		return err
	}
	tick := time.NewTicker(opts.Watch)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return cmdutil.ExitErrorf(cmdutil.ExitInterrupted, "watch ended: %d unknown operations reported", total)
		case <-tick.C:
		}
		rep, err := round()
		if err != nil {
			if ctx.Err() != nil {
				continue // reported at the top of the loop
			}
			fmt.Fprintf(opts.IO.ErrOut, "%s round failed: %v; next try in %s\n", opts.Now().Format(time.TimeOnly), cmdutil.LedgerError(err), opts.Watch)
			continue
		}
		if err := report(rep); err != nil {
			return err
		}
	}
}

func operationsSummary(r *reconcile.OperationsReport) string {
	return fmt.Sprintf("%s in %s (%s): %d known, %d unknown; ledger %s with %s",
		cmdutil.Count(r.Pending, "pending operation", "pending operations"), cmdutil.Count(r.DeviceGroups, "device group", "device groups"),
		r.Scope, r.Known, len(r.Unknown), r.Ledger, cmdutil.Count(r.LedgerEntries[reconcile.Operation], "operation", "operations"))
}

func printOperations(opts *OperationsOptions, r *reconcile.OperationsReport) error {
	switch format := opts.Output().Resolve(opts.IO); format {
	case cmdutil.OutputJSON, cmdutil.OutputYAML:
		return cmdutil.PrintObject(opts.IO, format, r, nil)
	default:
		return printUnknownOperations(opts.IO, format, r.Unknown)
	}
}

func printUnknownOperations(ios *iostreams.IOStreams, format cmdutil.OutputFormat, ops []reconcile.UnknownOperation) error {
	return cmdutil.PrintList(ios, format, ops, []cmdutil.Column[reconcile.UnknownOperation]{
		{Header: "OPERATION", Value: func(u reconcile.UnknownOperation) string { return u.Operation }},
		{Header: "KIND", Value: func(u reconcile.UnknownOperation) string { return u.Kind }},
		{Header: "DEVICE GROUP", Value: func(u reconcile.UnknownOperation) string { return u.DeviceGroup }},
		{Header: "WALLET", Value: func(u reconcile.UnknownOperation) string { return u.Wallet }},
		{Header: "POOL", Value: func(u reconcile.UnknownOperation) string { return u.Pool }},
		{Header: "GROUP IN LEDGER", Value: func(u reconcile.UnknownOperation) string {
			if u.DeviceGroupInLedger == nil {
				return "-"
			}
			return strconv.FormatBool(*u.DeviceGroupInLedger)
		}},
	})
}
