package sandboxtest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func walletNames(inv sandbox.Inventory) []string {
	return names(inv.Wallets, func(w sandbox.InventoryWallet) string { return w.Name })
}

func groupNames(inv sandbox.Inventory) []string {
	return names(inv.DeviceGroups, func(g sandbox.InventoryDeviceGroup) string { return g.Name })
}

func operationNames(inv sandbox.Inventory) []string {
	return names(inv.Operations, func(o sandbox.InventoryOperation) string { return o.Name })
}

func union(a, b []string) []string {
	return slices.Sorted(slices.Values(append(slices.Clone(a), b...)))
}

func TestPlantAddsExactlyWhatItReports(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 5, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 9, WalletsPerGroup: 3, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()
	before := sb.Inventory()
	firstPool, err := sb.Client(t, waas.Options{}).ListPools(ctx, waas.PageRequest{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	pool := firstPool.Pools[0].Name

	planted, err := sandboxtest.Plant(ctx, sb.URL, sb.Key, sandboxtest.PlantSpec{Wallets: 2, Signatures: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(planted.Wallets) != 2 || len(planted.DeviceGroups) != 2 || len(planted.Operations) != 5 {
		t.Fatalf("planted %+v", planted)
	}
	after := sb.Inventory()
	if got, want := walletNames(after), union(walletNames(before), planted.Wallets); !slices.Equal(got, want) {
		t.Fatalf("wallets after Plant:\n got %v\nwant %v", got, want)
	}
	if got, want := groupNames(after), union(groupNames(before), planted.DeviceGroups); !slices.Equal(got, want) {
		t.Fatalf("device groups after Plant:\n got %v\nwant %v", got, want)
	}
	if got, want := operationNames(after), union(operationNames(before), planted.Operations); !slices.Equal(got, want) {
		t.Fatalf("operations after Plant:\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(after.Pools, before.Pools) {
		t.Fatalf("pools changed: %v -> %v", before.Pools, after.Pools)
	}

	// The wallets are in the first pool, each in a new group of its own.
	for i, w := range planted.Wallets {
		if !strings.HasPrefix(w, pool+"/mpcWallets/") {
			t.Errorf("planted wallet %s is not in %s", w, pool)
		}
		j, _ := slices.BinarySearchFunc(after.Wallets, w, func(x sandbox.InventoryWallet, n string) int { return strings.Compare(x.Name, n) })
		if !slices.Contains(planted.DeviceGroups, after.Wallets[j].DeviceGroup) {
			t.Errorf("planted wallet %d is in %s, not a planted group", i, after.Wallets[j].DeviceGroup)
		}
	}
	// The signatures are pending CreateSignature operations on seeded
	// groups of that pool, one group each: the pool has 3.
	seededGroups := groupNames(before)
	signedGroups := map[string]bool{}
	for _, op := range after.Operations {
		if !slices.Contains(planted.Operations, op.Name) {
			continue
		}
		if op.Kind != "CreateSignature" || !strings.HasPrefix(op.Name, op.DeviceGroup+"/mpcOperations/") || !strings.HasPrefix(op.DeviceGroup, pool+"/") {
			t.Errorf("planted operation %+v", op)
		}
		if _, seeded := slices.BinarySearch(seededGroups, op.DeviceGroup); !seeded {
			t.Errorf("planted operation %s is not on a seeded group", op.Name)
		}
		signedGroups[op.DeviceGroup] = true
	}
	if len(signedGroups) != 3 {
		t.Errorf("5 signatures over %d groups, want all 3 of the pool's", len(signedGroups))
	}
}

func TestPlantInANamedPoolThenFaults(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 6, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 2, AddressesPerWallet: 0}})
	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()
	pool := sb.Inventory().Pools[2]
	planted, err := sandboxtest.Plant(ctx, sb.URL, sb.Key, sandboxtest.PlantSpec{Wallets: 1, Signatures: 3, Pool: strings.TrimPrefix(pool, "pools/")})
	if err != nil {
		t.Fatal(err)
	}
	// Wallets without addresses still have keys: Plant finds one through a
	// new address.
	for _, name := range append(slices.Clone(planted.Wallets), planted.Operations...) {
		if !strings.HasPrefix(name, pool+"/") {
			t.Errorf("%s is not in %s", name, pool)
		}
	}
	if len(planted.Operations) != 3 {
		t.Fatalf("planted %+v", planted)
	}

	// The inventory does not go through HTTP, so faults do not touch it.
	sb.SetFaultRate(1)
	if got := len(sb.Inventory().Operations); got != 3 {
		t.Fatalf("%d pending operations under faults, want the 3 planted", got)
	}
	if _, err := sb.Client(t, waas.Options{MaxAttempts: 1}).ListPools(ctx, waas.PageRequest{}); err == nil {
		t.Fatal("fault rate 1, yet ListPools succeeded")
	}
}

func TestPlantNothingChangesNothing(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 7, Shape: sandbox.EstateShape{Pools: 1, WalletsPerPool: 2, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	before := sb.Inventory()
	planted, err := sandboxtest.Plant(testctx.New(t), sb.URL, sb.Key, sandboxtest.PlantSpec{})
	if err != nil || len(planted.Wallets)+len(planted.DeviceGroups)+len(planted.Operations) != 0 {
		t.Fatalf("Plant of nothing: %+v %v", planted, err)
	}
	if after := sb.Inventory(); !slices.Equal(operationNames(after), operationNames(before)) || !slices.Equal(walletNames(after), walletNames(before)) {
		t.Fatal("Plant of nothing changed the estate")
	}
	if _, err := sandboxtest.Plant(testctx.New(t), sb.URL, sb.Key, sandboxtest.PlantSpec{Signatures: 1, Pool: "pools/nope"}); err == nil {
		t.Fatal("Plant in a missing pool succeeded")
	}
}
