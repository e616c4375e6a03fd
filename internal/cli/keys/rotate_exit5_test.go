package keys

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/rotation"
)

// The manual issuer's wait for the operator to delete the old key in the portal runs out (the
// key still authenticates): the rotation is resumable, so `keys rotate` exits 5 and names the
// command to resume with, as every resumable stop does; a script branching on 5 must see 5.
func TestAManualDeletionNotSeenInTimeExits5(t *testing.T) {
	iss := &rotation.ManualIssuer{
		Instruct:  func(string) {},
		Rejected:  func(context.Context, string) (bool, error) { return false, nil },
		PollEvery: time.Millisecond, Timeout: time.Millisecond,
	}
	engineErr := iss.Revoke(t.Context(), "organizations/o/apiKeys/k")
	if !errors.Is(engineErr, rotation.ErrIncomplete) {
		t.Fatalf("the manual issuer's timeout: %v, want a resumable stop", engineErr)
	}
	err := rotationError(t.Context(), nil, "prod", engineErr)
	var exitErr *cmdutil.ExitError
	if !errors.As(err, &exitErr) || exitErr.Code != cmdutil.ExitIncomplete {
		t.Fatalf("exit for %v: %v, want exit 5", engineErr, err)
	}
	if !strings.Contains(err.Error(), "waasctl keys rotate prod --resume") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("message %q: want one line naming `waasctl keys rotate prod --resume`", err.Error())
	}
}
