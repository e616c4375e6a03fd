package sandbox

import (
	"maps"
	"testing"

	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// A revoked key is REVOKED in the key list at once, but authenticates exactly
// RevocationDelay more requests, then gets 401 for good.
func TestRevocationDelayCountsRequests(t *testing.T) {
	for _, delay := range []int{0, 1, 3} {
		sb := newTestSandbox(t, Config{Seed: 1, RevocationDelay: delay})
		ctx := testctx.New(t)
		victim, err := sb.srv.CreateAPIKey(sb.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		vc := clientFor(t, sb.url, victim)
		if delay == 3 {
			// Through the key-admin API, as a rotation revokes.
			if _, err := sb.client.RevokeAPIKey(ctx, victim.Name); err != nil {
				t.Fatal(err)
			}
		} else if err := sb.srv.RevokeAPIKey(victim.Name); err != nil {
			t.Fatal(err)
		}
		for _, k := range sb.srv.APIKeys(sb.srv.DefaultOrg()) {
			if k.Name == victim.Name && k.State != waasapi.APIKeyRevoked {
				t.Fatalf("delay %d: the key is listed %s", delay, k.State)
			}
		}
		for i := range delay {
			if _, err := vc.ListPools(ctx, waas.PageRequest{}); err != nil {
				t.Fatalf("delay %d: request %d after the revocation: %v", delay, i+1, err)
			}
		}
		for range 2 {
			_, err := vc.ListPools(ctx, waas.PageRequest{})
			wantHTTP(t, err, 401)
		}
		// Revoking again does not start a new delay.
		if err := sb.srv.RevokeAPIKey(victim.Name); err != nil {
			t.Fatal(err)
		}
		_, err = vc.ListPools(ctx, waas.PageRequest{})
		wantHTTP(t, err, 401)
	}
	if _, err := New(Config{RevocationDelay: -1}); err == nil {
		t.Fatal("a negative revocation delay was accepted")
	}
}

// FailNext fails exactly the next n requests of one route, and no other;
// RequestCounts counts every request by route, the failed ones included.
func TestFailNextAndRequestCounts(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 2, WalletsPerPool: 1}})
	ctx := testctx.New(t)
	const pools = "GET /waas/pools/v1/pools"
	if err := sb.srv.FailNext(pools, 2, FaultInternal); err != nil {
		t.Fatal(err)
	}
	if err := sb.srv.FailNext(pools, 1, FaultUnavailable); err != nil {
		t.Fatal(err)
	}
	if err := sb.srv.FailNext("GET /waas/pools/v1/nothing", 1, FaultInternal); err == nil {
		t.Fatal("FailNext accepted an unknown route")
	}
	if err := sb.srv.FailNext("GET /sandbox/v1/estate", 1, FaultInternal); err == nil {
		t.Fatal("FailNext accepted a control call")
	}
	// Another route is untouched.
	if _, err := sb.client.ListAPIKeys(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{500, 500, 503} {
		_, err := sb.client.ListPools(ctx, waas.PageRequest{})
		wantHTTP(t, err, want)
	}
	if err := sb.srv.FailNext(pools, 1, FaultDrop); err != nil {
		t.Fatal(err)
	}
	// A fresh client: Go's transport resends a GET once when a reused connection drops.
	if _, err := clientFor(t, sb.url, sb.key).ListPools(ctx, waas.PageRequest{}); !waas.Unreachable(err) {
		t.Fatalf("after FaultDrop: %v, want no answer", err)
	}
	resp, err := sb.client.ListPools(ctx, waas.PageRequest{})
	if err != nil || len(resp.Pools) != 2 {
		t.Fatalf("after the planted faults: %v %v", resp, err)
	}
	want := map[string]int{pools: 5, "GET /sandbox/v1/apiKeys": 1}
	if got := sb.srv.RequestCounts(); !maps.Equal(got, want) {
		t.Fatalf("request counts %v, want %v", got, want)
	}
	sb.srv.ResetRequestCounts()
	if got := sb.srv.RequestCounts(); len(got) != 0 {
		t.Fatalf("after the reset: %v", got)
	}
	for _, r := range sb.srv.Routes() {
		if _, ok := sb.srv.routeByKey(r); !ok {
			t.Fatalf("Routes lists %q, which does not resolve", r)
		}
	}
}
