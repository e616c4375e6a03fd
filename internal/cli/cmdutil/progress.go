package cmdutil

import (
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// Progress shows a spinner with a running count and rate on stderr while a long enumeration runs:
//
//	⠹ wallets (1234, 310 wallets/s)
//
// It draws only when stderr is a terminal; otherwise every method is a no-op, so a CI log or a
// redirected stderr never receives carriage returns. It never uses colour, which honours NO_COLOR
// without having to look at it. Add is safe for concurrent use.
//
// Call Finish (usually deferred) before printing the results: it erases the line so that the
// results start on a clean one, and stops the goroutine that animates the spinner. A streaming
// format printed to the same terminal while the spinner runs would interleave with it, so show
// progress only when the output is buffered (the table) or goes elsewhere.
type Progress struct {
	bar         *progressbar.ProgressBar // nil when there is no terminal to draw on
	description string
	status      atomic.Pointer[string] // the rate status last shown
}

// NewProgress starts a progress line for items called description, for example "wallets".
func NewProgress(ios *iostreams.IOStreams, description string) *Progress {
	if !ios.IsStderrTTY() {
		return &Progress{}
	}
	bar := progressbar.NewOptions64(-1, // unknown total: a spinner rather than a bar
		progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSpinnerType(14), // braille dots, as the GitHub CLI uses
		progressbar.OptionShowCount(),
		progressbar.OptionShowTotalBytes(false), // else the count reads "1234/-"
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(description),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionEnableColorCodes(false),
		// Redrawing on every Add would cost more than the enumeration when items arrive by the
		// thousand; 65ms is faster than the eye notices.
		progressbar.OptionThrottle(65*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		// Drawing the empty state at once shows that something is happening while the first page
		// is fetched. It also starts the bar's clock before its spinner goroutine exists: starting
		// it later, from Add, races with that goroutine's unlocked IsStarted check.
		progressbar.OptionSetRenderBlankState(true),
	)
	return &Progress{bar: bar, description: description}
}

// Add counts n more items.
func (p *Progress) Add(n int) {
	if p == nil || p.bar == nil {
		return
	}
	// The adaptive rate and how it was found: "wallets (41/s, limited by the service (429))".
	if st, old := rateStatus.Load(), p.status.Load(); st != nil && st != old && p.status.CompareAndSwap(old, st) {
		p.bar.Describe(p.description + " (" + *st + ")")
	}
	// A failed write to stderr is not worth failing the command for; the results still matter.
	_ = p.bar.Add(n)
}

// Finish erases the progress line. It may be called more than once; Add after Finish does nothing.
func (p *Progress) Finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
}
