package cmdutil

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/reconcile"
)

// LedgerFlags are the --ledger and --ledger-query flags of the commands
// that reconcile WaaS with the middle tier's ledger. They override the
// profile's ledger in the config file.
type LedgerFlags struct {
	Source  string
	Queries []string
}

// AddFlags declares the flags on cmd.
func (l *LedgerFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.Source, "ledger", "", "The middle tier's ledger: a postgres:// URL, sqlite:`PATH`, or a .csv/.jsonl file (default: the profile's ledger.dsn)")
	cmd.Flags().StringArrayVar(&l.Queries, "ledger-query", nil, "SQL returning names (and owners) of one kind, as `KIND=SQL` with KIND operation, wallet or device_group; repeatable")
}

// Spec merges the flags with the profile's ledger config.
func (l *LedgerFlags) Spec(cfg *config.Config, profile string) (reconcile.Spec, error) {
	spec := reconcile.Spec{Queries: map[reconcile.Kind]string{}}
	if p, ok := cfg.Profiles[profile]; ok && p.Ledger != nil {
		spec.Source = p.Ledger.DSN
		for k, q := range map[reconcile.Kind]string{
			reconcile.Operation: p.Ledger.OperationsQuery, reconcile.Wallet: p.Ledger.WalletsQuery, reconcile.DeviceGroup: p.Ledger.DeviceGroupsQuery,
		} {
			if strings.TrimSpace(q) != "" {
				spec.Queries[k] = q
			}
		}
	}
	if l.Source != "" {
		if spec.Source != l.Source {
			spec.Queries = map[reconcile.Kind]string{} // the config's queries are for the config's database
		}
		spec.Source = l.Source
	}
	for _, kq := range l.Queries {
		k, q, ok := strings.Cut(kq, "=")
		kind, known := reconcile.ParseKind(k)
		if !ok || !known || strings.TrimSpace(q) == "" {
			return spec, FlagErrorf("--ledger-query %q: want KIND=SQL with KIND operation, wallet or device_group", kq)
		}
		spec.Queries[kind] = q
	}
	if spec.Source == "" {
		return spec, FlagErrorf("no ledger: pass --ledger (a postgres:// URL, sqlite:PATH, or a .csv/.jsonl file) or set ledger.dsn in profile %q (see docs/reconciliation.md)", profile)
	}
	return spec, nil
}

// LedgerError gives reconcile errors their exit code: a ledger that cannot
// be read is exit 1 with its message; an API failure maps as APIError.
func LedgerError(err error) error {
	var le *reconcile.LedgerError
	if errors.As(err, &le) {
		return err
	}
	return APIError(err)
}
