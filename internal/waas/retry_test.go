package waas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// throttlingServer answers the first `throttled` requests with 429 and a Retry-After of
// retryAfter, and every later one with an empty pool list.
func throttlingServer(t *testing.T, throttled int64, retryAfter string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) <= throttled {
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"code": 8, "message": "slow down"}`))
			return
		}
		_, _ = w.Write([]byte(`{"pools": []}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// recordPauses replaces c's waits between retries: each one is recorded and returns at once, so
// the test checks the wait asked for rather than timing a real one.
func recordPauses(c *Client) func() []time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	c.pauseHook = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return ctx.Err()
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(waits)
	}
}

// testContext is cancelled after 10 seconds: a retry loop that never ends fails here with a
// message, not at go test's 10-minute timeout. It is a cancellation rather than a deadline
// because the client declines waits that would outlast a deadline, which would hide the long
// waits these tests check.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := time.AfterFunc(10*time.Second, func() { cancel(errors.New("test still running after 10 s")) })
	t.Cleanup(func() { stop.Stop(); cancel(nil) })
	return ctx
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	srv, requests := throttlingServer(t, 1, "3")
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Backoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	if _, err := c.ListPools(testContext(t), PageRequest{}); err != nil {
		t.Fatalf("the call should succeed after waiting: %v", err)
	}
	// Never sooner than the 3 s asked for; the jitter on top is at most 4 backoffs (400 ms).
	got := waits()
	if len(got) != 1 || got[0] < 3*time.Second || got[0] > 3*time.Second+400*time.Millisecond {
		t.Fatalf("waited %v before retrying, want one wait of 3 s to 3.4 s (Retry-After: 3)", got)
	}
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d requests, want the throttled one and one retry", n)
	}
	if s := c.Stats(); s.Throttled != 1 || s.Retries != 1 || s.Requests != 2 {
		t.Fatalf("stats %+v, want 1 throttled, 1 retry, 2 requests", s)
	}
}

func TestRetryGivesUpOnAnUnreasonableRetryAfter(t *testing.T) {
	for _, retryAfter := range []string{"3600", "121"} { // an hour, and just over MaxRetryAfter
		srv, requests := throttlingServer(t, 1, retryAfter)
		c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
		if err != nil {
			t.Fatal(err)
		}
		waits := recordPauses(c)
		// The wait is not waited out: the 429 comes back at once, saying what the server asked.
		_, err = c.ListPools(testContext(t), PageRequest{})
		if HTTPCode(err) != http.StatusTooManyRequests {
			t.Fatalf("Retry-After %s: want the 429, got %v", retryAfter, err)
		}
		if w := waits(); len(w) != 0 || requests.Load() != 1 {
			t.Fatalf("Retry-After %s: %d requests and waits %v, want 1 request and no wait", retryAfter, requests.Load(), w)
		}
	}
}

func TestRetryWaitsOutARetryAfterAtTheLimit(t *testing.T) {
	srv, requests := throttlingServer(t, 1, "120") // MaxRetryAfter exactly: waited out
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	if _, err := c.ListPools(testContext(t), PageRequest{}); err != nil {
		t.Fatalf("a Retry-After of MaxRetryAfter should be waited out: %v", err)
	}
	if w := waits(); len(w) != 1 || w[0] < MaxRetryAfter || requests.Load() != 2 {
		t.Fatalf("waits %v and %d requests, want one wait of at least %v and 2 requests", w, requests.Load(), MaxRetryAfter)
	}
}

func TestThrottledWaitsAreBoundedInTotal(t *testing.T) {
	srv, requests := throttlingServer(t, 1<<30, "29") // throttled for ever
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS)})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	_, err = c.ListPools(testContext(t), PageRequest{})
	if HTTPCode(err) != http.StatusTooManyRequests {
		t.Fatalf("want the last 429 once MaxThrottleWait is used up, got %v", err)
	}
	var total time.Duration
	for _, w := range waits() {
		total += w
	}
	// 29 s waits fit 10 times into 5 minutes (with jitter at most 400 ms each); the 11th would not.
	if n := len(waits()); n != 10 || total > MaxThrottleWait || requests.Load() != 11 {
		t.Fatalf("%d waits totalling %v, %d requests; want 10 waits within %v and 11 requests", n, total, requests.Load(), MaxThrottleWait)
	}
}

// An endpoint that does not answer is retried as before, but the person waiting is told once,
// at the first retry, not left through ten silent attempts; an HTTP error is not "unreachable".
func TestUnreachableIsReportedOnceAtTheFirstRetry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now: every connection is refused
	var calls []int
	c, err := New(Options{Endpoint: url, Signer: newSigner(t, newP256(t), FormWaaS), MaxAttempts: 4, AllowInsecureHTTP: true,
		OnUnreachable: func(call string, err error, attempts int) {
			if !Unreachable(err) || call == "" {
				t.Errorf("reported %q, %v", call, err)
			}
			calls = append(calls, attempts)
		}})
	if err != nil {
		t.Fatal(err)
	}
	waits := recordPauses(c)
	for range 2 {
		if _, err := c.ListPools(testContext(t), PageRequest{}); !Unreachable(err) {
			t.Fatalf("want the refused connection, got %v", err)
		}
	}
	if len(calls) != 1 || calls[0] != 4 || len(waits()) != 6 {
		t.Fatalf("reported %v over %d retries, want once (saying 4 attempts) over 6", calls, len(waits()))
	}

	throttled, _ := throttlingServer(t, 1, "1")
	reported := false
	c, err = New(Options{Endpoint: throttled.URL, Signer: newSigner(t, newP256(t), FormWaaS), OnUnreachable: func(string, error, int) { reported = true }})
	if err != nil {
		t.Fatal(err)
	}
	recordPauses(c)
	if _, err := c.ListPools(testContext(t), PageRequest{}); err != nil || reported {
		t.Fatalf("a 429 retried: %v, reported as unreachable: %v", err, reported)
	}
}

// TestThrottleNeverRaisesTheRateAboveTheCeiling: with --no-adapt and a
// --rate under 1/s, a 429 slows the client down, never up to 1/s (the
// floor of the backoff), and the recovery never passes --rate either.
func TestThrottleNeverRaisesTheRateAboveTheCeiling(t *testing.T) {
	c, err := New(Options{Endpoint: "https://example.invalid", Signer: newSigner(t, newP256(t), FormWaaS), Rate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	c.throttle()
	if got := float64(c.limiter.Limit()); got > 0.5 {
		t.Fatalf("--rate 0.5: after a 429 the limit is %v/s", got)
	}
	for range 200 {
		c.recovered()
	}
	if got := float64(c.limiter.Limit()); got > 0.5 {
		t.Fatalf("--rate 0.5: after recovering the limit is %v/s", got)
	}
}
