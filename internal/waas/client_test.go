package waas_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

func startSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Server, string, waasapi.APIKey) {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	return sb.Server, sb.URL, sb.Key
}

func newClient(t *testing.T, url string, key waasapi.APIKey, opts waas.Options) *waas.Client {
	t.Helper()
	return sandboxtest.ClientFor(t, url, key, opts)
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// sequentialWallets lists every wallet the plain way, one call at a time,
// with the server's default page size: the oracle for the fan-out.
func sequentialWallets(t *testing.T, c *waas.Client) []string {
	t.Helper()
	ctx := testctx.New(t)
	var names []string
	var pools []string
	page := waas.PageRequest{}
	for {
		r, err := c.ListPools(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Pools {
			pools = append(pools, p.Name)
		}
		if page.Token = r.NextPageToken; page.Token == "" {
			break
		}
	}
	for _, p := range pools {
		page := waas.PageRequest{}
		for {
			r, err := c.ListMPCWallets(ctx, p, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range r.MPCWallets {
				names = append(names, w.Name)
			}
			if page.Token = r.NextPageToken; page.Token == "" {
				break
			}
		}
	}
	return names
}

func walletNames(ws []waasapi.MPCWallet) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Name
	}
	return out
}

func TestFanOutMatchesSequentialOrder(t *testing.T) {
	_, url, key := startSandbox(t, sandbox.Config{Seed: 4, Shape: sandbox.EstateShape{Pools: 13, WalletsPerPool: 37}})
	want := sequentialWallets(t, newClient(t, url, key, waas.Options{}))
	for _, tc := range []waas.Options{
		{Concurrency: 1, PageSize: 5},
		{Concurrency: 4, PageSize: 7},
		{Concurrency: 32, PageSize: 1000},
	} {
		c := newClient(t, url, key, tc)
		got := walletNames(collect(t, c.AllWallets(testctx.New(t))))
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: %d wallets, not the %d of a sequential listing in its order", tc, len(got), len(want))
		}
	}
}

// TestEnumerationIsExactThroughFaultsAndRateLimits is the inventory's
// promise: with 10% of requests failing and a tight rate limit, the listing
// is still exact, every time.
func TestEnumerationIsExactThroughFaultsAndRateLimits(t *testing.T) {
	testctx.WithBound(t, 3*time.Minute) // 20 runs, a minute and more under -race on a loaded machine
	shape := sandbox.EstateShape{Pools: 6, WalletsPerPool: 40, OperationsPerGroup: 2}
	_, cleanURL, cleanKey := startSandbox(t, sandbox.Config{Seed: 8, Shape: shape})
	want := sequentialWallets(t, newClient(t, cleanURL, cleanKey, waas.Options{}))
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for run := 0; run < runs; run++ {
		srv, url, key := startSandbox(t, sandbox.Config{Seed: 8, Shape: shape, FaultRate: 0.1, RateLimit: sandbox.RateLimit{N: 400, Per: time.Second}})
		c := newClient(t, url, key, waas.Options{Concurrency: 4, PageSize: 7})
		got := walletNames(collect(t, c.AllWallets(testctx.New(t))))
		if !slices.Equal(got, want) {
			t.Fatalf("run %d: %d wallets, want exactly the %d of a clean listing", run, len(got), len(want))
		}
		groups := collect(t, c.OperationsOf(testctx.New(t), c.AllWallets(testctx.New(t))))
		ops := 0
		for _, g := range groups {
			ops += len(g.Operations)
		}
		if st := srv.Stats(srv.DefaultOrg()); len(groups) != st.DeviceGroups || ops != st.PendingOperations {
			t.Fatalf("run %d: %d groups and %d operations, sandbox holds %d and %d", run, len(groups), ops, st.DeviceGroups, st.PendingOperations)
		}
		if s := c.Stats(); s.Retries == 0 {
			t.Fatalf("run %d: no retries at a 10%% fault rate: %+v", run, s)
		}
	}
}

func TestNonIdempotentWritesAreNotRetriedAfterAmbiguousFailures(t *testing.T) {
	srv, url, key := startSandbox(t, sandbox.Config{Seed: 1, FaultRate: 1})
	c := newClient(t, url, key, waas.Options{MaxAttempts: 5})
	_, err := c.CreatePool(testctx.New(t), "no id", "")
	if err == nil || c.Stats().Requests != 1 {
		t.Fatalf("a CreatePool without an ID was sent %d times (err %v)", c.Stats().Requests, err)
	}
	if !strings.HasPrefix(err.Error(), "CreatePool: ") {
		t.Fatalf("error does not name the call: %v", err)
	}
	_ = srv
}

func TestErrorsNameTheCallAndCodeButNeverTheKey(t *testing.T) {
	_, url, key := startSandbox(t, sandbox.Config{Seed: 1})
	c := newClient(t, url, key, waas.Options{})
	_, err := c.GetPool(testctx.New(t), "pools/missing")
	if waas.HTTPCode(err) != 404 || !strings.Contains(err.Error(), "GetPool: HTTP 404") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE") || strings.Contains(err.Error(), "Bearer") {
		t.Fatalf("error leaks credentials: %v", err)
	}
}

func TestStoppingEarlyLeavesNoGoroutines(t *testing.T) {
	_, url, key := startSandbox(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 20, WalletsPerPool: 50}})
	c := newClient(t, url, key, waas.Options{Concurrency: 8, PageSize: 3})
	n := 0
	for _, err := range c.AllWallets(testctx.New(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	// The iterator waits for its goroutines before returning. (Idle HTTP
	// connections may linger; they are not ours to count.)
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "internal/waas.fanOut") {
		t.Fatalf("fan-out goroutines still running after breaking out:\n%s", stacks)
	}
}

func TestCancellationEndsWithAnErrorNotASilentlyShortList(t *testing.T) {
	_, url, key := startSandbox(t, sandbox.Config{Seed: 1, Latency: 5 * time.Millisecond, Shape: sandbox.EstateShape{Pools: 30, WalletsPerPool: 20}})
	c := newClient(t, url, key, waas.Options{Concurrency: 4, PageSize: 5})
	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()
	var n atomic.Int64
	var lastErr error
	for _, err := range c.AllWallets(ctx) {
		if err != nil {
			lastErr = err
			break
		}
		if n.Add(1) == 25 {
			cancel()
		}
	}
	if !errors.Is(lastErr, context.Canceled) {
		t.Fatalf("after cancel: %d wallets and err %v", n.Load(), lastErr)
	}
}

// TestCreatePoolWithIDSurvivesALostAnswer: when the answer to a CreatePool
// with a chosen ID is lost, the retry's 409 is recognised as our own pool.
func TestCreatePoolWithIDSurvivesALostAnswer(t *testing.T) {
	for seed := int64(1); seed <= 40; seed++ {
		srv, url, key := startSandbox(t, sandbox.Config{Seed: seed, FaultRate: 0.5})
		c := newClient(t, url, key, waas.Options{MaxAttempts: 20})
		p, err := c.CreatePool(testctx.New(t), "Mine", "mine")
		if err != nil || p.Name != "pools/mine" || p.DisplayName != "Mine" {
			t.Fatalf("seed %d: %+v %v", seed, p, err)
		}
		if n := srv.Stats(srv.DefaultOrg()).Pools; n != 1 {
			t.Fatalf("seed %d: %d pools", seed, n)
		}
	}
}

// TestTightRateLimitSlowsButNeverFails: 16 lanes against a server that
// allows 20 requests a second see many 429s; every one is waited out (they
// do not use up the attempts), and the listing is exact.
func TestTightRateLimitSlowsButNeverFails(t *testing.T) {
	// 41 requests against 10 a second: however the windows fall, they cannot all pass at once.
	srv, url, key := startSandbox(t, sandbox.Config{Seed: 12, RateLimit: sandbox.RateLimit{N: 10, Per: time.Second}, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 10, OperationsPerGroup: 1}})
	c := newClient(t, url, key, waas.Options{Concurrency: 16, PageSize: 4, MaxAttempts: 3})
	groups := collect(t, c.OperationsOf(testctx.New(t), c.AllWallets(testctx.New(t))))
	if st := srv.Stats(srv.DefaultOrg()); len(groups) != st.DeviceGroups {
		t.Fatalf("%d groups, the sandbox holds %d", len(groups), st.DeviceGroups)
	}
	// 429s are waited out, not counted against MaxAttempts (retry_test.go pins the waits).
	if s := c.Stats(); s.Throttled == 0 {
		t.Fatalf("the sandbox throttled nothing, so nothing was waited out: %+v", s)
	}
}

// TestEveryReadOfTheSixServices calls each read the client has once against
// the sandbox: a typo in a path or a field shows up here.
func TestEveryReadOfTheSixServices(t *testing.T) {
	_, url, key := startSandbox(t, sandbox.Config{Seed: 2, Shape: sandbox.EstateShape{Pools: 1, WalletsPerPool: 1, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	c := newClient(t, url, key, waas.Options{})
	ctx := testctx.New(t)
	pools := collect(t, c.Pools(ctx))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.GetPool(ctx, pools[0].Name)
	must("GetPool", err)
	w := collect(t, c.Wallets(ctx, pools[0].Name))[0]
	_, err = c.GetMPCWallet(ctx, w.Name)
	must("GetMPCWallet", err)
	g, err := c.GetDeviceGroup(ctx, w.DeviceGroup)
	must("GetDeviceGroup", err)
	_, err = c.GetDevice(ctx, g.Devices[0])
	must("GetDevice", err)
	addrs := collect(t, c.Addresses(ctx, "networks/"+sandbox.SeedNetwork, w.Name))
	a, err := c.GetAddress(ctx, addrs[0].Name)
	must("GetAddress", err)
	_, err = c.GetMPCKey(ctx, a.MPCKeys[0])
	must("GetMPCKey", err)
	bal := collect(t, c.Balances(ctx, a.Name))
	_, err = c.ListBalanceDetails(ctx, bal[0].Name, waas.PageRequest{})
	must("ListBalanceDetails", err)
	ops := collect(t, c.Operations(ctx, w.DeviceGroup))
	_, err = c.GetOperation(ctx, waasapi.MPCKeyService, "operations/"+ops[0].Name[strings.LastIndex(ops[0].Name, "/")+1:])
	must("GetOperation", err)
	_ = collect(t, c.Transactions(ctx, w.Name))
	nets := collect(t, c.Networks(ctx))
	_, err = c.GetNetwork(ctx, nets[0].Name)
	must("GetNetwork", err)
	assets, err := c.ListAssets(ctx, nets[0].Name, `definition.asset_type = "native"`, waas.PageRequest{})
	must("ListAssets", err)
	_, err = c.GetAsset(ctx, assets.Assets[0].Name)
	must("GetAsset", err)
	batch, err := c.BatchGetAssets(ctx, nets[0].Name, []string{assets.Assets[0].Name, nets[0].Name + "/assets/nope"})
	must("BatchGetAssets", err)
	if len(batch.Assets) != 1 || len(batch.NotFound) != 1 {
		t.Fatalf("BatchGetAssets %+v", batch)
	}
	fee, err := c.EstimateFee(ctx, nets[0].Name)
	must("EstimateFee", err)
	if fee.EthereumFeeEstimate == nil {
		t.Fatal("no fee estimate")
	}
}
