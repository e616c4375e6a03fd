package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/testctx"
)

// Ctrl-C while `keys revoke` waits for WaaS to refuse the revoked key ends the wait at once
// with the interruption, not after the pause between tries (an hour here).
func TestCtrlCEndsTheWaitForTheRevocation(t *testing.T) {
	saved := rejectionBackoff
	rejectionBackoff = func(int) time.Duration { return time.Hour }
	t.Cleanup(func() { rejectionBackoff = saved })

	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- waitRejected(ctx, func(context.Context) error {
			cancel() // the user presses Ctrl-C while WaaS still accepts the key
			return nil
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the interruption", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Ctrl-C did not end the wait for the revocation (20 s)")
	}
}

// The wait pauses between tries, never after the last one: a revocation WaaS does not
// confirm ends after rejectionTries tries and rejectionTries-1 pauses.
func TestTheRevocationWaitDoesNotPauseAfterItsLastTry(t *testing.T) {
	saved := rejectionBackoff
	var pauses []int
	rejectionBackoff = func(try int) time.Duration { pauses = append(pauses, try); return 0 }
	t.Cleanup(func() { rejectionBackoff = saved })
	calls := 0
	err := waitRejected(testctx.New(t), func(context.Context) error { calls++; return nil })
	if err == nil || calls != rejectionTries {
		t.Fatalf("%d tries, err %v; want %d tries and an error", calls, err, rejectionTries)
	}
	if len(pauses) != rejectionTries-1 || pauses[len(pauses)-1] != rejectionTries-1 {
		t.Fatalf("pauses after tries %v, want after each of the first %d", pauses, rejectionTries-1)
	}
}
