package keys

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// noRejectionBackoff makes waitRejected try again at once, for the rest of the test.
func noRejectionBackoff(t *testing.T) {
	saved := rejectionBackoff
	rejectionBackoff = func(int) time.Duration { return 0 }
	t.Cleanup(func() { rejectionBackoff = saved })
}

// Only an HTTP 401 confirms a revocation: a 500, a 503, a lost connection or a timeout on
// every try is "could not confirm", never "WaaS now refuses it".
func TestWaitRejectedNeedsA401(t *testing.T) {
	noRejectionBackoff(t)
	for name, err := range map[string]error{
		"500":             &waas.APIError{Call: "ListPools", HTTPStatus: 500, Code: waasapi.Internal, Message: "injected fault"},
		"503":             &waas.APIError{Call: "ListPools", HTTPStatus: 503},
		"403":             &waas.APIError{Call: "ListPools", HTTPStatus: 403},
		"connection lost": &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")},
		"timeout":         fmt.Errorf("ListPools: %w", context.DeadlineExceeded),
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			got := waitRejected(testctx.New(t), func(context.Context) error { calls++; return err })
			if got == nil {
				t.Fatalf("a %s on every try was taken for the 401", name)
			}
			if !strings.Contains(got.Error(), "could not confirm the revocation") {
				t.Fatalf("err = %v", got)
			}
			if calls != rejectionTries {
				t.Fatalf("%d tries, want %d", calls, rejectionTries)
			}
		})
	}
	// Errors, then the 401: confirmed on the try that got it.
	calls := 0
	err := waitRejected(testctx.New(t), func(context.Context) error {
		if calls++; calls < 4 {
			return &waas.APIError{HTTPStatus: 500}
		}
		return &waas.APIError{HTTPStatus: 401}
	})
	if err != nil || calls != 4 {
		t.Fatalf("err %v after %d tries, want nil after 4", err, calls)
	}
}

// auditOutcomes is the outcomes of the audit log's "keys revoke" entries, in order.
func auditOutcomes(t *testing.T) []string {
	t.Helper()
	dir, err := auditlog.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for e, err := range auditlog.Read(dir) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Command == "keys revoke" {
			out = append(out, e.Action+":"+e.Outcome)
		}
	}
	return out
}

// A revoked key that WaaS still accepts for a few requests (propagation) is checked again
// until it gets 401, one check per try; a key accepted on every try is not reported as
// refused, and stays in the keyring.
func TestRevokeWaitsForThePropagation(t *testing.T) {
	noRejectionBackoff(t)
	const poolsRoute = "GET /waas/pools/v1/pools"
	for _, delay := range []int{0, 3, rejectionTries} {
		t.Run(fmt.Sprint("delay ", delay), func(t *testing.T) {
			e := newRevokeEnvWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 1}, RevocationDelay: delay})
			ios, _, _, stderr := iostreams.Test()
			e.opts.IO, e.opts.Factory.IOStreams = ios, ios
			e.opts.Key = e.previous.Name
			err := revokeRun(testctx.New(t), e.opts)
			checks := e.srv.RequestCounts()[poolsRoute]
			item, gerr := e.store.Get(testctx.New(t), "prod")
			if gerr != nil {
				t.Fatal(gerr)
			}
			if delay >= rejectionTries {
				if err == nil || !strings.Contains(err.Error(), "WaaS still accepts it") {
					t.Fatalf("a key accepted on every try: err = %v", err)
				}
				if strings.Contains(stderr.String(), "refuses it") {
					t.Fatalf("reported as refused: %q", stderr)
				}
				if checks != rejectionTries {
					t.Fatalf("%d checks, want %d", checks, rejectionTries)
				}
				if item.Previous == nil || item.Previous.Name != e.previous.Name {
					t.Fatal("the unconfirmed key left the keyring")
				}
				if got := auditOutcomes(t); strings.Join(got, " ") != "revoke:unconfirmed" {
					t.Fatalf("audit %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "WaaS now refuses it (HTTP 401)") {
				t.Fatalf("stderr %q", stderr)
			}
			if checks != delay+1 {
				t.Fatalf("%d checks of the revoked key, want %d (one per request it still authenticates, then the 401)", checks, delay+1)
			}
			if item.Previous != nil {
				t.Fatal("the revoked key is still in the keyring")
			}
			if got := auditOutcomes(t); strings.Join(got, " ") != "revoke:ok" {
				t.Fatalf("audit %q", got)
			}
			if e.state(t, e.previous.Name) != waasapi.APIKeyRevoked || e.state(t, e.current.Name) != waasapi.APIKeyActive {
				t.Fatal("wrong key revoked")
			}
		})
	}
}
