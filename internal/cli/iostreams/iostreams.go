// Package iostreams holds the standard streams a command reads and writes, and what is known about
// them (terminal or not, colour, width), so that commands never touch os.Stdout directly and tests
// can swap in buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

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
		noColor: os.Getenv("NO_COLOR") != "",
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
	return !s.noColor && s.stdoutTTY
}

// SetColorEnabled overrides ColorEnabled (tests).
func (s *IOStreams) SetColorEnabled(v bool) { s.colorOverride = &v }

// CanPrompt reports whether the user can be asked a question. Both stdin and stdout must be a
// terminal: a CI job that happens to have a TTY on one side must never hang on a prompt.
func (s *IOStreams) CanPrompt() bool {
	return !s.neverPrompt && s.stdinTTY && s.stdoutTTY
}

// SetNeverPrompt forbids prompting even on a terminal.
func (s *IOStreams) SetNeverPrompt(v bool) { s.neverPrompt = v }

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
