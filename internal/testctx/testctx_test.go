package testctx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records what a test would have been told.
type recorder struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Cleanup(f func())               { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, a ...any) { r.errors = append(r.errors, format) }
func (r *recorder) Fatalf(format string, a ...any) {
	r.errors = append(r.errors, format)
	panic("fatal")
}
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestContextEndsAfterTheBoundAndSaysSo(t *testing.T) {
	t.Setenv("WAASCTL_TEST_DEADLINE", "1ms")
	r := &recorder{TB: t}
	ctx := New(r)
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the context did not end 10 s after a bound of 1ms")
	}
	if _, ok := ctx.Deadline(); ok {
		t.Error("the context has a deadline; code under test would plan around it")
	}
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "ran for 1ms") {
		t.Errorf("cause %v, want one naming the bound", cause)
	}
	r.runCleanups()
	if len(r.errors) != 1 {
		t.Errorf("the test was told %q, want one error", r.errors)
	}
}

func TestContextEndsWithTheTestWithoutAnError(t *testing.T) {
	r := &recorder{TB: t}
	ctx := New(r)
	if ctx.Err() != nil {
		t.Fatalf("a new context is already done: %v", ctx.Err())
	}
	if New(r) != ctx || len(r.cleanups) != 1 {
		t.Fatal("a second call made a second context: each would get its own bound")
	}
	r.runCleanups()
	if !errors.Is(ctx.Err(), context.Canceled) || len(r.errors) != 0 {
		t.Errorf("after the test: err %v, errors %q; want cancelled and no error", ctx.Err(), r.errors)
	}
}

func TestBadBoundIsRefused(t *testing.T) {
	t.Setenv("WAASCTL_TEST_DEADLINE", "soon")
	r := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		New(r)
	}()
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "WAASCTL_TEST_DEADLINE") {
		t.Errorf("errors %q, want one naming WAASCTL_TEST_DEADLINE", r.errors)
	}
}
