package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

const poolsRoute = "GET /waas/pools/v1/pools"

// stopInGrace runs a rotation to its grace period (promoted, the old key not yet revoked),
// checks with a client that tries each call once (so that a planted fault is seen by the
// engine, not retried away by the client), and returns the old key and a function that
// moves the clock past the grace.
func stopInGrace(t *testing.T, r *rig) (old *credentials.StoredKey, pastGrace func()) {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	r.e.Grace = time.Hour
	r.e.Check = func(ctx context.Context, key *credentials.APIKey) ([]string, error) {
		secret, err := key.SecretText()
		if err != nil {
			return nil, err
		}
		c := sandboxtest.ClientFor(t, r.sb.URL, waasapi.APIKey{Name: key.Name, PrivateKey: secret}, waas.Options{MaxAttempts: 1})
		resp, err := c.ListPools(ctx, waas.PageRequest{})
		if err != nil {
			return nil, err
		}
		var names []string
		for _, p := range resp.Pools {
			names = append(names, p.Name)
		}
		return names, nil
	}
	old = r.item().Current
	if _, err := r.e.Rotate(testctx.New(t)); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("rotate within the grace: %v", err)
	}
	return old, func() { now = now.Add(2 * time.Hour) }
}

// Only an HTTP 401 proves that WaaS refuses the revoked key. A 500, a 503, a lost connection
// or a timeout on every try of the confirmation proves nothing: the revoke step must fail
// (resumable), not record the old key as rejected.
func TestEngineRevokeNeeds401(t *testing.T) {
	faults := map[string]sandbox.Fault{"500": sandbox.FaultInternal, "503": sandbox.FaultUnavailable, "connection lost": sandbox.FaultDrop, "timeout": -1}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			old, pastGrace := stopInGrace(t, r)
			// Every check of the old key fails (the new key's own check, made before the revoke,
			// is left alone): the confirmation must not take any of these for the 401.
			check := r.e.Check
			r.e.Check = func(ctx context.Context, key *credentials.APIKey) ([]string, error) {
				if key.Name != old.Name {
					return check(ctx, key)
				}
				switch fault {
				case sandbox.FaultInternal:
					return nil, &waas.APIError{Call: "ListPools", HTTPStatus: 500, Message: "internal error"}
				case sandbox.FaultUnavailable:
					return nil, &waas.APIError{Call: "ListPools", HTTPStatus: 503, Message: "service unavailable"}
				case sandbox.FaultDrop:
					return nil, fmt.Errorf("ListPools: Get %q: read: connection reset by peer", r.sb.URL)
				}
				// The old key's check never gets an answer before its deadline.
				return nil, fmt.Errorf("ListPools: Get %q: %w", r.sb.URL, context.DeadlineExceeded)
			}
			pastGrace()
			j, err := r.e.Resume(testctx.New(t))
			if err == nil {
				t.Fatalf("a %s on every confirmation was taken for the 401 that proves the revocation", name)
			}
			if !strings.Contains(err.Error(), "checking that the old key") {
				t.Fatalf("err = %v", err)
			}
			noSecret(t, err)
			if j != nil && !j.RevokedAt.IsZero() {
				t.Fatalf("the journal records the old key as revoked at %s", j.RevokedAt)
			}
			saved, lerr := LoadJournal(r.e.StateDir, "prod")
			if lerr != nil || saved == nil || !saved.RevokedAt.IsZero() || saved.Step != StepRevoke {
				t.Fatalf("saved journal %+v %v: want the revoke step, not revoked", saved, lerr)
			}
			if it := r.item(); it.Previous == nil || it.Previous.Fingerprint != old.Fingerprint {
				t.Fatalf("the old key left the keyring unconfirmed: %v", it)
			}
			// Once the checks get answers, resume confirms the 401 and finishes.
			r.e.Check = r.check
			if _, err := r.e.Resume(testctx.New(t)); err != nil {
				t.Fatal(err)
			}
			r.settled()
			if r.authenticates(old) {
				t.Fatal("the old key still authenticates")
			}
		})
	}
}

// A revoked key that still authenticates for a while (WaaS's propagation delay) is checked
// again until it gets 401: within the tries it is confirmed, with exactly one check per
// try; beyond them the rotation stops, saying that the old key still authenticates.
func TestEngineRevokeRetries(t *testing.T) {
	for _, delay := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("delay %d", delay), func(t *testing.T) {
			r := newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 2}, RevocationDelay: delay})
			old, pastGrace := stopInGrace(t, r)
			pastGrace()
			r.sb.ResetRequestCounts()
			tries := r.e.tries()
			j, err := r.e.Resume(testctx.New(t))
			checks := r.sb.RequestCounts()[poolsRoute]
			if delay >= tries {
				if err == nil || !strings.Contains(err.Error(), "still authenticates after it was revoked") {
					t.Fatalf("a key accepted on all %d tries: err = %v", tries, err)
				}
				// One check that the new key works, then one per try of the old key.
				if checks != tries+1 {
					t.Fatalf("%d checks, want %d (the new key's, then %d of the old key)", checks, tries+1, tries)
				}
				saved, _ := LoadJournal(r.e.StateDir, "prod")
				if saved == nil || !saved.RevokedAt.IsZero() {
					t.Fatalf("journal %+v: the unconfirmed revocation was recorded", saved)
				}
				return
			}
			if err != nil {
				t.Fatalf("delay %d, %d tries: %v", delay, tries, err)
			}
			if j.Step != StepDone || j.RevokedAt.IsZero() {
				t.Fatalf("journal %+v", j)
			}
			if checks != delay+2 {
				t.Fatalf("%d checks, want %d (the new key's, then one of the old key per request it still authenticates, then the 401)", checks, delay+2)
			}
			r.settled()
			if r.authenticates(old) {
				t.Fatal("the old key still authenticates")
			}
		})
	}
}

// The new key revoked behind waasctl's back during the grace period (a portal mistake): a
// resume must not revoke the old key too, leaving no working key; it stops and points at
// --abort, and the old key still works.
func TestEngineKeepsTheOldKeyWhenTheNewOneNoLongerWorks(t *testing.T) {
	r := newRig(t)
	old, pastGrace := stopInGrace(t, r)
	newKey := r.item().Current
	if err := r.sb.RevokeAPIKey(newKey.Name); err != nil {
		t.Fatal(err)
	}
	pastGrace()
	j, err := r.e.Resume(testctx.New(t))
	if err == nil || !strings.Contains(err.Error(), "--abort") {
		t.Fatalf("resume with the new key revoked: err = %v, want a stop pointing at --abort", err)
	}
	if j != nil && !j.RevokedAt.IsZero() {
		t.Fatal("the journal records the old key as revoked")
	}
	if !r.authenticates(old) {
		t.Fatal("the old key, the only one that worked, was revoked")
	}
}
