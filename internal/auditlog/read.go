package auditlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// rawLine is one line of the log file as read, without its newline.
type rawLine struct {
	n    int    // 1-based line number
	data []byte // valid until the next line is read
	bad  string // why the line cannot be an entry whatever it holds, or ""
}

// scanLines yields the lines of r. A last line without a newline, or one longer than maxLine,
// is yielded with bad set; the error is only for failures to read.
func scanLines(r io.Reader) iter.Seq2[rawLine, error] {
	return func(yield func(rawLine, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		incomplete := false
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				return i + 1, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				incomplete = true
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		n := 0
		for sc.Scan() {
			n++
			l := rawLine{n: n, data: sc.Bytes()}
			if incomplete {
				l.bad = "no newline at the end of the file: it was cut short or a write was interrupted"
			}
			if !yield(l, nil) {
				return
			}
		}
		switch err := sc.Err(); {
		case errors.Is(err, bufio.ErrTooLong):
			yield(rawLine{n: n + 1, bad: "longer than any entry can be"}, nil)
		case err != nil:
			yield(rawLine{}, err)
		}
	}
}

// Read yields the entries of the log in dir, oldest first, as they are read; a missing log
// yields nothing. It stops at the first line that is not an entry, with an error naming it.
// Read does not check the chain (Verify does), and filtering is the caller's business.
func Read(dir string) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		path := filepath.Join(dir, FileName)
		f, size, _, err := snapshot(dir)
		if err != nil {
			yield(Entry{}, fmt.Errorf("audit log: %w", err))
			return
		}
		if f == nil {
			return
		}
		defer f.Close()
		for l, err := range scanLines(io.LimitReader(f, size)) {
			if err != nil {
				yield(Entry{}, fmt.Errorf("audit log: %w", err))
				return
			}
			e, perr := parseLine(l.data)
			if l.bad != "" {
				perr = errors.New(l.bad)
			}
			if perr != nil {
				yield(Entry{}, fmt.Errorf("%s line %d is not an entry (%v); run 'waasctl log verify'", path, l.n, perr))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// snapshot opens the log file and reads its size and the head checkpoint under the shared
// lock, so that they agree with each other and the bytes up to size are whole lines even while
// another process appends. The lock is not held while the caller reads, so a slow reader (a
// pager) never holds up a rotation. f is nil when the log file does not exist.
func snapshot(dir string) (f *os.File, size int64, head headState, err error) {
	unlock, err := lock(filepath.Join(dir, lockName), false)
	if err != nil {
		return nil, 0, headState{}, err
	}
	defer unlock()
	if head, err = readHead(filepath.Join(dir, HeadName)); err != nil {
		return nil, 0, headState{}, err
	}
	f, err = fsutil.OpenNoFollow(filepath.Join(dir, FileName), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, head, nil
	}
	if err != nil {
		return nil, 0, headState{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, headState{}, err
	}
	return f, fi.Size(), head, nil
}
