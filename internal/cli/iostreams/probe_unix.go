//go:build unix

package iostreams

import (
	"bytes"
	"os"
	"syscall"
	"time"

	"golang.org/x/term"
)

// cursorAnswerWait bounds the wait for the terminal's answer; a terminal emulator answers in
// a few milliseconds, and over ssh within a round trip.
const cursorAnswerWait = time.Second

// answersCursorQuery asks the terminal on in/out where its cursor is (ESC [ 6 n), as survey
// does before every prompt, and reports whether an answer (ESC [ row ; col R) came within
// cursorAnswerWait. survey waits for it without a limit.
func answersCursorQuery(in, out *os.File) bool {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return false
	}
	old, err := term.MakeRaw(fd)
	if err != nil {
		return false
	}
	defer term.Restore(fd, old)
	// A non-blocking duplicate of the descriptor lets the runtime's poller put a deadline on
	// the read; the flag is shared with stdin, so it is cleared again afterwards.
	dup, err := syscall.Dup(fd)
	if err != nil {
		return false
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return false
	}
	f := os.NewFile(uintptr(dup), "terminal")
	defer func() {
		f.Close()
		_ = syscall.SetNonblock(fd, false)
	}()
	if _, err := out.WriteString("\x1b[6n"); err != nil {
		return false
	}
	if err := f.SetReadDeadline(time.Now().Add(cursorAnswerWait)); err != nil {
		return false // not pollable: cannot wait with a limit, so do not wait at all
	}
	var got []byte
	buf := make([]byte, 32)
	for len(got) < 64 {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if i := bytes.Index(got, []byte("\x1b[")); i >= 0 && bytes.IndexByte(got[i:], 'R') > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
