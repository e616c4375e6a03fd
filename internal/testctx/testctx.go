// Package testctx gives tests a context that ends on its own, so that a test that would hang (a
// retry loop that never gives up, a call nobody answers) fails within seconds with a message
// instead of at go test's 10-minute timeout, which kills the whole package and says little.
package testctx

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Bound is how long a test's context lives unless WAASCTL_TEST_DEADLINE (a Go duration) says
// otherwise, for a slow machine or a debugger.
const Bound = 30 * time.Second

// New returns a context that is cancelled after Bound or when the test ends. It is a cancellation,
// not a deadline, on purpose: code under test that plans around a deadline (the WaaS client
// declines a retry wait that would outlast it) behaves as it does for a user without one. If
// the bound is what ended it, the test is told so, naming the bound.
func New(t testing.TB) context.Context {
	t.Helper()
	bound := Bound
	if v := os.Getenv("WAASCTL_TEST_DEADLINE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("WAASCTL_TEST_DEADLINE=%q: want a positive duration such as 30s", v)
		}
		bound = d
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	expired := fmt.Errorf("the test's context ended after %s (testctx.Bound): the test hung or is too slow", bound)
	timer := time.AfterFunc(bound, func() { cancel(expired) })
	t.Cleanup(func() {
		timer.Stop()
		if context.Cause(ctx) == expired {
			t.Errorf("%v", expired)
		}
		cancel(nil)
	})
	return ctx
}
