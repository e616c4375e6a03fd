//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A ledger that is a FIFO whose writer never writes: the first SIGTERM ends
// the audit with exit 130 (it used to be ignored while the read blocked).
func TestFIFOLedgerEndsOnFirstSIGTERM(t *testing.T) {
	e := newCrashEnv(t, 0)
	fifo := filepath.Join(e.dir, "ledger.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, _, stderr := e.command(t.Context(), "--endpoint", e.url, "audit", "operations", "--profile", "prod", "--ledger", fifo)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Opening the write end returns once waasctl has opened the read end: by
	// then its signal handling is set up and it is waiting for data.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("waasctl still reads the FIFO 20 s after SIGTERM; stderr:\n%s", stderr)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d after SIGTERM, want 130; stderr:\n%s", code, stderr)
	}
	if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 {
		t.Errorf("want a one-line error, got:\n%s", stderr)
	}
}
