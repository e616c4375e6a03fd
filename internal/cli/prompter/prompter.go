// Package prompter asks the user questions on the terminal, behind an
// interface so that commands can be tested with scripted answers.
package prompter

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// Prompter asks questions. Callers check IOStreams.CanPrompt first: a
// prompt without a terminal is never attempted.
type Prompter interface {
	// Secret asks for a value without echoing it.
	Secret(message string) (string, error)
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

// New returns a Prompter on the given streams, built on survey.
func New(ios *iostreams.IOStreams) Prompter {
	return &surveyPrompter{ios: ios}
}

type surveyPrompter struct{ ios *iostreams.IOStreams }

func (p *surveyPrompter) opts() survey.AskOpt {
	in, _ := p.ios.In.(terminal.FileReader)
	out, _ := p.ios.ErrOut.(terminal.FileWriter) // prompts go to stderr, keeping stdout for results
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stderr
	}
	return survey.WithStdio(in, out, p.ios.ErrOut)
}

func (p *surveyPrompter) Secret(message string) (string, error) {
	var v string
	err := survey.AskOne(&survey.Password{Message: message}, &v, p.opts())
	return v, mapErr(err)
}

func (p *surveyPrompter) Confirm(message string, defaultYes bool) (bool, error) {
	var v bool
	err := survey.AskOne(&survey.Confirm{Message: message, Default: defaultYes}, &v, p.opts())
	return v, mapErr(err)
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

func (s *Scripted) Confirm(message string, _ bool) (bool, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Confirms) == 0 {
		return false, ErrCancelled
	}
	v := s.Confirms[0]
	s.Confirms = s.Confirms[1:]
	return v, nil
}
