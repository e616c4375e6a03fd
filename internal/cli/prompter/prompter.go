// Package prompter asks the user questions on the terminal, behind an
// interface so that commands can be tested with scripted answers.
package prompter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"golang.org/x/term"
)

// Prompter asks questions. Callers check IOStreams.CanPrompt first: a
// prompt without a terminal is never attempted.
type Prompter interface {
	// Secret asks for a value without echoing it.
	Secret(message string) (string, error)
	// Input asks for a value that is shown as it is typed: a path, a name.
	Input(message string) (string, error)
	// Confirm asks a yes/no question.
	Confirm(message string, defaultYes bool) (bool, error)
}

// ErrCancelled is returned when the user presses Ctrl-C or Esc at a prompt. It matches
// context.Canceled (errors.Is), so that code below the command line, which knows no prompter,
// takes it for the interruption it is: Ctrl-C on a terminal in raw mode sends no SIGINT.
var ErrCancelled error = cancelledError{}

type cancelledError struct{}

func (cancelledError) Error() string { return "cancelled at the prompt" }

func (cancelledError) Is(target error) bool { return target == context.Canceled }

// New returns a Prompter on the given streams: survey's prompts, or plain line prompts on a
// dumb terminal (TERM=dumb), which takes none of the escape sequences survey draws with. (A
// terminal that does not answer at all is no terminal: IOStreams.CanPrompt says false.)
func New(ios *iostreams.IOStreams) Prompter {
	return &surveyPrompter{ios: ios}
}

type surveyPrompter struct {
	ios  *iostreams.IOStreams
	once sync.Once
}

func (p *surveyPrompter) streams() (*os.File, *os.File) {
	in, _ := p.ios.In.(*os.File)
	out, _ := p.ios.ErrOut.(*os.File) // prompts go to stderr, keeping stdout for results
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stderr
	}
	return in, out
}

// usePlain says whether to prompt with plain lines instead of survey's drawn prompts.
func (p *surveyPrompter) usePlain() bool {
	p.once.Do(func() {
		if !p.ios.ColorEnabled() {
			core.DisableColor = true // NO_COLOR, TERM=dumb
		}
	})
	return p.ios.IsDumbTerminal()
}

func (p *surveyPrompter) opts() survey.AskOpt {
	in, out := p.streams()
	return survey.WithStdio(in, out, p.ios.ErrOut)
}

func (p *surveyPrompter) Secret(message string) (string, error) {
	if p.usePlain() {
		in, out := p.streams()
		fmt.Fprintf(out, "? %s: ", message)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(out)
		if err != nil { // end of input before any line is io.EOF: a cancellation
			return "", mapErr(err)
		}
		return string(b), nil
	}
	var v string
	err := survey.AskOne(&survey.Password{Message: message}, &v, p.opts())
	return v, mapErr(err)
}

func (p *surveyPrompter) Input(message string) (string, error) {
	if p.usePlain() {
		in, out := p.streams()
		fmt.Fprintf(out, "? %s: ", message)
		return readLine(in)
	}
	var v string
	err := survey.AskOne(&survey.Input{Message: message}, &v, p.opts())
	return v, mapErr(err)
}

func (p *surveyPrompter) Confirm(message string, defaultYes bool) (bool, error) {
	if p.usePlain() {
		in, out := p.streams()
		hint := "y/N"
		if defaultYes {
			hint = "Y/n"
		}
		for {
			fmt.Fprintf(out, "? %s (%s) ", message, hint)
			line, err := readLine(in)
			if err != nil {
				return false, err
			}
			switch strings.ToLower(strings.TrimSpace(line)) {
			case "":
				return defaultYes, nil
			case "y", "yes":
				return true, nil
			case "n", "no":
				return false, nil
			}
			fmt.Fprintln(out, "Answer y or n.")
		}
	}
	var v bool
	err := survey.AskOne(&survey.Confirm{Message: message, Default: defaultYes}, &v, p.opts())
	return v, mapErr(err)
}

// readLine reads up to a newline one byte at a time, so that nothing after it is taken from
// the terminal; end of input before a newline is a cancellation.
func readLine(in io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for len(line) < 4096 {
		n, err := in.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return strings.TrimSuffix(string(line), "\r"), nil
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			return "", mapErr(err)
		}
	}
	return "", errors.New("the answer is longer than 4096 characters")
}

func mapErr(err error) error {
	if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
		return ErrCancelled
	}
	return err
}

// Scripted answers prompts from a list, for tests.
type Scripted struct {
	Secrets  []string
	Inputs   []string
	Confirms []bool
	Asked    []string
}

func (s *Scripted) Secret(message string) (string, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Secrets) == 0 {
		return "", ErrCancelled
	}
	v := s.Secrets[0]
	s.Secrets = s.Secrets[1:]
	return v, nil
}

func (s *Scripted) Input(message string) (string, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Inputs) == 0 {
		return "", ErrCancelled
	}
	v := s.Inputs[0]
	s.Inputs = s.Inputs[1:]
	return v, nil
}

func (s *Scripted) Confirm(message string, _ bool) (bool, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Confirms) == 0 {
		return false, ErrCancelled
	}
	v := s.Confirms[0]
	s.Confirms = s.Confirms[1:]
	return v, nil
}
