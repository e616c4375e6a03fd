package prompter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/AlecAivazis/survey/v2/terminal"
)

// Ctrl-C, Esc or a closed terminal at a prompt is a cancellation that code without a prompter
// recognises as context.Canceled; any other error is passed on as it is.
func TestPromptErrorsMapToCancellation(t *testing.T) {
	for _, err := range []error{terminal.InterruptErr, io.EOF, fmt.Errorf("reading: %w", io.EOF)} {
		got := mapErr(err)
		if got != ErrCancelled || !errors.Is(got, context.Canceled) {
			t.Errorf("mapErr(%v) = %v, want ErrCancelled, which is context.Canceled", err, got)
		}
	}
	other := errors.New("terminal too small")
	if got := mapErr(other); got != other {
		t.Errorf("mapErr(%v) = %v, want it unchanged", other, got)
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) is an error")
	}
	if errors.Is(ErrCancelled, context.DeadlineExceeded) {
		t.Error("a cancellation at the prompt reads as a timeout")
	}
}

// Scripted answers in order, records every question, and cancels once out of answers, as a
// person pressing Ctrl-C would.
func TestScriptedAnswersInOrderThenCancels(t *testing.T) {
	s := &Scripted{Secrets: []string{"pw1"}, Confirms: []bool{true, false}}
	var p Prompter = s
	if v, err := p.Secret("passphrase?"); v != "pw1" || err != nil {
		t.Fatalf("Secret = %q, %v", v, err)
	}
	if _, err := p.Secret("again?"); err != ErrCancelled {
		t.Fatalf("Secret with no answer left: %v, want ErrCancelled", err)
	}
	for i, want := range []bool{true, false} {
		if v, err := p.Confirm(fmt.Sprintf("q%d?", i), false); v != want || err != nil {
			t.Fatalf("Confirm %d = %v, %v; want %v", i, v, err, want)
		}
	}
	if v, err := p.Confirm("last?", true); v || err != ErrCancelled {
		t.Fatalf("Confirm with no answer left = %v, %v; want false, ErrCancelled", v, err)
	}
	want := []string{"passphrase?", "again?", "q0?", "q1?", "last?"}
	if fmt.Sprint(s.Asked) != fmt.Sprint(want) {
		t.Fatalf("asked %q, want %q", s.Asked, want)
	}
}
