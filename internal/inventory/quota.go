// Package inventory counts and compares what a WaaS estate holds. The WaaS
// API has no quota or usage call, so usage is derived by enumeration:
// pools, the MPC wallets of each, their device groups (counted once however
// many wallets share one), and the addresses on every network.
package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/config"

	"github.com/waasctl/waasctl/internal/nameset"

	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Resource kinds that quotas apply to, in report order.
const (
	Pools        = "pools"
	Wallets      = "wallets"
	DeviceGroups = "device_groups"
	Addresses    = "addresses"
)

// Kinds lists the resource kinds in report order.
var Kinds = []string{Pools, Wallets, DeviceGroups, Addresses}

// PoolCounts is what one pool holds.
type PoolCounts struct {
	Pool         string `json:"pool"`
	DisplayName  string `json:"displayName,omitempty"`
	Wallets      int    `json:"wallets"`
	DeviceGroups int    `json:"deviceGroups"`
	Addresses    int    `json:"addresses"`
}

// Counts is one census of an estate. It is also the snapshot format the
// quota audit saves, so later runs can show growth.
type Counts struct {
	Time     time.Time      `json:"time"`
	Profile  string         `json:"profile,omitempty"`
	Endpoint string         `json:"endpoint,omitempty"`
	Org      string         `json:"organization,omitempty"`
	Totals   map[string]int `json:"totals"`
	PerPool  []PoolCounts   `json:"pools"`
}

// Progress is told how many resources were counted so far.
type Progress func(counted int)

// Count takes a census with c: pools and their wallets with the client's
// fan-out, then every network's addresses, attributed to pools through
// their wallet's name. Memory is one counter set per pool.
func Count(ctx context.Context, c *waas.Client, progress Progress) (*Counts, error) {
	if progress == nil {
		progress = func(int) {}
	}
	counted := 0
	tick := func() {
		counted++
		progress(counted)
	}
	var pools []waasapi.Pool
	byPool := map[string]*PoolCounts{}
	for p, err := range c.Pools(ctx) {
		if err != nil {
			return nil, err
		}
		pools = append(pools, p)
		byPool[p.Name] = &PoolCounts{Pool: p.Name, DisplayName: p.DisplayName}
		tick()
	}
	groups := nameset.New() // wallets may share a device group
	for w, err := range c.WalletsOf(ctx, waas.Only(pools...)) {
		if err != nil {
			return nil, err
		}
		pc := byPool[waasapi.PoolOf(w.Name)]
		if pc == nil { // a pool created while we counted
			continue
		}
		pc.Wallets++
		if w.DeviceGroup != "" && groups.Add(w.DeviceGroup) {
			pc.DeviceGroups++
		}
		tick()
	}
	var networks []string
	for n, err := range c.Networks(ctx) {
		if err != nil {
			return nil, err
		}
		networks = append(networks, n.Name)
	}
	for _, n := range networks {
		for a, err := range c.Addresses(ctx, n, "") {
			if err != nil {
				return nil, err
			}
			if pc := byPool[waasapi.PoolOf(a.MPCWallet)]; pc != nil {
				pc.Addresses++
			}
			tick()
		}
	}
	out := &Counts{Time: time.Now().UTC(), Totals: map[string]int{}}
	for _, p := range pools {
		pc := byPool[p.Name]
		out.PerPool = append(out.PerPool, *pc)
		out.Totals[Wallets] += pc.Wallets
		out.Totals[DeviceGroups] += pc.DeviceGroups
		out.Totals[Addresses] += pc.Addresses
	}
	out.Totals[Pools] = len(pools)
	return out, nil
}

// Limits maps resource kinds to the most the estate may hold.
type Limits map[string]int

// ConfigLimits are the limits a profile's quota in the config file sets.
func ConfigLimits(q *config.Quota) Limits {
	out := Limits{}
	if q == nil {
		return out
	}
	for kind, n := range map[string]int{Pools: q.Pools, Wallets: q.Wallets, DeviceGroups: q.DeviceGroups, Addresses: q.Addresses} {
		if n > 0 {
			out[kind] = n
		}
	}
	return out
}

// ParseLimits parses "wallets=10000,pools=20".
func ParseLimits(s string) (Limits, error) {
	out := Limits{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, val, ok := strings.Cut(part, "=")
		kind = strings.ReplaceAll(strings.TrimSpace(kind), "-", "_")
		if !ok || !slices.Contains(Kinds, kind) {
			return nil, fmt.Errorf("limit %q: want KIND=N with KIND one of %s", part, strings.Join(Kinds, ", "))
		}
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(val), &n); err != nil || n <= 0 {
			return nil, fmt.Errorf("limit %q: N must be a positive whole number", part)
		}
		out[kind] = n
	}
	return out, nil
}

// ParsePercent parses "80%" or "80" as 80.
func ParsePercent(s string) (float64, error) {
	var v float64
	if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(s), "%"), &v); err != nil || v <= 0 || v > 100 {
		return 0, fmt.Errorf("percentage %q: want a number above 0 and at most 100, e.g. 80%%", s)
	}
	return v, nil
}

// Status of one resource kind against its limit.
const (
	StatusOK      = "ok"
	StatusWarn    = "warn"     // at or above the warning threshold
	StatusAtLimit = "at-limit" // the limit is reached: the next create fails
	StatusOver    = "over"     // more than the limit
	StatusNoLimit = "no-limit" // nothing to compare with
)

// Usage is one resource kind's count against its limit, and its growth
// since an earlier census.
type Usage struct {
	Resource string   `json:"resource"`
	Count    int      `json:"count"`
	Limit    int      `json:"limit,omitempty"`
	Percent  *float64 `json:"percent,omitempty"`
	Status   string   `json:"status"`
	Since    *int     `json:"since,omitempty"` // count in the earlier census
	Growth   *int     `json:"growth,omitempty"`
}

// Crossed says whether the usage should fail a CI gate.
func (u Usage) Crossed() bool {
	return u.Status == StatusWarn || u.Status == StatusAtLimit || u.Status == StatusOver
}

// Evaluate compares counts with limits, warning at warnAt percent, and with
// an earlier census if there is one.
func Evaluate(now *Counts, limits Limits, warnAt float64, earlier *Counts) []Usage {
	var out []Usage
	for _, kind := range Kinds {
		u := Usage{Resource: kind, Count: now.Totals[kind], Status: StatusNoLimit}
		if lim, ok := limits[kind]; ok {
			pct := 100 * float64(u.Count) / float64(lim)
			u.Limit, u.Percent = lim, &pct
			switch {
			case u.Count > lim:
				u.Status = StatusOver
			case u.Count == lim:
				u.Status = StatusAtLimit
			case pct >= warnAt:
				u.Status = StatusWarn
			default:
				u.Status = StatusOK
			}
		}
		if earlier != nil {
			before := earlier.Totals[kind]
			growth := u.Count - before
			u.Since, u.Growth = &before, &growth
		}
		out = append(out, u)
	}
	return out
}

// PoolGrowth lists the pools whose counts changed since an earlier census,
// new pools included, in the current census's order.
func PoolGrowth(now, earlier *Counts) []PoolDelta {
	if earlier == nil {
		return nil
	}
	before := map[string]PoolCounts{}
	for _, p := range earlier.PerPool {
		before[p.Pool] = p
	}
	var out []PoolDelta
	for _, p := range now.PerPool {
		b, existed := before[p.Pool]
		d := PoolDelta{Pool: p.Pool, New: !existed, Wallets: p.Wallets - b.Wallets, DeviceGroups: p.DeviceGroups - b.DeviceGroups, Addresses: p.Addresses - b.Addresses}
		if d.New || d.Wallets != 0 || d.DeviceGroups != 0 || d.Addresses != 0 {
			out = append(out, d)
		}
	}
	return out
}

// PoolDelta is how one pool changed between two censuses.
type PoolDelta struct {
	Pool         string `json:"pool"`
	New          bool   `json:"new,omitempty"`
	Wallets      int    `json:"wallets"`
	DeviceGroups int    `json:"deviceGroups"`
	Addresses    int    `json:"addresses"`
}
