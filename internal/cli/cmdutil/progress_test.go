package cmdutil

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// screenLine returns what a terminal shows on the cursor's line after printing s: a carriage
// return moves back to column 0 and later text overwrites what was there.
func screenLine(s string) string {
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		s = s[i+1:]
	}
	var line []rune
	col := 0
	for _, r := range s {
		if r == '\r' {
			col = 0
			continue
		}
		if col < len(line) {
			line[col] = r
		} else {
			line = append(line, r)
		}
		col++
	}
	return strings.TrimRight(string(line), " ")
}

func TestProgressSilentWithoutTerminal(t *testing.T) {
	ios, _, stdout, stderr := iostreams.Test()
	ios.SetStdoutTTY(true) // only stderr matters
	p := NewProgress(ios, "wallets")
	p.Add(5)
	p.Finish()
	if stderr.Len() != 0 || stdout.Len() != 0 {
		t.Fatalf("progress wrote without a terminal: stderr %q, stdout %q", stderr, stdout)
	}
}

// syncBuffer lets the test read what the spinner goroutine writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestProgressOnTerminal(t *testing.T) {
	ios, _, stdout, _ := iostreams.Test()
	stderr := &syncBuffer{}
	ios.ErrOut = stderr
	ios.SetStderrTTY(true)
	p := NewProgress(ios, "wallets")

	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	p.Add(234)
	// Adds within 65ms of a drawing are not drawn; the spinner's next tick shows the count.
	var line string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if line = screenLine(stderr.String()); strings.Contains(line, "(1234, ") {
			break
		}
	}
	if !strings.Contains(line, " wallets (1234, ") || !strings.HasSuffix(line, " wallets/s)") {
		t.Errorf("progress line %q, want spinner, description, count and rate", line)
	}
	if !spinnerGoroutineRuns() {
		t.Fatal("no spinner goroutine found while the progress line shows: the check after Finish would prove nothing")
	}
	p.Finish()

	out := stderr.String()
	if strings.Contains(out, "\x1b") {
		t.Errorf("progress wrote an escape sequence (colour?): %q", out)
	}
	if got := screenLine(out); got != "" {
		t.Errorf("after Finish the terminal line still shows %q", got)
	}
	if stdout.Len() != 0 {
		t.Errorf("progress wrote to stdout: %q", stdout)
	}

	// Finish is idempotent and Add after it draws nothing. The event that proves it is the end of
	// the spinner's goroutine (it ends at its first tick after Finish): once it is gone nothing is
	// left that could draw, so anything written by then was written after Finish.
	p.Finish()
	p.Add(1)
	waitForNoSpinnerGoroutine(t)
	if after := stderr.String(); after != out {
		t.Errorf("wrote after Finish: %q", after[len(out):])
	}
}

// waitForNoSpinnerGoroutine waits until the progress bar's spinner goroutine has returned, and fails
// the test if it is still running after 5 seconds (a Finish that does not stop it).
func waitForNoSpinnerGoroutine(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); spinnerGoroutineRuns(); time.Sleep(10 * time.Millisecond) { // polling for a condition, bounded by the deadline
		if time.Now().After(deadline) {
			t.Fatal("the spinner goroutine still runs 5 s after Finish")
		}
	}
}

func spinnerGoroutineRuns() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "progressbar/v3.NewOptions64.func")
}

func TestProgressNilIsNoOp(t *testing.T) {
	var p *Progress
	p.Add(1)
	p.Finish()
}
