// Package testctx gives tests a context that ends on its own, so that a test that would hang (a
// retry loop that never gives up, a call nobody answers) fails within a minute with a message
// instead of at go test's 10-minute timeout, which kills the whole package and says little.
package testctx

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Bound is how long a test may run with its context before the context is cancelled, unless
// WAASCTL_TEST_DEADLINE (a Go duration) says otherwise, for a slow machine or a debugger. Tests
// take seconds; the margin is for the race detector on a loaded machine.
const Bound = time.Minute

var (
	mu     sync.Mutex
	byTest = map[testing.TB]context.Context{}
)

// New returns the test's context: one per test, however often it is called, cancelled Bound
// after the first call or when the test ends. It is a cancellation, not a deadline, on purpose:
// code under test that plans around a deadline (the WaaS client declines a retry wait that
// would outlast it) behaves as it does for a user without one. If the bound ended it, the test
// fails saying so.
func New(t testing.TB) context.Context {
	t.Helper()
	return WithBound(t, 0)
}

// WithBound is New for a test that needs longer than Bound (a long sweep); 0 means Bound. Only
// the first call of a test sets its bound.
func WithBound(t testing.TB, bound time.Duration) context.Context {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if ctx, ok := byTest[t]; ok {
		return ctx
	}
	if bound == 0 {
		bound = Bound
	}
	if v := os.Getenv("WAASCTL_TEST_DEADLINE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("WAASCTL_TEST_DEADLINE=%q: want a positive duration such as 30s", v)
		}
		bound = d
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	expired := fmt.Errorf("the test ran for %s (its testctx bound): it hung or is too slow; WAASCTL_TEST_DEADLINE sets a longer bound", bound)
	timer := time.AfterFunc(bound, func() { cancel(expired) })
	byTest[t] = ctx
	t.Cleanup(func() {
		timer.Stop()
		if context.Cause(ctx) == expired {
			t.Errorf("%v", expired)
		}
		cancel(nil)
		mu.Lock()
		delete(byTest, t)
		mu.Unlock()
	})
	return ctx
}
