package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/waasctl/waasctl/internal/nameset"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Scope limits an audit to one pool or one device group; the zero Scope
// is the whole estate.
type Scope struct {
	Pool        string // pools/P
	DeviceGroup string // pools/P/deviceGroups/G (operations audit only)
}

func (s Scope) String() string {
	switch {
	case s.DeviceGroup != "":
		return s.DeviceGroup
	case s.Pool != "":
		return s.Pool
	}
	return "all pools"
}

// Progress is told how far an audit got: resources looked at so far.
type Progress func(seen int)

// UnknownOperation is a pending MPC operation the ledger does not know.
type UnknownOperation struct {
	Operation   string `json:"operation"`
	Kind        string `json:"kind"` // CreateSignature, CreateDeviceGroup, ...
	DeviceGroup string `json:"deviceGroup"`
	Wallet      string `json:"wallet,omitempty"` // the group's first wallet; empty when audited by group
	Pool        string `json:"pool"`
	// DeviceGroupInLedger says whether the ledger knows the operation's
	// device group (nil when the ledger has no device groups): spam on a
	// real user's group, or activity in a group someone else made.
	DeviceGroupInLedger *bool `json:"deviceGroupInLedger,omitempty"`
}

// OperationsReport is the result of AuditOperations. It is only ever
// returned whole: an audit that fails part way returns an error instead.
type OperationsReport struct {
	Ledger        string             `json:"ledger"`
	Scope         string             `json:"scope"`
	LedgerEntries map[Kind]int       `json:"ledgerEntries"`
	DeviceGroups  int                `json:"deviceGroups"` // groups whose operations were listed
	Pending       int                `json:"pendingOperations"`
	Known         int                `json:"known"`
	Unknown       []UnknownOperation `json:"unknown"`
	// RecordedLate counts operations that were not in the ledger when the
	// audit started but were by the end: the middle tier recorded them
	// while the audit listed. They are not reported as unknown.
	RecordedLate int `json:"recordedLate"`
	IndexBytes   int `json:"-"`
}

// GroupOperations is the pending operations of one device group, as an
// audit consumes them: from the API or from a snapshot.
type GroupOperations struct {
	DeviceGroup string
	Wallet      string // the group's first wallet, if known
	Operations  []PendingOperation
}

// PendingOperation is one pending MPC operation.
type PendingOperation struct {
	Name string
	Kind string // CreateSignature, CreateDeviceGroup, ...
}

// LiveOperations lists the pending operations in scope through c: every
// device group of every wallet (or of one pool), or one group.
func LiveOperations(ctx context.Context, c *waas.Client, scope Scope) iter.Seq2[GroupOperations, error] {
	return func(yield func(GroupOperations, error) bool) {
		if scope.DeviceGroup != "" {
			r, err := c.ListMPCOperations(ctx, scope.DeviceGroup)
			if err != nil {
				yield(GroupOperations{}, err)
				return
			}
			yield(groupOps(scope.DeviceGroup, "", r.MPCOperations), nil)
			return
		}
		wallets := c.AllWallets(ctx)
		if scope.Pool != "" {
			wallets = c.Wallets(ctx, scope.Pool)
		}
		for g, err := range c.OperationsOf(ctx, wallets) {
			if err != nil {
				yield(GroupOperations{}, err)
				return
			}
			if !yield(groupOps(g.Wallet.DeviceGroup, g.Wallet.Name, g.Operations), nil) {
				return
			}
		}
	}
}

func groupOps(group, wallet string, ops []waasapi.MPCOperation) GroupOperations {
	g := GroupOperations{DeviceGroup: group, Wallet: wallet}
	for _, op := range ops {
		g.Operations = append(g.Operations, PendingOperation{Name: op.Name, Kind: op.Kind()})
	}
	return g
}

// AuditOperations lists every pending MPC operation in scope through c and
// reports those the ledger does not know.
func AuditOperations(ctx context.Context, c *waas.Client, l Ledger, scope Scope, progress Progress) (*OperationsReport, error) {
	return ReconcileOperations(ctx, l, scope.String(), LiveOperations(ctx, c, scope), progress)
}

// ReconcileOperations compares the pending operations groups yields with
// the ledger's operations. A group may be yielded more than once (a
// snapshot lists a group, then its operations); it is counted once.
//
// Memory: the ledger index (16 bytes and a bit per entry), a set of
// device groups (35 to 56 bytes a group), what the producer holds (a page per lane from the API),
// and the unknown operations found.
func ReconcileOperations(ctx context.Context, l Ledger, scope string, groups iter.Seq2[GroupOperations, error], progress Progress) (*OperationsReport, error) {
	if progress == nil {
		progress = func(int) {}
	}
	kinds := []Kind{Operation}
	withGroups := provides(l, DeviceGroup)
	if withGroups {
		kinds = append(kinds, DeviceGroup)
	}
	ix, err := buildIndex(ctx, l, kinds)
	if err != nil {
		return nil, err
	}
	// A file with no device group rows says nothing about groups.
	withGroups = withGroups && ix.counts[DeviceGroup] > 0
	rep := &OperationsReport{Ledger: l.String(), Scope: scope, LedgerEntries: ix.counts, Unknown: []UnknownOperation{}, IndexBytes: ix.Bytes()}
	seenGroups := nameset.New()
	for g, err := range groups {
		if err != nil {
			return nil, err
		}
		if seenGroups.Add(g.DeviceGroup) {
			rep.DeviceGroups++
		}
		var groupKnown *bool
		for _, op := range g.Operations {
			rep.Pending++
			n, err := Normalize(Operation, op.Name)
			if err != nil { // WaaS gave a name we cannot read: report it, never hide it
				n = Name{Full: op.Name, ID: op.Name}
			}
			if ix.match(Operation, n) {
				rep.Known++
				continue
			}
			if withGroups && groupKnown == nil {
				gn, err := Normalize(DeviceGroup, g.DeviceGroup)
				known := err == nil && ix.match(DeviceGroup, gn)
				groupKnown = &known
			}
			rep.Unknown = append(rep.Unknown, UnknownOperation{
				Operation: n.String(), Kind: op.Kind, DeviceGroup: g.DeviceGroup, Wallet: g.Wallet,
				Pool: waasapi.PoolOf(g.DeviceGroup), DeviceGroupInLedger: groupKnown,
			})
		}
		progress(rep.Pending)
	}
	if len(rep.Unknown) > 0 {
		// Look again: what the middle tier recorded while we listed is
		// not spam.
		names := make([]string, len(rep.Unknown))
		for i, u := range rep.Unknown {
			names[i] = u.Operation
		}
		late := findingKeys(Operation, names)
		recorded := make([]bool, len(rep.Unknown))
		err := l.Scan(ctx, []Kind{Operation}, func(e Entry) error {
			if i, ok := late[entryKey(Operation, e.Name)]; ok {
				recorded[i] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		n := 0
		for i, u := range rep.Unknown {
			if recorded[i] {
				rep.RecordedLate++
				continue
			}
			rep.Unknown[n] = u
			n++
		}
		rep.Unknown = rep.Unknown[:n]
	}
	slices.SortFunc(rep.Unknown, func(a, b UnknownOperation) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.DeviceGroup, b.DeviceGroup), cmp.Compare(a.Operation, b.Operation))
	})
	return rep, nil
}

// findingKeys maps the keys a ledger entry for each of names could be filed
// under (the full name, the bare ID) to the name's position in names.
func findingKeys(k Kind, names []string) map[ikey]int {
	out := make(map[ikey]int, 2*len(names))
	for i, name := range names {
		n, err := Normalize(k, name)
		if err != nil {
			continue // a name WaaS gave that no ledger entry can match
		}
		out[digest(k, 'F', n.Full)] = i
		out[digest(k, 'I', n.ID)] = i
	}
	return out
}

// provides says whether l can be asked for kind: a file ledger always can,
// a database only when a query for it is configured.
func provides(l Ledger, k Kind) bool {
	if s, ok := l.(*sqlLedger); ok {
		return s.queries[k] != ""
	}
	return true
}

// UnknownResource is a wallet or device group WaaS has and the ledger does
// not: created by someone the middle tier does not know about.
type UnknownResource struct {
	Kind        Kind   `json:"kind"`
	Name        string `json:"name"`
	Pool        string `json:"pool"`
	DeviceGroup string `json:"deviceGroup,omitempty"` // a wallet's group
	Wallet      string `json:"wallet,omitempty"`      // a group's first wallet
}

// MissingResource is a ledger entry WaaS does not have: an integrity
// problem (deleted, never created, or a ledger pointing at another
// organization).
type MissingResource struct {
	Kind  Kind   `json:"kind"`
	Name  string `json:"name"`
	Pool  string `json:"pool,omitempty"`
	Owner string `json:"owner,omitempty"`
	Where string `json:"ledgerRow"`
	// Confirmed is true when WaaS answered 404 (for a bare ID, in every
	// pool in scope); false past the confirmation budget.
	Confirmed bool `json:"confirmed"`
}

// PoolSummary counts one pool's resources and findings.
type PoolSummary struct {
	Pool                string `json:"pool"`
	Wallets             int    `json:"wallets"`
	DeviceGroups        int    `json:"deviceGroups"`
	UnknownWallets      int    `json:"unknownWallets"`
	UnknownDeviceGroups int    `json:"unknownDeviceGroups"`
	MissingWallets      int    `json:"missingWallets"`
	MissingDeviceGroups int    `json:"missingDeviceGroups"`
}

func (p *PoolSummary) add(o PoolSummary) {
	p.Wallets += o.Wallets
	p.DeviceGroups += o.DeviceGroups
	p.UnknownWallets += o.UnknownWallets
	p.UnknownDeviceGroups += o.UnknownDeviceGroups
	p.MissingWallets += o.MissingWallets
	p.MissingDeviceGroups += o.MissingDeviceGroups
}

// ResourcesReport is the result of AuditResources, only ever returned
// whole.
type ResourcesReport struct {
	Ledger        string            `json:"ledger"`
	Scope         string            `json:"scope"`
	LedgerEntries map[Kind]int      `json:"ledgerEntries"`
	Pools         []PoolSummary     `json:"pools"`
	Totals        PoolSummary       `json:"totals"`
	Unknown       []UnknownResource `json:"unknown"`
	Missing       []MissingResource `json:"missing"`
	// RecordedLate counts resources the ledger gained while the audit
	// listed them; they are not reported as unknown.
	RecordedLate int `json:"recordedLate"`
	// Unattributed counts ledger entries stored as bare IDs that are not in
	// the audited pool: they may be in another (audit every pool to check).
	Unattributed int `json:"unattributed,omitempty"`
	// MissingNotListed counts missing entries beyond MaxListedMissing:
	// in the per-pool counts, not in Missing, and never confirmed.
	MissingNotListed int `json:"missingNotListed,omitempty"`
	IndexBytes       int `json:"-"`
}

// Findings is the number of unknown and missing resources.
func (r *ResourcesReport) Findings() int {
	return len(r.Unknown) + len(r.Missing) + r.MissingNotListed
}

// MaxConfirmations bounds the GETs that confirm missing resources, so a
// ledger that points at the wrong organization (everything missing) ends
// in minutes, not hours.
const MaxConfirmations = 1000

// Resource is a wallet or device group WaaS has, as an audit consumes
// them: from the API or from a snapshot.
type Resource struct {
	Kind    Kind
	Name    string
	Pool    string
	Related string // a wallet's device group; a group's first wallet
}

// LiveResources lists the wallets of pools through c, each followed by its
// device group the first time that group is seen.
func LiveResources(ctx context.Context, c *waas.Client, pools []string) iter.Seq2[Resource, error] {
	return func(yield func(Resource, error) bool) {
		ps := make([]waasapi.Pool, len(pools))
		for i, p := range pools {
			ps[i] = waasapi.Pool{Name: p}
		}
		groups := nameset.New()
		for w, err := range c.WalletsOf(ctx, waas.Only(ps...)) {
			if err != nil {
				yield(Resource{}, err)
				return
			}
			if !yield(Resource{Kind: Wallet, Name: w.Name, Pool: waasapi.PoolOf(w.Name), Related: w.DeviceGroup}, nil) {
				return
			}
			if w.DeviceGroup != "" && groups.Add(w.DeviceGroup) {
				if !yield(Resource{Kind: DeviceGroup, Name: w.DeviceGroup, Pool: waasapi.PoolOf(w.DeviceGroup), Related: w.Name}, nil) {
					return
				}
			}
		}
	}
}

// AuditResources lists every MPC wallet in scope through c, with its device
// group, and compares both with the ledger, in both directions, per pool.
//
// WaaS has no call that lists device groups: they are found through their
// wallets. A device group without a wallet is invisible to this audit (and
// to every other enumeration); a ledger group without a wallet is checked
// with a GET before it is called missing.
func AuditResources(ctx context.Context, c *waas.Client, l Ledger, scope Scope, progress Progress) (*ResourcesReport, error) {
	var pools []string
	if scope.Pool != "" {
		pools = []string{scope.Pool}
	} else {
		for p, err := range c.Pools(ctx) {
			if err != nil {
				return nil, err
			}
			pools = append(pools, p.Name)
		}
	}
	return ReconcileResources(ctx, c, l, scope, pools, LiveResources(ctx, c, pools), progress)
}

// ReconcileResources compares the wallets and device groups res yields
// (each group once) with the ledger. pools are the pools in scope, listed
// even when empty. c confirms missing resources with a GET; with a nil c
// none is confirmed.
//
// Memory: the ledger index (16 bytes and a bit per entry), what the
// producer holds, one counter set per pool, and the findings.
func ReconcileResources(ctx context.Context, c *waas.Client, l Ledger, scope Scope, pools []string, res iter.Seq2[Resource, error], progress Progress) (*ResourcesReport, error) {
	if progress == nil {
		progress = func(int) {}
	}
	kinds := []Kind{Wallet, DeviceGroup}
	ix, err := buildIndex(ctx, l, kinds)
	if err != nil {
		return nil, err
	}
	rep := &ResourcesReport{Ledger: l.String(), Scope: scope.String(), LedgerEntries: ix.counts, Unknown: []UnknownResource{}, Missing: []MissingResource{}, IndexBytes: ix.Bytes()}
	pools = slices.Clone(pools)
	byPool := map[string]*PoolSummary{}
	for _, p := range pools {
		byPool[p] = &PoolSummary{Pool: p}
	}
	summary := func(pool string) *PoolSummary {
		s := byPool[pool]
		if s == nil { // a pool created while we listed
			s = &PoolSummary{Pool: pool}
			byPool[pool] = s
			pools = append(pools, pool)
		}
		return s
	}
	seen := 0
	for r, err := range res {
		if err != nil {
			return nil, err
		}
		n, err := Normalize(r.Kind, r.Name)
		if err != nil {
			n = Name{Full: r.Name, ID: r.Name}
		}
		s := summary(r.Pool)
		if r.Kind == Wallet {
			seen++
			s.Wallets++
			if !ix.match(Wallet, n) {
				s.UnknownWallets++
				rep.Unknown = append(rep.Unknown, UnknownResource{Kind: Wallet, Name: n.String(), Pool: s.Pool, DeviceGroup: r.Related})
			}
			if seen%1000 == 0 {
				progress(seen)
			}
			continue
		}
		s.DeviceGroups++
		if !ix.match(DeviceGroup, n) {
			s.UnknownDeviceGroups++
			rep.Unknown = append(rep.Unknown, UnknownResource{Kind: DeviceGroup, Name: n.String(), Pool: s.Pool, Wallet: r.Related})
		}
	}
	progress(seen)

	// Second read of the ledger: entries never matched are candidates for
	// "missing"; unknown resources the ledger gained meanwhile are not
	// unknown after all.
	late := map[ikey]int{} // key -> index in rep.Unknown
	for i, u := range rep.Unknown {
		for k := range findingKeys(u.Kind, []string{u.Name}) {
			late[k] = i
		}
	}
	recorded := make([]bool, len(rep.Unknown))
	var candidates []MissingResource
	// In the healthy case (every entry matched, nothing unknown) there is
	// nothing to look for, and the read is skipped.
	if ix.Unmarked() > 0 || len(rep.Unknown) > 0 {
		err = l.Scan(ctx, kinds, func(e Entry) error {
			key := entryKey(e.Kind, e.Name)
			i, ok := ix.Find(key)
			if !ok {
				if u, ok := late[key]; ok {
					recorded[u] = true
				}
				return nil
			}
			if ix.Marked(i) {
				return nil
			}
			ix.Mark(i) // report each entry once, however often the ledger repeats it
			pool := e.Name.Pool()
			if scope.Pool != "" && pool != "" && pool != scope.Pool {
				return nil
			}
			if len(candidates) == MaxListedMissing {
				// Counted, not kept: memory stays bounded even when the
				// ledger is another organization's and everything is missing.
				rep.MissingNotListed++
				if pool != "" {
					s := summary(pool)
					if e.Kind == Wallet {
						s.MissingWallets++
					} else {
						s.MissingDeviceGroups++
					}
				} else if scope.Pool != "" {
					rep.Unattributed++
				}
				return nil
			}
			candidates = append(candidates, MissingResource{Kind: e.Kind, Name: e.Name.String(), Pool: pool, Owner: e.Owner, Where: e.Where})
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	n := 0
	for i, u := range rep.Unknown {
		if recorded[i] {
			rep.RecordedLate++
			s := byPool[u.Pool]
			if u.Kind == Wallet {
				s.UnknownWallets--
			} else {
				s.UnknownDeviceGroups--
			}
			continue
		}
		rep.Unknown[n] = u
		n++
	}
	rep.Unknown = rep.Unknown[:n]

	missing := candidates
	if c != nil {
		if missing, err = confirmMissing(ctx, c, pools, candidates); err != nil {
			return nil, err
		}
	}
	if scope.Pool != "" {
		// A bare ID not found in this pool may be in another: not missing
		// as far as this audit can tell.
		missing = slices.DeleteFunc(missing, func(m MissingResource) bool {
			if m.Pool == "" {
				rep.Unattributed++
				return true
			}
			return false
		})
	}
	for _, m := range missing {
		if m.Pool == "" {
			continue
		}
		s := summary(m.Pool)
		if m.Kind == Wallet {
			s.MissingWallets++
		} else {
			s.MissingDeviceGroups++
		}
	}
	rep.Missing = missing

	for _, p := range pools {
		s := byPool[p]
		rep.Pools = append(rep.Pools, *s)
		rep.Totals.add(*s)
	}
	rep.Totals.Pool = "total"
	for _, m := range missing {
		if m.Pool == "" { // bare IDs belong to no pool row but count in the total
			if m.Kind == Wallet {
				rep.Totals.MissingWallets++
			} else {
				rep.Totals.MissingDeviceGroups++
			}
		}
	}
	slices.SortFunc(rep.Unknown, func(a, b UnknownResource) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(rep.Missing, func(a, b MissingResource) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return rep, nil
}

// MaxListedMissing bounds the missing entries a report lists; more are
// counted (ResourcesReport.MissingNotListed).
const MaxListedMissing = 10_000

// confirmMissing asks WaaS for each candidate: a full name is fetched, a
// bare ID is looked for in every pool in scope. A 404 everywhere confirms
// it missing; a wallet that exists appeared after its pool was listed, and
// a device group that exists simply has no wallet: neither is missing.
// Candidates past the MaxConfirmations budget of GETs stay unconfirmed.
func confirmMissing(ctx context.Context, c *waas.Client, pools []string, candidates []MissingResource) ([]MissingResource, error) {
	exists := make([]bool, len(candidates))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, c.Concurrency()))
	get := func(kind Kind, name string) (bool, error) {
		var err error
		if kind == Wallet {
			_, err = c.GetMPCWallet(ctx, name)
		} else {
			_, err = c.GetDeviceGroup(ctx, name)
		}
		switch {
		case err == nil:
			return true, nil
		case waas.HTTPCode(err) == http.StatusNotFound:
			return false, nil
		}
		return false, err
	}
	collection := map[Kind]string{Wallet: "/mpcWallets/", DeviceGroup: "/deviceGroups/"}
	budget := MaxConfirmations
	for i := range candidates {
		m := &candidates[i]
		names := []string{m.Name}
		if m.Pool == "" { // a bare ID: it could be in any pool
			names = names[:0]
			for _, p := range pools {
				names = append(names, p+collection[m.Kind]+m.Name)
			}
		}
		if len(names) == 0 || len(names) > budget {
			continue
		}
		budget -= len(names)
		g.Go(func() error {
			for _, name := range names {
				found, err := get(m.Kind, name)
				if err != nil {
					return fmt.Errorf("looking up %s of the ledger's %s: %w", name, m.Where, err)
				}
				if found {
					exists[i] = true
					return nil
				}
			}
			m.Confirmed = true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := candidates[:0]
	for i, m := range candidates {
		if !exists[i] {
			out = append(out, m)
		}
	}
	return out, nil
}
