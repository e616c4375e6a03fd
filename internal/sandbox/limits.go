package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/waasapi"
	"golang.org/x/time/rate"
)

// Rate limits take the shapes Coinbase publishes for its other APIs (WaaS
// publishes none), so that a client can be tried against each:
//
//	10000/1h               fixed window: N requests per PERIOD, the count reset at each
//	                       multiple of PERIOD (Coinbase App and Business: 10,000 an hour per key)
//	25/1s,burst=50         token bucket: N per PERIOD refilled, up to B at once (Prime, per portfolio)
//	100/1s,penalty=30s     penalty box: beyond N in a PERIOD window, every request gets 429
//	                       for the penalty's length (Prime, per IP)
//
// each with scope=key (a budget per API key), scope=org (per organization)
// or, by default, one budget for the whole server (all clients of a
// loopback sandbox share one IP, so this is Prime's per-IP limit).

// LimitScope is what a rate limit's budget is shared by.
type LimitScope string

// The scopes of a rate limit.
const (
	ScopeServer LimitScope = ""    // one budget for every request
	ScopeKey    LimitScope = "key" // a budget per API key
	ScopeOrg    LimitScope = "org" // a budget per organization
)

// RateLimit is one limit: N requests per Per, in the shape its other fields
// choose (see ParseRateLimit).
type RateLimit struct {
	N       int
	Per     time.Duration
	Burst   int           // > 0: a token bucket holding up to Burst
	Penalty time.Duration // > 0: a penalty box of this length
	Scope   LimitScope
}

// String spells the limit as ParseRateLimit reads it.
func (r RateLimit) String() string {
	if r.N == 0 {
		return "unlimited"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%s", r.N, r.Per)
	if r.Burst > 0 {
		fmt.Fprintf(&b, ",burst=%d", r.Burst)
	}
	if r.Penalty > 0 {
		fmt.Fprintf(&b, ",penalty=%s", r.Penalty)
	}
	if r.Scope != ScopeServer {
		fmt.Fprintf(&b, ",scope=%s", r.Scope)
	}
	return b.String()
}

// maxLimitPeriod bounds PERIOD and penalty: a day is already longer than
// any run, and it keeps every computed wait far from overflowing.
const maxLimitPeriod = 24 * time.Hour

// ParseRateLimit parses "N/PERIOD[,burst=B][,penalty=D][,scope=key|org]",
// such as "10000/1h", "25/1s,burst=50" or "100/s,penalty=30s,scope=org". A
// limit has a burst or a penalty, not both.
func ParseRateLimit(s string) (RateLimit, error) {
	spec, opts, hasOpts := strings.Cut(s, ",")
	n, per, ok := strings.Cut(spec, "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want N/PERIOD, e.g. 100/1s", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: N must be a positive integer", s)
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 || d > maxLimitPeriod {
		return RateLimit{}, fmt.Errorf("rate limit %q: PERIOD must be a positive duration of at most 24h, such as 1s or 1m", s)
	}
	rl := RateLimit{N: count, Per: d}
	seen := map[string]bool{}
	for opt := range strings.SplitSeq(opts, ",") {
		if !hasOpts {
			break
		}
		k, v, _ := strings.Cut(opt, "=")
		if seen[k] {
			return RateLimit{}, fmt.Errorf("rate limit %q: %s given twice", s, k)
		}
		seen[k] = true
		switch k {
		case "burst":
			b, err := strconv.Atoi(v)
			if err != nil || b <= 0 {
				return RateLimit{}, fmt.Errorf("rate limit %q: burst must be a positive integer", s)
			}
			rl.Burst = b
		case "penalty":
			p, err := time.ParseDuration(v)
			if err != nil || p <= 0 || p > maxLimitPeriod {
				return RateLimit{}, fmt.Errorf("rate limit %q: penalty must be a positive duration of at most 24h, such as 30s", s)
			}
			rl.Penalty = p
		case "scope":
			switch LimitScope(v) {
			case ScopeKey, ScopeOrg:
				rl.Scope = LimitScope(v)
			default:
				return RateLimit{}, fmt.Errorf("rate limit %q: scope must be key or org", s)
			}
		default:
			return RateLimit{}, fmt.Errorf("rate limit %q: unknown option %q; want burst=B, penalty=D or scope=key|org", s, k)
		}
	}
	if rl.Burst > 0 && rl.Penalty > 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: give burst or penalty, not both (repeat --rate-limit for two limits)", s)
	}
	return rl, nil
}

// limiterSet enforces every configured limit and counts what it saw. Its
// clock is the server's, so tests can step time instead of sleeping.
type limiterSet struct {
	mu     sync.Mutex
	limits []RateLimit
	state  []map[string]*limitState // per limit, by scope value

	since time.Time
	keys  map[string]*waasapi.RequestCounts // by key name
	orgs  map[string]*waasapi.RequestCounts // by organization
	total waasapi.RequestCounts
}

// limitState is one limit's budget for one scope value.
type limitState struct {
	bucket      *rate.Limiter // token bucket
	windowStart time.Time     // fixed window and penalty box
	windowCount int
	boxedUntil  time.Time // penalty box
}

func newLimiterSet(limits []RateLimit, now time.Time) *limiterSet {
	ls := &limiterSet{limits: limits, since: now, keys: map[string]*waasapi.RequestCounts{}, orgs: map[string]*waasapi.RequestCounts{}}
	ls.state = make([]map[string]*limitState, len(limits))
	for i := range ls.state {
		ls.state[i] = map[string]*limitState{}
	}
	return ls
}

// refusal says why a request was refused: the limit, and how long the
// client should wait.
type refusal struct {
	limit RateLimit
	wait  time.Duration
}

// admit counts one request from key (of org; both empty when the request
// names no registered key) and says whether every limit lets it through.
// A refused request takes nothing from any budget, except that a penalty
// box counts every arrival: it punishes a client that keeps sending.
func (ls *limiterSet) admit(key, org string, now time.Time) *refusal {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	counts := []*waasapi.RequestCounts{&ls.total}
	if key != "" {
		counts = append(counts, counter(ls.keys, key), counter(ls.orgs, org))
	}
	for _, c := range counts {
		c.Requests++
	}
	var worst *refusal
	refuse := func(rl RateLimit, wait time.Duration) {
		if worst == nil || wait > worst.wait {
			worst = &refusal{limit: rl, wait: wait}
		}
	}
	states := make([]*limitState, len(ls.limits))
	for i, rl := range ls.limits {
		states[i] = ls.stateFor(i, rl, key, org, now)
		st := states[i]
		if rl.Penalty <= 0 {
			continue
		}
		if now.Before(st.boxedUntil) {
			refuse(rl, st.boxedUntil.Sub(now))
			continue
		}
		st.roll(rl.Per, now)
		st.windowCount++
		if st.windowCount > rl.N {
			st.boxedUntil = now.Add(rl.Penalty)
			for _, c := range counts {
				c.Penalties++
			}
			refuse(rl, rl.Penalty)
		}
	}
	for i, rl := range ls.limits {
		st := states[i]
		switch {
		case rl.Penalty > 0:
		case rl.Burst > 0:
			if tok := st.bucket.TokensAt(now); tok < 1 {
				refuse(rl, time.Duration((1-tok)/float64(st.bucket.Limit())*float64(time.Second)))
			}
		default:
			st.roll(rl.Per, now)
			if st.windowCount >= rl.N {
				refuse(rl, st.windowStart.Add(rl.Per).Sub(now))
			}
		}
	}
	if worst != nil {
		for _, c := range counts {
			c.Throttled++
		}
		return worst
	}
	for i, rl := range ls.limits {
		switch st := states[i]; {
		case rl.Penalty > 0:
		case rl.Burst > 0:
			st.bucket.AllowN(now, 1)
		default:
			st.windowCount++
		}
	}
	return nil
}

func counter(m map[string]*waasapi.RequestCounts, k string) *waasapi.RequestCounts {
	c := m[k]
	if c == nil {
		c = &waasapi.RequestCounts{}
		m[k] = c
	}
	return c
}

func (ls *limiterSet) stateFor(i int, rl RateLimit, key, org string, now time.Time) *limitState {
	scope := ""
	switch rl.Scope {
	case ScopeKey:
		scope = key
	case ScopeOrg:
		scope = org
	}
	st := ls.state[i][scope]
	if st == nil {
		st = &limitState{}
		if rl.Burst > 0 {
			st.bucket = rate.NewLimiter(rate.Limit(float64(rl.N)/rl.Per.Seconds()), rl.Burst) // starts full
		}
		ls.state[i][scope] = st
	}
	return st
}

// roll moves a fixed window to the one holding now; windows start at
// multiples of per, as a counter reset "every hour" does.
func (st *limitState) roll(per time.Duration, now time.Time) {
	start := now.Truncate(per)
	if !start.Equal(st.windowStart) {
		st.windowStart, st.windowCount = start, 0
	}
}

// snapshot copies the counts of org's keys and of org itself; every org's
// when org is empty.
func (ls *limiterSet) snapshot(org string) waasapi.RequestStats {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := waasapi.RequestStats{Since: ls.since.UTC(), Keys: map[string]waasapi.RequestCounts{}, Organizations: map[string]waasapi.RequestCounts{}}
	for k, c := range ls.keys {
		if org == "" || strings.HasPrefix(k, "organizations/"+org+"/") {
			out.Keys[k] = *c
		}
	}
	for o, c := range ls.orgs {
		if org == "" || o == org {
			out.Organizations[o] = *c
		}
	}
	return out
}

func (ls *limiterSet) totals() waasapi.RequestCounts {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.total
}

// retryAfterSeconds is a wait as Retry-After spells it: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	secs := math.Ceil(d.Seconds())
	return strconv.Itoa(max(1, int(secs)))
}

// claimedKey is the key a request's bearer token names in its kid header,
// not yet verified: a gateway counts and limits requests before it checks
// signatures. Only registered keys are returned, so a client cannot grow
// the counters with made-up names.
func (s *Server) claimedKey(r *http.Request) *keyRecord {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || len(token) > 8<<10 {
		return nil
	}
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		return nil
	}
	return s.lookupKey(h.Kid)
}

// requestStats answers GET BASE/sandbox/v1/stats: the counts of the
// caller's organization and of its keys. A key sees only its own
// organization, as with the estate.
func (s *Server) requestStats(c *call) (any, error) {
	return s.limits.snapshot(c.key.Org), nil
}

// RequestStats returns the counts of org and its keys, or of every
// organization and key when org is empty: what GET BASE/sandbox/v1/stats
// serves.
func (s *Server) RequestStats(org string) waasapi.RequestStats { return s.limits.snapshot(org) }

// RequestTotals is the counts over every request that named a route
// (control calls excepted), whatever key it named.
func (s *Server) RequestTotals() waasapi.RequestCounts { return s.limits.totals() }

// Limiter is the sandbox's rate limits without a server: what a client's
// pacing can be simulated against, on a simulated clock.
type Limiter struct{ ls *limiterSet }

// NewLimiter enforces limits from now on.
func NewLimiter(limits []RateLimit, now time.Time) *Limiter {
	return &Limiter{ls: newLimiterSet(limits, now)}
}

// Admit is one request from key of org arriving at now: ok, or refused
// with the Retry-After the sandbox would send.
func (l *Limiter) Admit(key, org string, now time.Time) (retryAfter time.Duration, ok bool) {
	ref := l.ls.admit(key, org, now)
	if ref == nil {
		return 0, true
	}
	secs, _ := strconv.Atoi(retryAfterSeconds(ref.wait))
	return time.Duration(secs) * time.Second, false
}

// Stats is what the limiter counted, of every key and organization.
func (l *Limiter) Stats() waasapi.RequestStats { return l.ls.snapshot("") }
