package waas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// arrivals records when each WaaS request reached the sandbox.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
	next  http.Handler
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/waas/") {
		a.mu.Lock()
		a.times = append(a.times, time.Now())
		a.mu.Unlock()
	}
	a.next.ServeHTTP(w, r)
}

func (a *arrivals) maxInAnySecond() int {
	a.mu.Lock()
	ts := slices.Clone(a.times)
	a.mu.Unlock()
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func startRecorded(t *testing.T, cfg sandbox.Config) (*sandbox.Server, string, waasapi.APIKey, *arrivals) {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &arrivals{next: srv}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, ts.URL, key, rec
}

// TestAdaptiveCeilingIsNeverExceededAtTheSandbox: with --rate 20 and
// adaptation on, no second at the sandbox sees more than 21 requests, and
// the listing is exact.
func TestAdaptiveCeilingIsNeverExceededAtTheSandbox(t *testing.T) {
	srv, url, key, rec := startRecorded(t, sandbox.Config{Seed: 3, Shape: sandbox.EstateShape{Pools: 30, WalletsPerPool: 2}})
	c := sandboxtest.ClientFor(t, url, key, waas.Options{Adaptive: true, Rate: 20, Concurrency: 64})
	wallets := collect(t, c.AllWallets(context.Background()))
	if want := srv.Stats(srv.DefaultOrg()).MPCWallets; len(wallets) != want {
		t.Fatalf("listed %d wallets, the sandbox holds %d", len(wallets), want)
	}
	if got := rec.maxInAnySecond(); got > 21 {
		t.Fatalf("%d requests reached the sandbox in one second under --rate 20", got)
	}
}

// TestAdaptiveListingIsExactUnderEveryLimiter: with no flags, under each
// limiter shape, a listing is exact and no 429 reaches the caller, and the
// sandbox counted what the client sent. (Penalty boxes, whose penalties are
// tens of seconds, are tried on a simulated clock in pacer_test.go.)
func TestAdaptiveListingIsExactUnderEveryLimiter(t *testing.T) {
	for _, spec := range []string{"40/1s", "20/1s,burst=30,scope=key", "30/1s,scope=org"} {
		t.Run(spec, func(t *testing.T) {
			rl, err := sandbox.ParseRateLimit(spec)
			if err != nil {
				t.Fatal(err)
			}
			srv, url, key, _ := startRecorded(t, sandbox.Config{Seed: 4, Shape: sandbox.EstateShape{Pools: 50, WalletsPerPool: 2}, RateLimits: []sandbox.RateLimit{rl}})
			c := sandboxtest.ClientFor(t, url, key, waas.Options{Adaptive: true, Concurrency: 64})
			wallets := collect(t, c.AllWallets(context.Background()))
			if want := srv.Stats(srv.DefaultOrg()).MPCWallets; len(wallets) != want {
				t.Fatalf("listed %d wallets, the sandbox holds %d", len(wallets), want)
			}
			got := srv.RequestStats(srv.DefaultOrg()).Keys[key.Name]
			if got.Requests != c.Stats().Requests || got.Throttled != c.Stats().Throttled {
				t.Errorf("the sandbox counted %+v, the client %+v", got, c.Stats())
			}
			if got.Penalties > 1 {
				t.Errorf("penalty box entered %d times", got.Penalties)
			}
			t.Logf("%s: %d requests, %d answered 429, %d penalties", spec, got.Requests, got.Throttled, got.Penalties)
		})
	}
}
