package cmdutil

import (
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/ctxwait"
)

// Countdown shows the time left until a deadline on stderr, redrawn every second, when stderr is a
// terminal:
//
//	grace period: 23h59m12s left (until 2026-12-07 14:00:00 CET) [=====>        ]
//
// Elsewhere (a CI log) it draws nothing; the caller has said once what it waits for. Finish
// erases the line.
type Countdown struct {
	bar  *progressbar.ProgressBar
	stop chan struct{}
	done chan struct{}
}

// StartCountdown starts a countdown to until, labelled what.
func StartCountdown(ios *iostreams.IOStreams, until time.Time, what string) *Countdown {
	c := &Countdown{}
	if !ios.IsStderrTTY() {
		return c
	}
	start := time.Now()
	total := until.Sub(start)
	if total < time.Second {
		return c
	}
	c.bar = progressbar.NewOptions64(int64(total/time.Second),
		progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionSetDescription(describe(what, until, total)),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowCount(),
		progressbar.OptionEnableColorCodes(false),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				left := until.Sub(now)
				c.bar.Describe(describe(what, until, left))
				_ = c.bar.Set64(int64(now.Sub(start) / time.Second))
			}
		}
	}()
	return c
}

// describe names the time zone: an operator reading the line beside a UTC
// log or a colleague in another zone needs it.
func describe(what string, until time.Time, left time.Duration) string {
	return fmt.Sprintf("%s: %s left (until %s)", what, max(left, 0).Round(time.Second), ClockTime(until, time.Local))
}

// Finish stops the countdown and erases its line. It may be called more than once.
func (c *Countdown) Finish() {
	if c == nil || c.bar == nil {
		return
	}
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
	_ = c.bar.Finish()
}

// WaitUntil waits until the deadline or the end of ctx (then returning its error), with a
// countdown on a terminal.
func WaitUntil(ctx context.Context, ios *iostreams.IOStreams, until time.Time, what string) error {
	if !time.Now().Before(until) {
		return nil
	}
	c := StartCountdown(ios, until, what)
	defer c.Finish()
	return ctxwait.Until(ctx, until)
}
