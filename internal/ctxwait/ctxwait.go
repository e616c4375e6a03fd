// Package ctxwait waits for a time to pass unless a context ends first: the one wait that
// retries, grace periods and pacing share.
package ctxwait

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done, whose error it then returns.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Until waits until t, or until ctx is done, whose error it then returns.
func Until(ctx context.Context, t time.Time) error { return Sleep(ctx, time.Until(t)) }
