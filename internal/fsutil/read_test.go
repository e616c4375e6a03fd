//go:build unix

package fsutil

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesAnEndlessFile(t *testing.T) {
	_, err := ReadFile(context.Background(), "/dev/zero", "key file", 64<<10)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 64<<10 {
		t.Fatalf("ReadFile(/dev/zero) = %v, want a TooLargeError at 64 KiB", err)
	}
	if got := err.Error(); got != "key file /dev/zero is longer than 64 KiB" {
		t.Errorf("error = %q", got)
	}
}

func TestReadFileTakesExactlyTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(context.Background(), path, "f", 100); err != nil || len(data) != 100 {
		t.Fatalf("at the limit: %d bytes, %v", len(data), err)
	}
	if _, err := ReadFile(context.Background(), path, "f", 99); err == nil {
		t.Fatal("one byte over the limit was accepted")
	}
}

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	return path
}

// A FIFO with no writer blocks open(2) in the kernel; cancelling must still
// return at once.
func TestOpenOfAFIFOWithoutWriterEndsWithTheContext(t *testing.T) {
	path := mkfifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Open(ctx, path)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Open = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open of a FIFO without a writer did not return after cancel")
	}
	// Let the abandoned open(2) finish so the test leaves no goroutine blocked.
	if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		w.Close()
	}
}

// A FIFO whose writer never writes blocks read(2); cancelling closes the
// file and the read returns.
func TestReadOfASilentFIFOEndsWithTheContext(t *testing.T) {
	path := mkfifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ReadFile(ctx, path, "ledger", 1<<20)
		done <- err
	}()
	w, err := os.OpenFile(path, os.O_WRONLY, 0) // returns once the reader has opened
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadFile = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read of a silent FIFO did not return after cancel")
	}
}

func TestLineLimitReader(t *testing.T) {
	in := "short\n" + strings.Repeat("y", 10) + "\n" + strings.Repeat("z", 11) + "\nnever read\n"
	data, err := io.ReadAll(LineLimitReader(strings.NewReader(in), 10))
	var tl *LineTooLongError
	if !errors.As(err, &tl) || tl.Line != 3 || !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want line 3 too long", err)
	}
	if want := "short\n" + strings.Repeat("y", 10) + "\n" + strings.Repeat("z", 10); string(data) != want {
		t.Errorf("passed through %q, want %q", data, want)
	}
	// /dev/zero has no newline at all: it ends at the cap, not in memory exhaustion.
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, LineLimitReader(f, 1<<20))
	if !errors.Is(err, ErrLineTooLong) || n != 1<<20 {
		t.Fatalf("copied %d bytes of /dev/zero, err %v; want 1 MiB then ErrLineTooLong", n, err)
	}
}
