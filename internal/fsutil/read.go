package fsutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Reading what a user points waasctl at: the path may be /dev/zero, a FIFO
// with no writer yet, or a multi-gigabyte file with no newline. Every read
// is capped, and a read (or the wait to open a FIFO) ends when ctx does, so
// one Ctrl-C or SIGTERM stops it.

// ErrTooLarge is matched (errors.Is) by every TooLargeError.
var ErrTooLarge = errors.New("input too large")

// TooLargeError says an input passed its cap.
type TooLargeError struct {
	What  string // "key file /path", "line 7"
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is longer than %s", e.What, FormatSize(e.Limit))
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// FormatSize prints a cap the way the docs state it: 64 KiB, 1 MiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Open opens path for reading. Opening a FIFO blocks until a writer
// appears, in a system call no signal interrupts, so the open runs aside
// and Open returns ctx's error if ctx ends first. The returned file is
// closed when ctx ends, which makes a pending read of a FIFO or pipe return.
// The caller closes it as usual; a second Close is harmless.
func Open(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, o.err
		}
		context.AfterFunc(ctx, func() { o.f.Close() })
		return o.f, nil
	case <-ctx.Done():
		// The goroutine stays blocked in open(2) until a writer comes or the
		// process exits; if it ever opens, the file is closed at once.
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// ReadFile reads path whole, refusing more than limit bytes. what names the
// input in the error ("key file").
func ReadFile(ctx context.Context, path, what string, limit int64) ([]byte, error) {
	f, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadAll(f, what+" "+path, limit)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return data, err
}

// ReadAll reads r to its end, refusing more than limit bytes: it reads at
// most limit+1.
func ReadAll(r io.Reader, what string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{What: what, Limit: limit}
	}
	return data, nil
}

// ErrLineTooLong is what a LineLimitReader returns for an overlong line.
var ErrLineTooLong = errors.New("line too long")

// LineTooLongError names the line that passed a LineLimitReader's cap.
type LineTooLongError struct {
	Line  int
	Limit int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d is longer than %s", e.Line, FormatSize(int64(e.Limit)))
}

func (e *LineTooLongError) Unwrap() error { return ErrLineTooLong }

// LineLimitReader passes r through and fails with a *LineTooLongError once
// a line (bytes between newlines) grows past limit, so that a parser that
// buffers whole lines or records (encoding/csv, bufio.Reader.ReadBytes)
// never holds more than limit bytes of one line.
func LineLimitReader(r io.Reader, limit int) io.Reader {
	return &lineLimitReader{r: bufio.NewReaderSize(r, 64<<10), limit: limit, line: 1}
}

type lineLimitReader struct {
	r     *bufio.Reader
	limit int
	cur   int // bytes of the current line so far
	line  int
	err   error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
			l.line++
			continue
		}
		l.cur++
		if l.cur > l.limit {
			l.err = &LineTooLongError{Line: l.line, Limit: l.limit}
			return i, l.err
		}
	}
	return n, err
}
