package reconcile

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// AssessInput is what an incident assessment works from.
type AssessInput struct {
	// Snapshot is a snapshot of the estate taken now, with the key in
	// question or its successor; the assessment reads it, not the API.
	Snapshot string
	// Baseline is the earlier snapshot to diff against and why it was chosen
	// (inventory.ChooseBaseline or JudgeBaseline); nil when there is none.
	Baseline *inventory.Baseline
	// Suspect is the key suspected of a leak; nil when not known.
	Suspect *inventory.SuspectKey
	// Ledger is the middle tier's ledger; nil when none is configured.
	Ledger Ledger
	// Client confirms ledger entries missing from WaaS with a GET; nil
	// leaves them unconfirmed.
	Client *waas.Client
	// Limits are the quota limits by inventory kind (pools, wallets,
	// device_groups, addresses); missing kinds have none.
	Limits inventory.Limits
}

// Verdicts of an assessment.
const (
	VerdictFindings     = "findings"     // something is unknown, unexplained or missing
	VerdictInconclusive = "inconclusive" // nothing found, but with no baseline from before the leak old and new cannot be told apart
	VerdictClean        = "clean"        // a baseline known to predate the leak and (if configured) the ledger explain everything
)

// Assessment is the blast-radius report of a possibly leaked key.
type Assessment struct {
	Verdict  string                    `json:"verdict"`
	Now      inventory.SnapshotSummary `json:"now"`
	Snapshot string                    `json:"snapshot"`
	// Suspect is the key suspected of a leak; nil when not known.
	Suspect *inventory.SuspectKey `json:"suspect,omitempty"`
	// Since is the baseline snapshot; nil when there was none.
	Since *SnapshotRef `json:"since"`
	// Changes are what was added and removed since the baseline, per
	// snapshot kind; nil without a baseline.
	Changes []inventory.KindDiff `json:"changes"`
	// Unexplained are additions since the baseline the ledger does not
	// account for: every addition without a ledger; with one, new pools
	// and addresses (a ledger records neither), and new wallets and device
	// groups when the ledger has no query for them.
	Unexplained []inventory.KindDiff `json:"unexplained"`
	// Ledger is the ledger's description; "" when none is configured.
	Ledger            string             `json:"ledger"`
	UnknownOperations []UnknownOperation `json:"unknownOperations"`
	UnknownResources  []UnknownResource  `json:"unknownResources"`
	// ResourcesUnchecked is true when the ledger has no wallets or device
	// groups query, so wallets and groups were not reconciled.
	ResourcesUnchecked bool              `json:"resourcesUnchecked,omitempty"`
	MissingResources   []MissingResource `json:"missingResources"`
	Quota              []QuotaImpact     `json:"quota"`
	Limitations        []string          `json:"limitations"`
	// EarlierKeys are the profile's keys seen in use before the baseline. Without a ledger, a
	// quiet diff cannot clear them: one of them may be the key that leaked.
	EarlierKeys []inventory.EarlierKey `json:"earlierKeys,omitempty"`
}

// ConsiderEarlierKeys records the keys seen before the baseline and, when nothing else can
// clear them (no ledger, and the responder placed neither the key nor the leak's time), turns a
// clean verdict into an inconclusive one: a key rotated away after it leaked made what it made
// before the baseline, where a diff cannot see it.
func (a *Assessment) ConsiderEarlierKeys(earlier []inventory.EarlierKey, placed bool) {
	a.EarlierKeys = earlier
	if a.Verdict == VerdictClean && a.Ledger == "" && !placed && len(earlier) > 0 {
		a.Verdict = VerdictInconclusive
	}
}

// SnapshotRef names a snapshot, the key that took it, and why it is the baseline.
type SnapshotRef struct {
	Path   string    `json:"path"`
	Time   time.Time `json:"time"`
	Source string    `json:"source,omitempty"` // rotation, incident, or "" (by hand or scheduled)
	// KeyName and KeyFingerprint name the key that took it; "" in a version 1
	// snapshot, which did not record it.
	KeyName        string `json:"keyName,omitempty"`
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Reason says why it was chosen.
	Reason string `json:"reason,omitempty"`
	// PredatesLeak is true when it is known to have been taken before the
	// suspected key came into use (or before --leaked-since); without it a
	// quiet diff is inconclusive.
	PredatesLeak bool `json:"predatesLeak"`
	// Caveat says why it may postdate the leak.
	Caveat string `json:"caveat,omitempty"`
}

// QuotaImpact is one resource kind's count, what was added since the
// baseline, and the limit.
type QuotaImpact struct {
	Resource string   `json:"resource"`
	Count    int      `json:"count"`
	Added    *int     `json:"added,omitempty"` // nil without a baseline
	Limit    int      `json:"limit,omitempty"`
	Percent  *float64 `json:"percent,omitempty"`
	// AddedPercent is the share of the limit the additions took.
	AddedPercent *float64 `json:"addedPercent,omitempty"`
}

// Findings counts what the assessment found.
func (a *Assessment) Findings() int {
	n := len(a.UnknownOperations) + len(a.UnknownResources) + len(a.MissingResources)
	for _, k := range a.Unexplained {
		n += len(k.Added)
	}
	return n
}

// quotaKinds maps inventory quota kinds to snapshot kinds.
var quotaKinds = []struct{ quota, snapshot string }{
	{inventory.Pools, inventory.KindPool},
	{inventory.Wallets, inventory.KindWallet},
	{inventory.DeviceGroups, inventory.KindDeviceGroup},
	{inventory.Addresses, inventory.KindAddress},
}

// Assess diffs the snapshot against the baseline and reconciles it with
// the ledger. It reads the snapshot a few times rather than hold it:
// memory is the diff's digest index of the baseline (16 bytes and a bit a
// resource), the added and removed names, the ledger index and the
// findings.
func Assess(ctx context.Context, in AssessInput) (*Assessment, error) {
	a := &Assessment{Snapshot: in.Snapshot, Suspect: in.Suspect, UnknownOperations: []UnknownOperation{}, UnknownResources: []UnknownResource{}, MissingResources: []MissingResource{}}
	var pools []string
	sum, err := readSnapshotFile(ctx, in.Snapshot, func(r inventory.Record) error {
		if r.Kind == inventory.KindPool {
			pools = append(pools, r.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Now = sum

	// A database ledger without a wallets or device groups query accounts for neither: their
	// additions stay unexplained, or a wallet a leaked key made would pass as the ledger's.
	resourcesChecked := in.Ledger != nil && provides(in.Ledger, Wallet) && provides(in.Ledger, DeviceGroup)
	added := map[string]int{}
	if b := in.Baseline; b != nil {
		d, err := diffFiles(ctx, b.Path, in.Snapshot)
		if err != nil {
			return nil, err
		}
		if d.From.Endpoint != sum.Endpoint || d.From.Organization != sum.Organization {
			return nil, fmt.Errorf("baseline %s is of %s, organization %s; the estate now is %s, organization %s: pick a baseline of the same estate", b.Path, d.From.Endpoint, d.From.Organization, sum.Endpoint, sum.Organization)
		}
		// The verified file's header, not what was read of it before, says what it is.
		a.Since = &SnapshotRef{Path: b.Path, Time: d.From.Time, Source: d.From.Source, KeyName: d.From.KeyName, KeyFingerprint: d.From.KeyFingerprint,
			Reason: b.Reason, PredatesLeak: b.PredatesLeak, Caveat: b.Caveat}
		if !d.From.Time.Equal(b.Time) || d.From.KeyFingerprint != b.KeyFingerprint || d.From.Source != b.Source {
			a.Since.PredatesLeak = false
			a.Since.Caveat = "the file changed while it was being read"
		}
		a.Changes = d.Kinds
		for _, k := range d.Kinds {
			added[k.Kind] = len(k.Added)
			switch {
			case len(k.Added) == 0:
			case in.Ledger == nil, k.Kind == inventory.KindPool, k.Kind == inventory.KindAddress,
				!resourcesChecked && (k.Kind == inventory.KindWallet || k.Kind == inventory.KindDeviceGroup):
				a.Unexplained = append(a.Unexplained, inventory.KindDiff{Kind: k.Kind, Added: k.Added, Removed: []string{}})
			}
		}
	}

	if in.Ledger != nil {
		a.Ledger = in.Ledger.String()
		ops, err := ReconcileOperations(ctx, in.Ledger, "all pools", snapshotOperations(ctx, in.Snapshot), nil)
		if err != nil {
			return nil, err
		}
		a.UnknownOperations = append(a.UnknownOperations, ops.Unknown...)
		if resourcesChecked {
			res, err := ReconcileResources(ctx, in.Client, in.Ledger, Scope{}, pools, snapshotResources(ctx, in.Snapshot), nil)
			if err != nil {
				return nil, err
			}
			// Appended, not assigned: none found is an empty list in the JSON, not null.
			a.UnknownResources = append(a.UnknownResources, res.Unknown...)
			a.MissingResources = append(a.MissingResources, res.Missing...)
		} else {
			a.ResourcesUnchecked = true
		}
	}

	for _, k := range quotaKinds {
		q := QuotaImpact{Resource: k.quota, Count: sum.Counts[k.snapshot]}
		if a.Since != nil {
			n := added[k.snapshot]
			q.Added = &n
		}
		if lim := in.Limits[k.quota]; lim > 0 {
			q.Limit = lim
			pct := 100 * float64(q.Count) / float64(lim)
			q.Percent = &pct
			if q.Added != nil {
				ap := 100 * float64(*q.Added) / float64(lim)
				q.AddedPercent = &ap
			}
		}
		a.Quota = append(a.Quota, q)
	}

	a.Verdict = verdict(a)
	a.Limitations = limitations(a, in)
	return a, nil
}

// verdict is findings when anything was found; otherwise clean only when
// the baseline is known to predate the leak: one that may have been taken
// after it hides what the key did before, and proves nothing.
func verdict(a *Assessment) string {
	switch {
	case a.Findings() > 0:
		return VerdictFindings
	case a.Since == nil, !a.Since.PredatesLeak:
		return VerdictInconclusive
	}
	return VerdictClean
}

func limitations(a *Assessment, in AssessInput) []string {
	var out []string
	if a.Since == nil {
		out = append(out, "No earlier snapshot of this profile was found, so this report cannot tell old from new: every resource listed may predate the leak. WaaS keeps no creation times. Take snapshots on a schedule ('waasctl inventory snapshot'; 'keys rotate' takes one after each rotation) so the next assessment has a baseline.")
	} else {
		out = append(out, fmt.Sprintf("WaaS keeps no creation times: \"added\" means added between the baseline snapshot (%s) and now, by anyone holding a working key, not necessarily by the leaked one. The baseline must predate the leak: anything the key did before the baseline was taken looks old here. If the key may have leaked earlier, say when with --leaked-since TIME, or pass an older snapshot with --since.", a.Since.Time.UTC().Format(time.RFC3339)))
		if !a.Since.PredatesLeak {
			out = append(out, "The baseline is not known to predate the leak, so a quiet diff is inconclusive, not clean. If you know when the key could first have leaked, pass --leaked-since TIME: the newest snapshot before it becomes the baseline.")
		}
		if a.Since.Source == inventory.SourceIncident {
			out = append(out, "The baseline was itself taken during an incident assessment, after a suspected leak.")
		}
	}
	if a.ResourcesUnchecked {
		out = append(out, "The ledger has no wallets_query or device_groups_query: wallets and device groups were not reconciled with it.")
	}
	if in.Ledger == nil {
		out = append(out, "No ledger is configured (--ledger or the profile's ledger.dsn): the middle tier's own operations, wallets and device groups cannot be told from anyone else's.")
	}
	out = append(out,
		"A pending MPC operation disappears once a device completes it: a signature that was approved leaves no trace here. Check the MPC transactions of the affected wallets and their addresses on chain.",
		"WaaS has no call that lists device groups; they are found through their wallets, so a device group created without a wallet is invisible.",
		"Reads leave no trace in the estate: a key used only to list pools, wallets or balances cannot be detected here.",
	)
	return out
}

func readSnapshotFile(ctx context.Context, path string, fn func(inventory.Record) error) (inventory.SnapshotSummary, error) {
	f, err := fsutil.Open(ctx, path)
	if err != nil {
		return inventory.SnapshotSummary{}, err
	}
	defer f.Close()
	sum, err := inventory.ReadSnapshot(f, fn)
	if err != nil {
		return sum, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return sum, nil
}

func diffFiles(ctx context.Context, from, to string) (inventory.Diff, error) {
	a, err := fsutil.Open(ctx, from)
	if err != nil {
		return inventory.Diff{}, err
	}
	defer a.Close()
	b, err := fsutil.Open(ctx, to)
	if err != nil {
		return inventory.Diff{}, err
	}
	defer b.Close()
	d, err := inventory.DiffSnapshots(a, b)
	if err != nil {
		return d, fmt.Errorf("baseline %s: %w", from, err)
	}
	return d, nil
}

// errStop ends a snapshot read early when an iterator's consumer stops.
var errStop = errors.New("stop")

// snapshotOperations yields a snapshot's device groups (without
// operations) and pending operations (one per item).
func snapshotOperations(ctx context.Context, path string) iter.Seq2[GroupOperations, error] {
	return func(yield func(GroupOperations, error) bool) {
		_, err := readSnapshotFile(ctx, path, func(r inventory.Record) error {
			var g GroupOperations
			switch r.Kind {
			case inventory.KindDeviceGroup:
				g = GroupOperations{DeviceGroup: r.Name, Wallet: r.Wallet}
			case inventory.KindOperation:
				g = GroupOperations{DeviceGroup: r.Parent, Wallet: r.Wallet, Operations: []PendingOperation{{Name: r.Name, Kind: r.Type}}}
			default:
				return nil
			}
			if !yield(g, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(GroupOperations{}, err)
		}
	}
}

// snapshotResources yields a snapshot's wallets and device groups.
func snapshotResources(ctx context.Context, path string) iter.Seq2[Resource, error] {
	return func(yield func(Resource, error) bool) {
		_, err := readSnapshotFile(ctx, path, func(r inventory.Record) error {
			var res Resource
			switch r.Kind {
			case inventory.KindWallet:
				res = Resource{Kind: Wallet, Name: r.Name, Pool: waasapi.PoolOf(r.Name), Related: r.Parent}
			case inventory.KindDeviceGroup:
				res = Resource{Kind: DeviceGroup, Name: r.Name, Pool: waasapi.PoolOf(r.Name), Related: r.Wallet}
			default:
				return nil
			}
			if !yield(res, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(Resource{}, err)
		}
	}
}
