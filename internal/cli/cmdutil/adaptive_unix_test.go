//go:build unix

package cmdutil

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRatesFileThatIsNotAFileIsIgnored: rates.json replaced by a FIFO (or a
// link to a device) is ignored with a warning; a FIFO with no writer hung
// every command in open(2), before its first request, for good: the read
// had no deadline and Ctrl-C did not end it.
func TestRatesFileThatIsNotAFileIsIgnored(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	if err := syscall.Mkfifo(filepath.Join(dir, ratesFile), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// The deadline only turns the hang into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var warn strings.Builder
	got := loadLearnedRates(ctx, &warn)
	if len(got.Rates) != 0 || !strings.Contains(warn.String(), "not a regular file") {
		t.Fatalf("rates %v, warning %q; want none, and a warning that it is not a regular file", got.Rates, warn.String())
	}
}
