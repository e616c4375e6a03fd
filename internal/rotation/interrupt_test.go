package rotation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// Issue 11, reproduction 9: Ctrl-C or SIGTERM during the manual issuer's wait for the old key's
// deletion was reported as a failure to check the key (and, after the signal, mapped to 130 with
// the rotation half done). It is an interruption: the error matches context.Canceled, the wait's
// own timeout is not blamed, and the journal and the audit log record the step as interrupted.
func TestManualWaitInterrupted(t *testing.T) {
	r := newRig(t)
	auditText := r.withAudit()
	fresh, err := r.sb.CreateAPIKey(r.sb.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "new"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(opCtx(t))
	defer cancel()
	m := r.manualWith(keyJSON(t, fresh.Name, fresh.PrivateKey))
	// The operator presses Ctrl-C while waasctl polls WaaS; the poll that was in flight fails
	// with the cancelled context, as an HTTP request does.
	m.Rejected = func(context.Context, string) (bool, error) {
		cancel()
		return false, errors.New("Get \"https://waas/pools\": context canceled")
	}
	r.e.Issuer = m
	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrIncomplete) {
		t.Fatalf("rotate: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "interrupted during revoke") || strings.Contains(msg, "could not check") {
		t.Fatalf("message: %s", msg)
	}
	if j == nil || j.Step != StepRevoke {
		t.Fatalf("journal: %+v", j)
	}
	loaded, err := LoadJournal(r.e.StateDir, "prod")
	if err != nil || loaded == nil || !strings.Contains(loaded.Events[len(loaded.Events)-1].Message, "interrupted during revoke") {
		t.Fatalf("saved journal: %+v, %v", loaded, err)
	}
	log := auditText()
	if !strings.Contains(log, `"action":"rotate.revoke"`) || !strings.Contains(log, `"outcome":"interrupted"`) || strings.Contains(log, `"outcome":"failed"`) {
		t.Fatalf("audit log:\n%s", log)
	}
}

// Ctrl-C at a prompt (the manual issuer's, on a terminal in raw mode: no signal is sent) comes
// back from Obtain as an error matching context.Canceled; the engine records an interruption
// at create, not a failure.
func TestManualPromptCancelled(t *testing.T) {
	r := newRig(t)
	auditText := r.withAudit()
	m := r.manualWith(nil)
	m.Obtain = func(context.Context) ([]byte, string, error) {
		return nil, "", cancelledAtPrompt{}
	}
	r.e.Issuer = m
	_, err := r.e.Rotate(opCtx(t))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted during create") {
		t.Fatalf("rotate: %v", err)
	}
	if log := auditText(); !strings.Contains(log, `"action":"rotate.create"`) || !strings.Contains(log, `"outcome":"interrupted"`) {
		t.Fatalf("audit log:\n%s", log)
	}
}

// cancelledAtPrompt is what the command line's prompter returns on Ctrl-C.
type cancelledAtPrompt struct{}

func (cancelledAtPrompt) Error() string        { return "cancelled at the prompt" }
func (cancelledAtPrompt) Is(target error) bool { return target == context.Canceled }

// Interrupted before anything was created (in preflight): no journal is left to resume or
// abort, and the audit log says the rotation was interrupted there, not that preflight failed.
func TestPreflightInterrupted(t *testing.T) {
	r := newRig(t)
	auditText := r.withAudit()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := r.e.Rotate(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rotate: %v", err)
	}
	if j, err := LoadJournal(r.e.StateDir, "prod"); j != nil || err != nil {
		t.Fatalf("journal left: %+v, %v", j, err)
	}
	if log := auditText(); !strings.Contains(log, `"action":"rotate.preflight","outcome":"interrupted"`) {
		t.Fatalf("audit log:\n%s", log)
	}
}

// Ctrl-C during the inventory snapshot taken at promotion: the rotation stops right there as
// interrupted (exit 5 at the command), making no further call (no key check, no revocation)
// with the cancelled context, whose failures would be reported instead of the interruption.
func TestPromotionSnapshotInterrupted(t *testing.T) {
	r := newRig(t)
	auditText := r.withAudit()
	ctx, cancel := context.WithCancel(opCtx(t))
	defer cancel()
	stopped := false
	r.e.Promoted = func(context.Context) { cancel(); stopped = true }
	check := r.e.Check
	r.e.Check = func(ctx context.Context, key *credentials.APIKey) ([]string, error) {
		if stopped {
			t.Errorf("a key check after the interruption")
		}
		return check(ctx, key)
	}
	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rotate: %v", err)
	}
	if j == nil || j.Step != StepRevoke {
		t.Fatalf("journal: %+v", j)
	}
	if log := auditText(); !strings.Contains(log, `"outcome":"interrupted"`) {
		t.Fatalf("audit log:\n%s", log)
	}
}
