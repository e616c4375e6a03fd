// Package iostreams holds the standard streams a command reads and writes, and what is known about
// them (terminal or not, colour, width), so that commands never touch os.Stdout directly and tests
// can swap in buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"sync"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// defaultWidth is used when stdout is not a terminal or its size cannot be read.
const defaultWidth = 80

// IOStreams is what a command may read from and write to.
type IOStreams struct {
	In     io.ReadCloser
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool

	// noColor records NO_COLOR at construction so that ColorEnabled does not read the environment.
	noColor       bool
	colorOverride *bool
	neverPrompt   bool
	widthOverride int
	// noHeaders (--no-headers) drops the header row of tables, TSV and CSV; tsvHeader (-o tsv
	// asked for by name) gives TSV the header row that the piped default goes without.
	noHeaders, tsvHeader bool

	// dumbTerminal: TERM=dumb, a terminal that takes no escape sequences (no colour, plain prompts).
	dumbTerminal bool

	// answers probes, once, whether the terminal answers a query (nil: assume it does).
	answers     func() bool
	answersOnce sync.Once
	answered    bool
}

// System returns the process's standard streams, with terminal detection done once up front.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		// https://no-color.org: "when present and not an empty string".
		noColor:      os.Getenv("NO_COLOR") != "",
		dumbTerminal: os.Getenv("TERM") == "dumb",
		answers:      func() bool { return answersCursorQuery(os.Stdin, os.Stdout) },
	}
}

// Test returns streams backed by buffers, none of them a terminal, for use in tests.
func Test() (ios *IOStreams, stdin, stdout, stderr *bytes.Buffer) {
	stdin, stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	ios = &IOStreams{
		In:     io.NopCloser(stdin),
		Out:    stdout,
		ErrOut: stderr,
	}
	return ios, stdin, stdout, stderr
}

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdinTTY overrides terminal detection for stdin (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = v }

// SetStdoutTTY overrides terminal detection for stdout (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection for stderr (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// ColorEnabled reports whether output to stdout may carry colour: only on a terminal, and never
// when NO_COLOR is set.
func (s *IOStreams) ColorEnabled() bool {
	if s.colorOverride != nil {
		return *s.colorOverride
	}
	return !s.noColor && !s.dumbTerminal && s.stdoutTTY
}

// IsDumbTerminal reports TERM=dumb: prompts must be plain lines, without escape sequences.
func (s *IOStreams) IsDumbTerminal() bool { return s.dumbTerminal }

// SetColorEnabled overrides ColorEnabled (tests).
func (s *IOStreams) SetColorEnabled(v bool) { s.colorOverride = &v }

// CanPrompt reports whether the user can be asked a question. Both stdin and stdout must be a
// terminal: a CI job that happens to have a TTY on one side must never hang on a prompt. And the
// terminal must answer: a PTY that nothing reads (script(1) with stdin from /dev/null, an
// expect-less harness) never answers the cursor-position query the prompts start with, and would
// leave a prompt waiting forever; it is treated as no terminal. The query is sent once, on the
// first call, and not on a dumb terminal (whose prompts are plain lines).
func (s *IOStreams) CanPrompt() bool {
	if s.neverPrompt || !s.stdinTTY || !s.stdoutTTY {
		return false
	}
	if s.dumbTerminal || s.answers == nil {
		return true
	}
	s.answersOnce.Do(func() { s.answered = s.answers() })
	return s.answered
}

// SetNeverPrompt forbids prompting even on a terminal.
func (s *IOStreams) SetNeverPrompt(v bool) { s.neverPrompt = v }

// SetHeaderRows records --no-headers and whether -o tsv was asked for by name.
func (s *IOStreams) SetHeaderRows(noHeaders, tsvHeader bool) {
	s.noHeaders, s.tsvHeader = noHeaders, tsvHeader
}

// NoHeaders reports --no-headers: no header row in a table, TSV or CSV.
func (s *IOStreams) NoHeaders() bool { return s.noHeaders }

// TSVHeader reports whether TSV starts with a header row of field names: with -o tsv, not with the
// piped default, and never with --no-headers.
func (s *IOStreams) TSVHeader() bool { return s.tsvHeader && !s.noHeaders }

// TerminalWidth returns the width of the terminal on stdout, or 80 when it is not a terminal.
func (s *IOStreams) TerminalWidth() int {
	if s.widthOverride > 0 {
		return s.widthOverride
	}
	if f, ok := s.Out.(*os.File); ok && s.stdoutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return defaultWidth
}

// SetTerminalWidth overrides TerminalWidth (tests).
func (s *IOStreams) SetTerminalWidth(w int) { s.widthOverride = w }

func isTerminal(f *os.File) bool {
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
