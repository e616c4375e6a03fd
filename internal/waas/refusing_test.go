package waas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAnswersWithoutAWaitEndTheServiceRefusing: one 429 with Retry-After, then
// answers with no wait (404s: the service answering, only not with a page)
// for longer than the budget: the calls waiting their turn ended with "the
// service has answered every request with a wait", which it had not (the
// rate cut to 0.5/s by the 429, a 404 every 2 s, all calls refused at 3 s).
func TestAnswersWithoutAWaitEndTheServiceRefusing(t *testing.T) {
	defer func(d time.Duration) { maxThrottleWait = d }(maxThrottleWait)
	maxThrottleWait = 3 * time.Second
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		} else {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(`{"code": 5, "message": "not found"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Concurrency: 4, Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	// Past the budget by 1.5 s: a 404 or two later; the calls still
	// waiting then end with the context.
	ctx, cancel := context.WithTimeout(testContext(t), maxThrottleWait+1500*time.Millisecond)
	defer cancel()
	var calls sync.WaitGroup
	var refused atomic.Int64
	for range 4 {
		calls.Go(func() {
			for ctx.Err() == nil {
				if _, err := c.ListPools(ctx, PageRequest{}); errors.Is(err, errServiceRefusing) {
					refused.Add(1)
				}
			}
		})
	}
	calls.Wait()
	if n := refused.Load(); n > 0 {
		t.Fatalf("%d calls, among %d requests answered 404 with no wait, ended saying the service answered every request with a wait", n, requests.Load())
	}
}
