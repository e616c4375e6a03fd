package waas

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
)

// simRun is one simulated enumeration: requests clean answers wanted from
// a service with the given limits and latency, by an adaptive client with
// the given ceilings, on a simulated clock.
type simRun struct {
	limits   []string
	latency  time.Duration
	requests int
	ceiling  float64 // --rate; 0: none
	lanes    int     // --concurrency
	start    float64 // a rate learned before
}

type simResult struct {
	elapsed   time.Duration
	sent      int
	throttled int
	penalties int64
	arrivals  []time.Time
	changes   []RateChange
	learned   float64
}

func (r simRun) run(t *testing.T) simResult {
	t.Helper()
	var limits []sandbox.RateLimit
	for _, s := range r.limits {
		rl, err := sandbox.ParseRateLimit(s)
		if err != nil {
			t.Fatal(err)
		}
		limits = append(limits, rl)
	}
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 300_000_000, time.UTC)
	lim := sandbox.NewLimiter(limits, t0)
	var res simResult
	now, pending, done := t0, r.requests, 0
	p := newPacer(t0, true, r.ceiling, max(r.lanes, 1), r.start, func(c RateChange) {
		res.changes = append(res.changes, c)
		if testing.Verbose() && os.Getenv("PACER_TRACE") != "" {
			t.Logf("%8.3fs %v (done %d)", now.Sub(t0).Seconds(), c, done)
		}
	})
	// Events: a request due to be sent at its slot's time, or its answer.
	type event struct {
		at         time.Time
		slot       slot
		sent       bool // the answer, not the send
		ok         bool
		retryAfter time.Duration
	}
	var events []event
	inflight := 0 // sent or waiting for their slot
	for done < r.requests {
		for pending > 0 && inflight < p.concurrency() {
			sl := p.reserve(now)
			events = append(events, event{at: sl.at, slot: sl})
			pending--
			inflight++
		}
		i := 0
		for j := range events {
			if events[j].at.Before(events[i].at) || (events[j].at.Equal(events[i].at) && !events[j].sent && events[i].sent) {
				i = j
			}
		}
		ev := events[i]
		events = slices.Delete(events, i, i+1)
		if ev.at.After(now) {
			now = ev.at
		}
		switch {
		case !ev.sent && p.stale(ev.slot, now):
			sl := p.reserve(now)
			events = append(events, event{at: sl.at, slot: sl})
		case !ev.sent:
			ra, ok := lim.Admit("organizations/o/apiKeys/k", "o", now)
			res.arrivals = append(res.arrivals, now)
			res.sent++
			if !ok {
				res.throttled++
			}
			events = append(events, event{at: now.Add(r.latency), slot: ev.slot, sent: true, ok: ok, retryAfter: ra})
		case ev.ok:
			p.answered(ev.slot, ev.at.Add(-r.latency), now)
			done++
			inflight--
		default:
			if testing.Verbose() && os.Getenv("PACER_TRACE") == "2" {
				t.Logf("%8.3fs 429 sent %.3f epoch %d/%d retry-after %v", now.Sub(t0).Seconds(), ev.at.Add(-r.latency).Sub(t0).Seconds(), ev.slot.epoch, p.epoch, ev.retryAfter)
			}
			p.throttled(ev.slot, ev.at.Add(-r.latency), now, ev.retryAfter)
			pending++
			inflight--
		}
		if now.Sub(t0) > 2*time.Hour {
			t.Fatalf("%+v: not done after 2 hours (%d of %d)", r, done, r.requests)
		}
	}
	res.elapsed = now.Sub(t0)
	res.penalties = lim.Stats().Organizations["o"].Penalties
	res.learned = p.learned()
	return res
}

// maxInAnySecond is the most arrivals in any one-second window.
func maxInAnySecond(arrivals []time.Time) int {
	a := slices.Clone(arrivals)
	slices.SortFunc(a, func(x, y time.Time) int { return x.Compare(y) })
	best, j := 0, 0
	for i := range a {
		for a[i].Sub(a[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestAdaptiveRateNearTheBoundOnEveryShape runs Coinbase's limiter shapes,
// from 3/s to 2,000/s, at 20 and 100 ms, with no flags (64 lanes at most, no
// ceiling), against the sandbox's own limiter on a simulated clock. What it
// holds the pacer to is what it reaches today, not yet the goal (1.2x the
// bound, 2% or 5 requests answered 429): within 1.25x of the bound (1.7x
// where a penalty box's limit, after a cold start, is known only within a
// factor of 2 and the pacer stays below the lower end), at most 7% answered
// 429 (a cold start overshoots a burst by up to rate x latency), and a
// penalty box entered at most once, which is the goal. The run after it, starting from the rate
// the cold run learned (as rates.json gives the next command), is held to the goal itself.
func TestAdaptiveRateNearTheBoundOnEveryShape(t *testing.T) {
	for _, shape := range []struct {
		limits  []string
		limit   float64 // sustained requests per second
		burst   int     // what the limit lets through at once
		penalty time.Duration
	}{
		{[]string{"3/1s"}, 3, 3, 0},
		{[]string{"30/1s"}, 30, 30, 0},
		{[]string{"25/1s,burst=50"}, 25, 50, 0},
		{[]string{"100/1s,penalty=30s"}, 100, 100, 30 * time.Second},
		{[]string{"25/1s,burst=50", "100/1s,penalty=30s"}, 25, 50, 0},
		{[]string{"2000/1s"}, 2000, 2000, 0},
	} {
		for _, lat := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
			name := fmt.Sprintf("%v@%v", shape.limits, lat)
			t.Run(name, func(t *testing.T) {
				requests := int(30 * shape.limit)
				res := simRun{limits: shape.limits, latency: lat, requests: requests, lanes: 64}.run(t)
				bound := time.Duration(float64(requests-shape.burst) / shape.limit * float64(time.Second))
				bound = max(bound, time.Duration(requests/64)*lat) + shape.penalty
				share := float64(res.throttled) / float64(res.sent)
				t.Logf("%s: %d requests in %v, bound %v (%.2fx), %d sent, %d answered 429 (%.2f%%), %d penalties, %d changes", name, requests, res.elapsed.Round(time.Millisecond), bound, res.elapsed.Seconds()/bound.Seconds(), res.sent, res.throttled, 100*share, res.penalties, len(res.changes))
				slack := 1.25
				if shape.penalty > 0 {
					slack = 1.7
				}
				if res.elapsed.Seconds() > bound.Seconds()*slack {
					t.Errorf("took %v, more than %vx the bound of %v", res.elapsed, slack, bound)
				}
				if res.throttled > max(5, res.sent*7/100) {
					t.Errorf("%d of %d requests answered 429, more than 7%% (or 5)", res.throttled, res.sent)
				}
				if res.penalties > 1 {
					t.Errorf("penalty box entered %d times", res.penalties)
				}
				// The next run starts from the rate this one learned (rates.json), and meets
				// the goal: within 1.2x of the bound, at most 2% (or 5) answered 429, a
				// penalty box entered at most once.
				warm := simRun{limits: shape.limits, latency: lat, requests: requests, lanes: 64, start: res.learned}.run(t)
				t.Logf("%s next run (starting at %.1f/s): %v (%.2fx), %d sent, %d answered 429 (%.2f%%), %d penalties", name, res.learned, warm.elapsed.Round(time.Millisecond), warm.elapsed.Seconds()/bound.Seconds(), warm.sent, warm.throttled, 100*float64(warm.throttled)/float64(warm.sent), warm.penalties)
				if warm.elapsed.Seconds() > bound.Seconds()*1.2 {
					t.Errorf("next run took %v, more than 1.2x the bound of %v", warm.elapsed, bound)
				}
				if warm.throttled > max(5, warm.sent*2/100) {
					t.Errorf("next run: %d of %d requests answered 429, more than 2%% (or 5)", warm.throttled, warm.sent)
				}
				if warm.penalties > 1 {
					t.Errorf("next run: penalty box entered %d times", warm.penalties)
				}
			})
		}
	}
}

func TestCeilingIsNeverExceeded(t *testing.T) {
	for _, ceiling := range []float64{5, 50, 400} {
		res := simRun{latency: 20 * time.Millisecond, requests: int(10 * ceiling), ceiling: ceiling, lanes: 64}.run(t)
		if got := maxInAnySecond(res.arrivals); float64(got) > ceiling+1 {
			t.Errorf("--rate %v: %d arrivals in one second", ceiling, got)
		}
		if min := 10 * time.Second * 95 / 100; res.elapsed < min || res.elapsed > 11*time.Second {
			t.Errorf("--rate %v: %d requests took %v, want about 10 s", ceiling, int(10*ceiling), res.elapsed)
		}
	}
}

func TestUnlimitedServiceReachesTheLaneCeilingFast(t *testing.T) {
	res := simRun{latency: 20 * time.Millisecond, requests: 201, lanes: 64}.run(t)
	// A fixed 64 lanes needs 5 round trips (1 for the pools, 4 for 200
	// wallet listings); slow start from 20/s costs about 10 more.
	if res.elapsed > 16*20*time.Millisecond {
		t.Errorf("201 requests took %v, more than 16 round trips", res.elapsed)
	}
	t.Logf("201 requests at 20 ms, no limit: %v; %v", res.elapsed, res.changes)
	if res.learned != 0 {
		t.Errorf("learned %v from an unlimited run, want 0", res.learned)
	}
	if math.IsInf(res.changes[len(res.changes)-1].Rate, 1) {
		t.Error("rate unbounded")
	}
}

// TestRisingLatencyCutsTheRateAndTheCutHolds: answers that queue (latency
// from 20 ms to 100 ms) end slow start and cut the rate, and once latency is
// flat again the rate grows from the cut, not straight back to the rate
// that queued.
func TestRisingLatencyCutsTheRateAndTheCutHolds(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var causes []string
	p := newPacer(now, true, 0, 64, 0, func(c RateChange) { causes = append(causes, c.Cause) })
	answer := func(lat time.Duration) {
		s := p.reserve(now)
		now = s.at.Add(lat)
		p.answered(s, s.at, now)
	}
	for range 20 {
		answer(20 * time.Millisecond)
	}
	peak := p.current().Rate
	for range 20 {
		answer(100 * time.Millisecond)
	}
	after := p.current()
	if after.Rate >= peak || after.Cause != CauseLatency {
		t.Fatalf("rate %v (%s) after latency rose from 20 to 100 ms; it was %v", after.Rate, after.Cause, peak)
	}
	if !slices.Contains(causes, CauseLatency) {
		t.Fatalf("no change reported for the rising latency: %v", causes)
	}
	for range 10 {
		answer(20 * time.Millisecond)
		if r := p.current().Rate; r >= peak {
			t.Fatalf("back to %v/s, the rate that queued (%v/s), as soon as latency fell", r, peak)
		}
	}
}
