package cmdutil

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

func TestWaitUntilEndsWithTheContext(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitUntil(ctx, ios, time.Now().Add(time.Hour), "grace period"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if err := WaitUntil(context.Background(), ios, time.Now().Add(-time.Second), "grace period"); err != nil {
		t.Fatalf("a deadline already past: %v", err)
	}
	if stderr.Len() != 0 {
		t.Fatalf("drew on a stderr that is not a terminal: %q", stderr.String())
	}
}

func TestCountdownDrawsOnATerminal(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	ios.SetStderrTTY(true)
	c := StartCountdown(ios, time.Now().Add(2*time.Hour), "grace period")
	c.Finish()
	c.Finish() // twice is fine
	if out := stderr.String(); !strings.Contains(out, "grace period: 2h0m0s left (until ") && !strings.Contains(out, "grace period: 1h59m59s left (until ") {
		t.Fatalf("countdown line: %q", out)
	}
}

func TestCountdownNamesTheTimeZone(t *testing.T) {
	until := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	got := describe("grace period", until, time.Hour)
	if want := until.Local().Format(time.DateTime) + " " + until.Local().Format("MST") + ")"; !strings.HasSuffix(got, want) {
		t.Fatalf("countdown says %q, want it to end with %q", got, want)
	}
}
