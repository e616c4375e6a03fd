package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
)

// Issue 11, reproduction 9: an interruption (a signal, or Ctrl-C at a prompt) exits 5 with the
// resume command when a rotation is in progress, and is left to the plain interruption (130)
// when nothing was started. Either way it still matches context.Canceled for the callers that
// log it (keys revoke --rotate-first).
func TestRotationErrorInterrupted(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	cancelled := fmt.Errorf("the new key: %w", prompter.ErrCancelled)

	err := rotationError(t.Context(), &rotation.LocalState{Dir: dir}, "prod", cancelled)
	var exitErr *cmdutil.ExitError
	if errors.As(err, &exitErr) || !cmdutil.IsUserCancellation(err) {
		t.Fatalf("no rotation in progress: %v (want the cancellation itself, for exit 130)", err)
	}

	j, err := rotation.NewJournal("prod", "manual")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Advance(rotation.StepCreate, "preflight passed"); err != nil {
		t.Fatal(err)
	}
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	err = rotationError(t.Context(), &rotation.LocalState{Dir: dir}, "prod", cancelled)
	if !errors.As(err, &exitErr) || exitErr.Code != cmdutil.ExitIncomplete {
		t.Fatalf("rotation in progress: %v, want exit 5", err)
	}
	want := "rotation of profile prod interrupted during create; continue with: waasctl keys rotate prod --resume (or roll back with --abort)"
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatal("the exit-5 error no longer matches context.Canceled")
	}
	if strings.Contains(err.Error(), "cancelled at the prompt") {
		t.Fatal("the message repeats the cause")
	}
}

// cancelPrompter is Ctrl-C at every prompt.
type cancelPrompter struct{}

func (cancelPrompter) Secret(string) (string, error)      { return "", prompter.ErrCancelled }
func (cancelPrompter) Input(string) (string, error)       { return "", prompter.ErrCancelled }
func (cancelPrompter) Confirm(string, bool) (bool, error) { return false, prompter.ErrCancelled }

// As filed: Ctrl-C at the manual issuer's prompt for the new key's file exited 1 ("cancelled at
// the prompt") with the rotation's journal written. It exits 5 with the resume command; Ctrl-C
// at the confirmation prompt, before anything, is left to exit 130.
func TestManualPromptCtrlC(t *testing.T) {
	e := newRevokeEnv(t)
	ctx := context.Background()
	it, err := e.store.Get(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Put(ctx, &credentials.Item{Profile: "prod", Current: it.Current}); err != nil {
		t.Fatal(err)
	}
	e.opts.IO.SetStdinTTY(true)
	e.opts.IO.SetStdoutTTY(true)
	opts := &RotateOptions{IO: e.opts.IO, Factory: e.opts.Factory, Prompter: cancelPrompter{}, Profile: "prod", Issuer: "manual", NoSnapshot: true}

	err = rotateRun(ctx, opts)
	var exitErr *cmdutil.ExitError
	if errors.As(err, &exitErr) || !cmdutil.IsUserCancellation(err) {
		t.Fatalf("Ctrl-C at the confirmation: %v, want the cancellation (exit 130)", err)
	}

	opts.Yes = true
	err = rotateRun(ctx, opts)
	if !errors.As(err, &exitErr) || exitErr.Code != cmdutil.ExitIncomplete ||
		!strings.Contains(err.Error(), "interrupted during create; continue with: waasctl keys rotate prod --resume") {
		t.Fatalf("Ctrl-C at the key file prompt: %v, want exit 5", err)
	}
}
