package waas

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestServerErrorRetryAfterPausesEveryLane: a 503 that says when to come
// back (Retry-After: 1) holds every lane of an adaptive client until then,
// as a 429 does, not only the retry of the call that got it: the other
// lanes kept sending into a server that had said it was overloaded.
func TestServerErrorRetryAfterPausesEveryLane(t *testing.T) {
	var mu sync.Mutex
	var refusedAt time.Time
	var early []time.Duration // arrivals within the Retry-After
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		now := time.Now()
		mu.Lock()
		if requests.Add(1) == 1 {
			refusedAt = now
			mu.Unlock()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code": 14, "message": "overloaded"}`))
			return
		}
		if d := now.Sub(refusedAt); d < time.Second {
			early = append(early, d)
		}
		mu.Unlock()
		_, _ = w.Write([]byte(`{"pools": []}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Start: LearnedRate{Rate: 1000}, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	// Once the first call has its 503 (its retry is about to wait), seven
	// other lanes start: none may reach the server within the Retry-After.
	var others sync.WaitGroup
	var started sync.Once
	c.pauseHook = func(ctx context.Context, d time.Duration) error {
		started.Do(func() {
			for range 7 {
				others.Go(func() {
					if _, err := c.ListPools(ctx, PageRequest{}); err != nil {
						t.Error(err)
					}
				})
			}
		})
		return ctx.Err()
	}
	if _, err := c.ListPools(ctx, PageRequest{}); err != nil {
		t.Fatal(err)
	}
	others.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(early) > 0 {
		t.Fatalf("%d requests reached the server within the 503's Retry-After of 1 s (after %v)", len(early), early)
	}
	if n := requests.Load(); n != 9 {
		t.Fatalf("%d requests, want the refused one, its retry and 7 others", n)
	}
}

// overloadedServer answers the first `failing` requests with status (and
// Retry-After, if not empty), every later one with an empty pool list.
func overloadedServer(t *testing.T, failing int64, status int, retryAfter string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) <= failing {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"code": 14, "message": "overloaded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"pools": []}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestServerErrorsCutTheAdaptiveRate: 502, 503 and 504 without Retry-After
// say the server is struggling; the adaptive rate is cut multiplicatively
// (once for each round of them), so that it is not hammered at the rate it
// could carry before. A 500 (a bug, not a load) leaves the rate as it was.
func TestServerErrorsCutTheAdaptiveRate(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv, requests := overloadedServer(t, 3, status, "")
			c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Start: LearnedRate{Rate: 1000}})
			if err != nil {
				t.Fatal(err)
			}
			recordPauses(c)
			if _, err := c.ListPools(testContext(t), PageRequest{}); err != nil || requests.Load() != 4 {
				t.Fatalf("three %d then success: %v after %d requests", status, err, requests.Load())
			}
			got := c.RateNow()
			if status == http.StatusInternalServerError {
				if got.Rate < 1000 {
					t.Fatalf("a 500 cut the rate from 1000/s to %v", got)
				}
				return
			}
			// Three answers in a row, each to a request sent after the
			// cut before it: the first alone could be a blip; the second
			// and third cut, by pacerBeta each.
			if want := 1000 * pacerBeta * pacerBeta * 1.01; got.Rate > want || got.Cause != CauseOverloaded {
				t.Fatalf("after three %d the rate is %v, want at most %.0f/s, %q", status, got, want, CauseOverloaded)
			}
		})
	}
}

// TestABurstOfServerErrorsCutsOnce: 503s to requests sent together (one
// per lane, before any cut) are one overload, cut for once, as TCP cuts
// once per window; and overload alone never cuts below where a cold start
// begins (the floor of a rate already lower stays its own).
func TestABurstOfServerErrorsCutsOnce(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := newPacer(now, true, 0, 64, LearnedRate{Rate: 1000}, nil)
	var slots []slot
	for range 20 {
		s, askAgain, _, ok := p.take(now)
		if !ok {
			now = askAgain
			s, _, _, _ = p.take(now)
		}
		slots = append(slots, s)
	}
	now = now.Add(20 * time.Millisecond)
	for _, s := range slots {
		p.overloaded(s, now, 0)
	}
	if got := p.current().Rate; got != 1000*pacerBeta {
		t.Fatalf("20 503s to requests sent together cut the rate to %v/s, want %v/s (one cut)", got, 1000*pacerBeta)
	}
	for range 40 {
		s, askAgain, _, ok := p.take(now)
		if !ok {
			now = askAgain
			continue
		}
		now = now.Add(20 * time.Millisecond)
		p.overloaded(s, now, 0)
	}
	if got := p.current().Rate; got != pacerStartRate {
		t.Fatalf("after 40 503s in a row the rate is %v/s, want the floor of %v/s", got, pacerStartRate)
	}
	if l := p.learned(); l.Rate != 0 && !l.Unlimited {
		t.Fatalf("overload learned as the service's limit: %+v", l)
	}
}

// TestAServerThatAlwaysFailsStillEndsClearly: a server answering 503 to
// everything ends the call after the attempt limit with the 503, as
// without adaptation, and does not hang: the adaptive rate, cut at each
// 503, stays at or above the cold start's 20/s.
func TestAServerThatAlwaysFailsStillEndsClearly(t *testing.T) {
	srv, requests := overloadedServer(t, 1<<30, http.StatusServiceUnavailable, "")
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Start: LearnedRate{Rate: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	recordPauses(c)
	_, err = c.ListPools(testContext(t), PageRequest{})
	if HTTPCode(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "(after 10 attempts)") || requests.Load() != 10 {
		t.Fatalf("always 503: %v after %d requests, want the 503 after 10 attempts", err, requests.Load())
	}
	if got := c.RateNow().Rate; got < pacerStartRate {
		t.Fatalf("always 503: the rate fell to %v/s", got)
	}
}

// TestServerErrorWaitsAreBounded: a server error's Retry-After is waited
// out, but not one longer than MaxRetryAfter (the call ends at once, saying
// how long the server asked for: it was waited out, up to a day, at every
// one of 10 attempts), and not more than MaxThrottleWait in all.
func TestServerErrorWaitsAreBounded(t *testing.T) {
	srv, requests := overloadedServer(t, 1, http.StatusServiceUnavailable, "3600")
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	_, err = c.ListPools(testContext(t), PageRequest{})
	if HTTPCode(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "asks to wait 1h0m0s") || len(waits()) != 0 || requests.Load() != 1 {
		t.Fatalf("503 with Retry-After: 3600: %v, waits %v, %d requests; want the 503 at once, saying the wait asked", err, waits(), requests.Load())
	}

	srv, requests = overloadedServer(t, 1<<30, http.StatusServiceUnavailable, "110")
	c, err = New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
	if err != nil {
		t.Fatal(err)
	}
	waits = recordPauses(c)
	_, err = c.ListPools(testContext(t), PageRequest{})
	var total time.Duration
	for _, w := range waits() {
		total += w
	}
	// 110 s waits fit twice into 5 minutes; the third would not.
	if HTTPCode(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "asking to wait 3m40s in all") || total > MaxThrottleWait || len(waits()) != 2 || requests.Load() != 3 {
		t.Fatalf("always 503, Retry-After: 110: %v; waits %v (%v in all), %d requests; want the 503 after 2 waits", err, waits(), total, requests.Load())
	}
}

// alternatingServer answers every request with the next status of
// statuses in turn, each with Retry-After: retryAfter.
func alternatingServer(t *testing.T, retryAfter string, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(statuses[int(n-1)%len(statuses)])
		_, _ = w.Write([]byte(`{"code": 14, "message": "overloaded"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestRetryAfterBudgetIsSharedBy429sAndServerErrors: a call waits out at
// most MaxThrottleWait of Retry-After in all, whether the server asks it
// with 429s or with 503s: a server alternating them had each kind's own
// 5 minutes waited, 7m20s+ in all (4 waits of 110 s); and the error says
// what was waited in all, not the 503s' share of it.
func TestRetryAfterBudgetIsSharedBy429sAndServerErrors(t *testing.T) {
	srv, requests := alternatingServer(t, "110", http.StatusServiceUnavailable, http.StatusTooManyRequests)
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	_, err = c.ListPools(testContext(t), PageRequest{})
	var total time.Duration
	for _, w := range waits() {
		total += w
	}
	// The error says what was waited in all, 429s' waits included.
	if err == nil || total > MaxThrottleWait || !strings.Contains(err.Error(), "wait 3m4") || !strings.Contains(err.Error(), "try again later") {
		t.Fatalf("503 and 429 in turn, Retry-After: 110: %v; waits %v (%v in all) over %d requests; want the call ended within %v of waits", err, waits(), total, requests.Load(), MaxThrottleWait)
	}
}

// TestAdaptiveRetryAfterBudgetCountsServerErrorsBefore429s: with the
// adaptive rate, a 429's budget is the time since the call's first 429;
// the Retry-After of server errors before it waited out counts too (3 s of
// 503s, then 3 s more of 429s, against a budget of 3 s).
func TestAdaptiveRetryAfterBudgetCountsServerErrorsBefore429s(t *testing.T) {
	defer func(d time.Duration) { maxThrottleWait = d }(maxThrottleWait)
	maxThrottleWait = 3 * time.Second
	srv, requests := alternatingServer(t, "1", http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable,
		http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusTooManyRequests)
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true})
	if err != nil {
		t.Fatal(err)
	}
	// No recordPauses: the pacer holds every lane for a 503's Retry-After
	// in real time as well, so the real time is what the call waited.
	start := time.Now()
	_, err = c.ListPools(testContext(t), PageRequest{})
	if total := time.Since(start); err == nil || total > maxThrottleWait+time.Second {
		t.Fatalf("three 503 then 429s, Retry-After: 1: %v; waited %v in all over %d requests, want at most %v", err, total.Round(time.Millisecond), requests.Load(), maxThrottleWait)
	}
}

// TestAnOutageIsNotRememberedAsTheLimit: 503s cut the rate but are not the
// service's limit (docs/inventory.md): a run limited by 429s that then met
// an outage remembered the rate the 503s had cut it to (20/s, where the
// 429 had shown 47.5/s), and the next run resumed at that as its limit.
func TestAnOutageIsNotRememberedAsTheLimit(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := newPacer(now, true, 0, 64, LearnedRate{Rate: 100}, nil)
	answer := answerer(p, &now)
	for range 150 { // 1.5 s at the limit learned before
		answer(20 * time.Millisecond)
	}
	s, askAgain, _, ok := p.take(now)
	if !ok {
		now = askAgain
		s, _, _, _ = p.take(now)
	}
	now = now.Add(20 * time.Millisecond)
	p.throttled(s, s.at, now, 0)
	limit := p.learned()
	if limit.Rate <= pacerStartRate || limit.Unlimited {
		t.Fatalf("a 429 at 100/s learned %+v", limit)
	}
	for range 20 { // an outage: 503s to everything
		s, askAgain, _, ok := p.take(now)
		if !ok {
			now = askAgain
			continue
		}
		now = now.Add(20 * time.Millisecond)
		p.overloaded(s, now, 0)
	}
	if r := p.current().Rate; r != pacerStartRate {
		t.Fatalf("the outage left the rate at %v/s, want it cut to %v/s", r, pacerStartRate)
	}
	if l := p.learned(); l != limit {
		t.Fatalf("after an outage the run learned %+v, want the limit the 429 showed, %+v", l, limit)
	}

	// Nor is a run held at the --rate ceiling, then cut by an outage,
	// remembered as unlimited at the ceiling (or below it).
	p = newPacer(now, true, 100, 64, LearnedRate{}, nil)
	answer = answerer(p, &now)
	for range 200 {
		answer(time.Millisecond)
	}
	if r := p.current(); r.Rate != 100 {
		t.Fatalf("a clean run under --rate 100: %v", r)
	}
	for range 10 {
		s, askAgain, _, ok := p.take(now)
		if !ok {
			now = askAgain
			continue
		}
		now = now.Add(time.Millisecond)
		p.overloaded(s, now, 0)
	}
	if l := p.learned(); l != (LearnedRate{}) {
		t.Fatalf("a run at the --rate ceiling, then an outage, learned %+v; the ceiling, not the service, set its rate", l)
	}
}

// TestCallsBehindASharedPauseStillEndInTime: with the adaptive rate a
// Retry-After holds every lane, so when the service answers every request
// with one, calls take turns: each pause lets about one request through,
// whose answer starts the next. Eight calls at once against a service
// answering 503 (and then 429) with Retry-After: 1 had made 10 requests in
// 10 s with no call ended, for a budget of 2 s: with --concurrency 64 and
// Retry-After: 110, hours. Every call now ends once the service has
// refused everything for the budget.
func TestCallsBehindASharedPauseStillEndInTime(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			defer func(d time.Duration) { maxThrottleWait = d }(maxThrottleWait)
			maxThrottleWait = 2 * time.Second
			srv, requests := alternatingServer(t, "1", status)
			c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Concurrency: 8})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t)
			start := time.Now()
			var calls sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				calls.Go(func() { _, errs[i] = c.ListPools(ctx, PageRequest{}) })
			}
			calls.Wait()
			took := time.Since(start)
			// The budget, then at most a call's own wait of a Retry-After and the
			// lanes' pause of another that began just before it ran out, and a
			// little for the calls' own work (10 s, the test's deadline, before).
			if bound := maxThrottleWait + 3*time.Second; took > bound {
				t.Fatalf("8 calls, every answer %d with Retry-After: 1: ended after %v and %d requests; want within %v", status, took.Round(time.Millisecond), requests.Load(), bound)
			}
			for _, err := range errs {
				if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "try again later") {
					t.Fatalf("a call ended with %v; want a one-line error saying to try again later", err)
				}
			}
		})
	}
}

// TestALoneServerErrorDoesNotEndSlowStart: one 502 among clean answers (a
// load balancer's blip) is retried and nothing more: it ended slow start
// and cut the rate by 30%, and a cold listing of 3,000 requests at 20 ms
// took 30 s instead of about 1 s. Server errors cut from the second in a
// row.
func TestALoneServerErrorDoesNotEndSlowStart(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := newPacer(now, true, 0, 64, LearnedRate{}, nil)
	answer := answerer(p, &now)
	for range 10 {
		answer(20 * time.Millisecond)
	}
	before := p.current().Rate
	s, askAgain, _, ok := p.take(now)
	if !ok {
		now = askAgain
		s, _, _, _ = p.take(now)
	}
	now = now.Add(20 * time.Millisecond)
	p.overloaded(s, now, 0)
	if got := p.current(); got.Rate < before || !p.slowStart {
		t.Fatalf("one 502 after 10 clean answers: rate %v (was %.0f/s), slow start %v; want neither cut nor ended", got, before, p.slowStart)
	}
	for range 10 {
		answer(20 * time.Millisecond)
	}
	if got := p.current().Rate; got <= before {
		t.Fatalf("the rate stopped growing after one 502: %v, was %.0f/s", got, before)
	}
}
