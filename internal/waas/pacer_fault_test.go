package waas

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
)

// faultRun is simRun with faults: fault(n, now) says whether the n-th
// request sent is answered 503 (status 503) or 429 (status 429) outside
// the limiter, with what Retry-After; limitsAfter replaces the limits at
// switchAt; latencyOf gives each request's latency (0: latency).
type faultRun struct {
	simRun
	fault       func(n int, now time.Time) (status int, retryAfter time.Duration)
	limitsAfter []string
	switchAt    time.Duration
	latencyOf   func(n int) time.Duration
}

func parseLimits(t *testing.T, ss []string) []sandbox.RateLimit {
	var limits []sandbox.RateLimit
	for _, s := range ss {
		rl, err := sandbox.ParseRateLimit(s)
		if err != nil {
			t.Fatal(err)
		}
		limits = append(limits, rl)
	}
	return limits
}

type faultResult struct {
	simResult
	faults    int
	finalRate float64
	doneAt    []time.Duration // when every 10% of requests was done
}

func (r faultRun) run(t *testing.T) faultResult {
	t.Helper()
	phase := r.phase
	if phase == 0 {
		phase = 300 * time.Millisecond
	}
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Add(phase)
	lim := sandbox.NewLimiter(parseLimits(t, r.limits), t0)
	switched := r.limitsAfter == nil
	var res faultResult
	now, pending, done := t0, r.requests, 0
	p := newPacer(t0, true, r.ceiling, max(r.lanes, 1), r.start, func(c RateChange) {
		res.changes = append(res.changes, c)
		if testing.Verbose() && os.Getenv("PACER_TRACE") != "" {
			t.Logf("%8.3fs %v (done %d)", now.Sub(t0).Seconds(), c, done)
		}
	})
	type answer struct {
		at, sentAt time.Time
		slot       slot
		status     int
		retryAfter time.Duration
	}
	var answers []answer
	inflight, waiting := 0, 0
	var tryAt time.Time
	n := 0
	for done < r.requests {
		if !switched && now.Sub(t0) >= r.switchAt {
			lim = sandbox.NewLimiter(parseLimits(t, r.limitsAfter), now)
			switched = true
		}
		for pending > 0 && inflight < p.concurrency() {
			if waiting == 0 {
				tryAt = now
			}
			pending--
			inflight++
			waiting++
		}
		i := -1
		for j := range answers {
			if i < 0 || answers[j].at.Before(answers[i].at) {
				i = j
			}
		}
		if waiting > 0 && (i < 0 || !answers[i].at.Before(tryAt)) {
			if tryAt.After(now) {
				now = tryAt
			}
			sl, askAgain, _, ok := p.take(now)
			if !ok {
				tryAt = askAgain
				continue
			}
			lat := r.latency
			if r.latencyOf != nil {
				lat = r.latencyOf(n)
			}
			oneWay := r.oneWay
			if oneWay > lat {
				oneWay = lat
			}
			status, ra := 0, time.Duration(0)
			if r.fault != nil {
				status, ra = r.fault(n, now)
			}
			n++
			if status == 0 {
				var admitted bool
				ra, admitted = lim.Admit("organizations/o/apiKeys/k", "o", now.Add(oneWay))
				status = 200
				if !admitted {
					status = 429
					res.throttled++
				}
			} else {
				res.faults++
			}
			res.arrivals = append(res.arrivals, now)
			res.sent++
			answers = append(answers, answer{at: now.Add(lat), sentAt: now, slot: sl, status: status, retryAfter: ra})
			waiting--
			continue
		}
		ev := answers[i]
		answers = slices.Delete(answers, i, i+1)
		if ev.at.After(now) {
			now = ev.at
		}
		switch ev.status {
		case 200:
			p.answered(ev.slot, ev.sentAt, now)
			done++
			if done%(r.requests/10) == 0 {
				res.doneAt = append(res.doneAt, now.Sub(t0).Round(100*time.Millisecond))
			}
		case 429:
			p.throttled(ev.slot, ev.sentAt, now, ev.retryAfter)
			pending++
		default:
			p.overloaded(ev.slot, now, ev.retryAfter)
			pending++
		}
		inflight--
		tryAt = now
		if now.Sub(t0) > 2*time.Hour {
			t.Fatalf("not done after 2 hours (%d of %d)", done, r.requests)
		}
	}
	res.elapsed = now.Sub(t0)
	res.penalties = lim.Stats().Organizations["o"].Penalties
	res.learned = p.learned()
	res.finalRate = p.current().Rate
	return res
}

func every(k int, status int, ra time.Duration) func(int, time.Time) (int, time.Duration) {
	return func(n int, _ time.Time) (int, time.Duration) {
		if n > 0 && n%k == 0 {
			return status, ra
		}
		return 0, 0
	}
}

func randomly(seed uint64, share float64, status int, ra time.Duration) func(int, time.Time) (int, time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(int, time.Time) (int, time.Duration) {
		if rng.Float64() < share {
			return status, ra
		}
		return 0, 0
	}
}

// TestOccasionalPausesDoNotStopProbing: a run resumed at the 50/s an
// earlier run learned, under a limit risen since to 200/s, from a service
// that answers a request now and then 503 with Retry-After: 1, finds the
// higher limit. With the cubic curve's clock started again at every
// pause's end, the rate stayed near 50/s: 6,000 requests took 128 s with a
// 503 in every 300, 175 s with 1% at random (66 s and 107 s now).
func TestOccasionalPausesDoNotStopProbing(t *testing.T) {
	const requests, limit = 6000, 200.0
	for _, c := range []struct {
		what  string
		fault func(int, time.Time) (int, time.Duration)
	}{
		{"a 503 in every 300 requests", every(300, 503, time.Second)},
		{"1% of requests answered 503 at random", randomly(1, 0.01, 503, time.Second)},
	} {
		run := faultRun{simRun: simRun{limits: []string{"200/1s"}, latency: 20 * time.Millisecond, requests: requests, lanes: 64, start: LearnedRate{Rate: 50}}, fault: c.fault}
		res := run.run(t)
		paused := time.Duration(res.faults) * time.Second
		sending := res.elapsed - paused
		t.Logf("%s: %v (%v of it paused), %d answered 429", c.what, res.elapsed.Round(100*time.Millisecond), paused, res.throttled)
		if bound := 2 * requests / limit; sending.Seconds() > bound {
			t.Errorf("%s: %v not paused, more than twice requests / limit (%.0f s): the rate never found the risen limit", c.what, sending.Round(100*time.Millisecond), bound)
		}
	}
}
