package waas_test

import (
	"maps"
	"testing"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

const (
	poolsRoute   = "GET /waas/pools/v1/pools"
	walletsRoute = "GET /waas/mpc_wallets/v1/pools/*/mpcWallets"
)

func pages(items, size int) int { return max(1, (items+size-1)/size) }

// The sandbox's per-route counters pin how many requests a listing makes: one per page,
// and none twice. A change that re-fetches a page, or lists a pool twice, fails here.
func TestListingsMakeOneRequestPerPage(t *testing.T) {
	const nPools, perPool = 13, 37
	srv, url, key := startSandbox(t, sandbox.Config{Seed: 4, Shape: sandbox.EstateShape{Pools: nPools, WalletsPerPool: perPool}})
	ctx := testctx.New(t)

	t.Run("paging", func(t *testing.T) {
		for _, size := range []int{1, 5, 37, 100} {
			c := newClient(t, url, key, waas.Options{PageSize: size})
			pools := collect(t, c.Pools(ctx))
			srv.ResetRequestCounts()
			if got := collect(t, c.Wallets(ctx, pools[0].Name)); len(got) != perPool {
				t.Fatalf("page size %d: %d wallets, want %d", size, len(got), perPool)
			}
			want := map[string]int{walletsRoute: pages(perPool, size)}
			if got := srv.RequestCounts(); !maps.Equal(got, want) {
				t.Fatalf("page size %d: requests %v, want %v", size, got, want)
			}
		}
	})
	t.Run("fan-out", func(t *testing.T) {
		for _, tc := range []waas.Options{
			{Concurrency: 1, PageSize: 5},
			{Concurrency: 4, PageSize: 7},
			{Concurrency: 32, PageSize: 1000},
		} {
			c := newClient(t, url, key, tc)
			srv.ResetRequestCounts()
			if got := collect(t, c.AllWallets(ctx)); len(got) != nPools*perPool {
				t.Fatalf("%+v: %d wallets", tc, len(got))
			}
			size := min(tc.PageSize, sandbox.MaxPageSize)
			want := map[string]int{poolsRoute: pages(nPools, size), walletsRoute: nPools * pages(perPool, size)}
			if got := srv.RequestCounts(); !maps.Equal(got, want) {
				t.Fatalf("%+v: requests %v, want %v", tc, got, want)
			}
		}
	})
	t.Run("retry", func(t *testing.T) {
		// Each 500 costs exactly one more request; the answer after them is used.
		for _, fails := range []int{0, 1, 3} {
			c := newClient(t, url, key, waas.Options{MaxAttempts: 4})
			srv.ResetRequestCounts()
			if err := srv.FailNext(poolsRoute, fails, sandbox.FaultInternal); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListPools(ctx, waas.PageRequest{Size: 100}); err != nil {
				t.Fatalf("%d faults: %v", fails, err)
			}
			if got, want := srv.RequestCounts(), map[string]int{poolsRoute: fails + 1}; !maps.Equal(got, want) {
				t.Fatalf("%d faults: requests %v, want %v", fails, got, want)
			}
		}
		// Beyond the attempts: an error after exactly MaxAttempts requests.
		c := newClient(t, url, key, waas.Options{MaxAttempts: 2})
		srv.ResetRequestCounts()
		if err := srv.FailNext(poolsRoute, 2, sandbox.FaultInternal); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListPools(ctx, waas.PageRequest{}); waas.HTTPCode(err) != 500 {
			t.Fatalf("after 2 faults with 2 attempts: %v", err)
		}
		if got := srv.RequestCounts()[poolsRoute]; got != 2 {
			t.Fatalf("%d requests, want 2", got)
		}
	})
}
