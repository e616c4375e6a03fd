package sandbox

import (
	"encoding/gob"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

func generateAddress(t *testing.T, sb *testSandbox, wallet, network string) waasapi.Address {
	t.Helper()
	resp := rawRequest(t, sb, "POST", "/waas/mpc_wallets/v1/"+wallet+":generateAddress", `{"network":"networks/`+network+`"}`)
	var a waasapi.Address
	decodeBody(t, resp, &a)
	if resp.StatusCode != 200 {
		t.Fatalf("GenerateAddress %s on %s: HTTP %d", wallet, network, resp.StatusCode)
	}
	return a
}

func walletAddresses(t *testing.T, sb *testSandbox, wallet string) []waasapi.Address {
	t.Helper()
	resp, err := sb.client.ListAddresses(testctx.New(t), "networks/"+SeedNetwork, wallet, waas.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Addresses
}

func TestWalletsShareDeviceGroupsButNotKeys(t *testing.T) {
	shape := EstateShape{Pools: 2, WalletsPerPool: 7, WalletsPerGroup: 3, AddressesPerWallet: 2, OperationsPerGroup: 2}
	sb := newTestSandbox(t, Config{Seed: 4, Shape: shape})
	ctx := testctx.New(t)

	// 7 wallets in groups of 3, 3 and 1, in each of 2 pools.
	want := waasapi.EstateStats{Pools: 2, MPCWallets: 14, DeviceGroups: 6, MPCKeys: 28, Addresses: 28, PendingOperations: 12}
	if st := sb.srv.Stats(sb.srv.DefaultOrg()); st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	pools, err := sb.client.ListPools(ctx, waas.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	addrSeen := map[string]string{}
	keySeen := map[string]string{}
	for _, p := range pools.Pools {
		var groups []string
		for _, wname := range listAllWallets(t, sb.client, p.Name, 0) {
			w, err := sb.client.GetMPCWallet(ctx, wname)
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) == 0 || groups[len(groups)-1] != w.DeviceGroup {
				groups = append(groups, w.DeviceGroup)
			}
			// Each wallet has its own keys and addresses in the shared group.
			addrs := walletAddresses(t, sb, wname)
			if len(addrs) != 2 {
				t.Fatalf("%s has %d addresses, want 2", wname, len(addrs))
			}
			for _, a := range addrs {
				if a.MPCWallet != wname || !strings.HasPrefix(a.MPCKeys[0], w.DeviceGroup+"/mpcKeys/") {
					t.Fatalf("address %+v of %s in %s", a, wname, w.DeviceGroup)
				}
				if other, dup := addrSeen[a.Address]; dup {
					t.Fatalf("address %s belongs to %s and %s", a.Address, other, wname)
				}
				if other, dup := keySeen[a.MPCKeys[0]]; dup {
					t.Fatalf("key %s backs addresses of %s and %s", a.MPCKeys[0], other, wname)
				}
				addrSeen[a.Address], keySeen[a.MPCKeys[0]] = wname, wname
				if _, err := sb.client.GetMPCKey(ctx, a.MPCKeys[0]); err != nil {
					t.Fatal(err)
				}
				bal, err := sb.client.ListBalances(ctx, a.Name, waas.PageRequest{})
				if err != nil || len(bal.Balances) == 0 || bal.Balances[0].MPCWallet != wname {
					t.Fatalf("balances of %s: %+v %v", a.Name, bal, err)
				}
			}
		}
		if len(groups) != 3 {
			t.Fatalf("%s: consecutive wallets fill %d groups, want 3: %v", p.Name, len(groups), groups)
		}
		for _, g := range groups {
			if _, err := sb.client.GetDeviceGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
			ops, err := sb.client.ListMPCOperations(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops.MPCOperations) != 2 || ops.MPCOperations[0].Kind() != "CreateSignature" || !strings.HasPrefix(ops.MPCOperations[1].Name, g+"/mpcOperations/") {
				t.Fatalf("%s: operations %+v", g, ops.MPCOperations)
			}
		}
	}
}

func TestNewAddressesInASharedGroupComeFromTheWalletsOwnKeys(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 4, Shape: EstateShape{Pools: 1, WalletsPerPool: 2, WalletsPerGroup: 2, AddressesPerWallet: 1}})
	ctx := testctx.New(t)
	pools, _ := sb.client.ListPools(ctx, waas.PageRequest{})
	wallets := listAllWallets(t, sb.client, pools.Pools[0].Name, 0)
	a, b := wallets[0], wallets[1]
	aSeed, bSeed := walletAddresses(t, sb, a)[0], walletAddresses(t, sb, b)[0]

	// The n-th address on any network comes from the wallet's n-th key, so
	// wallet b's first address elsewhere is its own, not its group mate's.
	if got := generateAddress(t, sb, b, "ethereum-sepolia"); got.Address != bSeed.Address || got.MPCKeys[0] != bSeed.MPCKeys[0] {
		t.Fatalf("b's first sepolia address %s (key %s), want %s (key %s)", got.Address, got.MPCKeys[0], bSeed.Address, bSeed.MPCKeys[0])
	}
	a2 := generateAddress(t, sb, a, SeedNetwork)
	b2 := generateAddress(t, sb, b, SeedNetwork)
	if a2.Address == aSeed.Address || a2.Address == b2.Address || b2.Address == bSeed.Address || a2.MPCKeys[0] == b2.MPCKeys[0] {
		t.Fatalf("second addresses collide: a %s/%s, b %s/%s", aSeed.Address, a2.Address, bSeed.Address, b2.Address)
	}
	if got := generateAddress(t, sb, a, "ethereum-sepolia"); got.Address != aSeed.Address {
		t.Fatalf("a's first sepolia address %s, want %s", got.Address, aSeed.Address)
	}
	if got := generateAddress(t, sb, a, "ethereum-sepolia"); got.Address != a2.Address {
		t.Fatalf("a's second sepolia address %s, want %s", got.Address, a2.Address)
	}
	if st := sb.srv.Stats(sb.srv.DefaultOrg()); st.MPCKeys != 4 || st.DeviceGroups != 1 || st.Addresses != 7 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOneWalletPerGroupIsTheDefault(t *testing.T) {
	shape := EstateShape{Pools: 2, WalletsPerPool: 4, AddressesPerWallet: 1, OperationsPerGroup: 1}
	zero := newTestSandbox(t, Config{Seed: 3, Shape: shape})
	shape.WalletsPerGroup = 1
	one := newTestSandbox(t, Config{Seed: 3, Shape: shape})
	if a, b := zero.srv.Inventory(), one.srv.Inventory(); !reflect.DeepEqual(a, b) {
		t.Fatalf("WalletsPerGroup 0 and 1 differ:\n%+v\n%+v", a, b)
	}
	if st := one.srv.Stats(one.srv.DefaultOrg()); st.DeviceGroups != 8 || st.MPCWallets != 8 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSharedGroupSeedingIsDeterministic(t *testing.T) {
	shape := EstateShape{Pools: 3, WalletsPerPool: 10, WalletsPerGroup: 4, AddressesPerWallet: 1, OperationsPerGroup: 3}
	a := newTestSandbox(t, Config{Seed: 12, Shape: shape})
	b := newTestSandbox(t, Config{Seed: 12, Shape: shape})
	if !reflect.DeepEqual(a.srv.Inventory(), b.srv.Inventory()) {
		t.Fatal("same seed and shape, different estates")
	}
}

func TestInventoryMatchesTheAPI(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 6, Shape: EstateShape{Pools: 2, WalletsPerPool: 5, WalletsPerGroup: 2, AddressesPerWallet: 1, OperationsPerGroup: 2}})
	ctx := testctx.New(t)
	inv := sb.srv.Inventory()
	if len(inv.Pools) != 2 || len(inv.Wallets) != 10 || len(inv.DeviceGroups) != 6 || len(inv.Operations) != 12 {
		t.Fatalf("inventory sizes: %d pools, %d wallets, %d groups, %d operations", len(inv.Pools), len(inv.Wallets), len(inv.DeviceGroups), len(inv.Operations))
	}

	var wallets []InventoryWallet
	groups := map[string]InventoryDeviceGroup{}
	var ops []InventoryOperation
	for _, p := range inv.Pools {
		for _, name := range listAllWallets(t, sb.client, p, 0) {
			w, err := sb.client.GetMPCWallet(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			wallets = append(wallets, InventoryWallet{Name: w.Name, DeviceGroup: w.DeviceGroup})
			if _, seen := groups[w.DeviceGroup]; seen {
				continue
			}
			groups[w.DeviceGroup] = InventoryDeviceGroup{Name: w.DeviceGroup, Pool: p}
			resp, err := sb.client.ListMPCOperations(ctx, w.DeviceGroup)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range resp.MPCOperations {
				ops = append(ops, InventoryOperation{Name: op.Name, DeviceGroup: w.DeviceGroup, Kind: op.Kind()})
			}
		}
	}
	byName := func(a, b InventoryWallet) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(wallets, byName)
	if !reflect.DeepEqual(wallets, inv.Wallets) {
		t.Fatalf("wallets:\nAPI       %v\ninventory %v", wallets, inv.Wallets)
	}
	for _, g := range inv.DeviceGroups {
		if groups[g.Name] != g {
			t.Fatalf("inventory group %+v, API %+v", g, groups[g.Name])
		}
	}
	slices.SortFunc(ops, func(a, b InventoryOperation) int { return strings.Compare(a.Name, b.Name) })
	if !reflect.DeepEqual(ops, inv.Operations) {
		t.Fatalf("operations:\nAPI       %v\ninventory %v", ops, inv.Operations)
	}
}

func TestInventoryFollowsAWalletThroughCreation(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 1}})
	ctx := testctx.New(t)
	resp := rawRequest(t, sb, "POST", "/waas/mpc_keys/v1/device:register", `{"registrationData":"AQID"}`)
	var dev waasapi.Device
	decodeBody(t, resp, &dev)
	pool := sb.srv.Inventory().Pools[0]
	resp = rawRequest(t, sb, "POST", "/waas/mpc_wallets/v1/"+pool+"/mpcWallets?device="+dev.Name, `{}`)
	var op waasapi.Operation
	decodeBody(t, resp, &op)

	// Until the device completes it, the group and its CreateDeviceGroup
	// operation exist but the wallet is not listed.
	inv := sb.srv.Inventory()
	if len(inv.Wallets) != 0 || len(inv.DeviceGroups) != 1 || len(inv.Operations) != 1 || inv.Operations[0].Kind != "CreateDeviceGroup" {
		t.Fatalf("inventory while creating: %+v", inv)
	}
	if inv.DeviceGroups[0].Pool != pool || inv.Operations[0].DeviceGroup != inv.DeviceGroups[0].Name {
		t.Fatalf("inventory while creating: %+v", inv)
	}
	if _, err := sb.client.CompleteMPCOperation(ctx, inv.Operations[0].Name); err != nil {
		t.Fatal(err)
	}
	inv = sb.srv.Inventory()
	if len(inv.Wallets) != 1 || inv.Wallets[0].DeviceGroup != inv.DeviceGroups[0].Name || len(inv.Operations) != 0 {
		t.Fatalf("inventory once created: %+v", inv)
	}
}

func TestSharedGroupsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.state")
	cfg := Config{Seed: 9, StatePath: path, Shape: EstateShape{Pools: 2, WalletsPerPool: 5, WalletsPerGroup: 2, AddressesPerWallet: 1, OperationsPerGroup: 1}}
	first := newTestSandbox(t, cfg)
	before, stats := first.srv.Inventory(), first.srv.Stats(first.srv.DefaultOrg())
	if err := first.srv.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Shape.WalletsPerGroup = 1 // ignored: the saved state wins
	second := restart(t, cfg, first.key)
	if after := second.srv.Inventory(); !reflect.DeepEqual(before, after) {
		t.Fatalf("inventory changed across a restart:\n%+v\n%+v", before, after)
	}
	if st := second.srv.Stats(second.srv.DefaultOrg()); st != stats || st.DeviceGroups != 6 {
		t.Fatalf("stats %+v after restart, %+v before", st, stats)
	}
	// Key ownership is saved too: group mates still get distinct addresses.
	w := before.Wallets
	if w[0].DeviceGroup != w[1].DeviceGroup && w[1].DeviceGroup != w[2].DeviceGroup {
		t.Fatalf("no two wallets share a group: %+v", w)
	}
	shared := w[0:2]
	if w[0].DeviceGroup != w[1].DeviceGroup {
		shared = w[1:3]
	}
	x, y := generateAddress(t, second, shared[0].Name, SeedNetwork), generateAddress(t, second, shared[1].Name, SeedNetwork)
	if x.Address == y.Address {
		t.Fatalf("group mates got the same new address %s", x.Address)
	}
}

// restart serves the state at cfg.StatePath again, for the key of the
// first run.
func restart(t *testing.T, cfg Config, key waasapi.APIKey) *testSandbox {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testSandbox{srv: srv, url: ts.URL, client: clientFor(t, ts.URL, key), key: key}
}

func TestVersion1StateGainsKeyOwners(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.state")
	cfg := Config{Seed: 2, StatePath: path, Shape: EstateShape{Pools: 1, WalletsPerPool: 2, AddressesPerWallet: 1}}
	first := newTestSandbox(t, cfg)
	wallet := first.srv.Inventory().Wallets[0].Name
	seeded := walletAddresses(t, first, wallet)[0]
	if err := first.srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite the state as version 1 wrote it: no owners on keys.
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Version = 1
	for _, es := range st.Orgs {
		for _, g := range es.Groups {
			for i := range g.Keys {
				g.Keys[i].WalletID = ""
			}
		}
	}
	if err := fsutil.Write(path, 0o600, func(w io.Writer) error { return gob.NewEncoder(w).Encode(st) }); err != nil {
		t.Fatal(err)
	}

	second := restart(t, cfg, first.key)
	if got := generateAddress(t, second, wallet, SeedNetwork); got.Address == seeded.Address {
		t.Fatalf("the second address reuses the first's key: %s", got.Address)
	}
	if got := generateAddress(t, second, wallet, "ethereum-sepolia"); got.Address != seeded.Address {
		t.Fatalf("first sepolia address %s, want the seeded one %s", got.Address, seeded.Address)
	}
	if err := second.srv.Save(); err != nil {
		t.Fatal(err)
	}
	if st, err = loadState(path); err != nil {
		t.Fatal(err)
	}
	if st.Version != stateVersion {
		t.Fatalf("saved again as version %d, want %d", st.Version, stateVersion)
	}
}

func TestSetFaultRateTurnsFaultsOnAndOffWhileServing(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 1, WalletsPerPool: 1}})
	ctx := testctx.New(t)
	list := func() error {
		_, err := sb.client.ListPools(ctx, waas.PageRequest{})
		return err
	}
	for range 20 {
		if err := list(); err != nil {
			t.Fatalf("no faults configured: %v", err)
		}
	}
	sb.srv.SetFaultRate(1)
	for range 20 {
		err := list()
		if code := waas.HTTPCode(err); err == nil || (code != 0 && code != 500 && code != 503) {
			t.Fatalf("fault rate 1: got %v", err)
		}
	}
	sb.srv.SetFaultRate(0)
	if err := list(); err != nil {
		t.Fatalf("faults off again: %v", err)
	}

	// Changing the rate while requests run is safe (go test -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				resp, err := http.Get(sb.url + "/waas/pools/v1/pools")
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	for i := range 50 {
		sb.srv.SetFaultRate(float64(i%2) * 0.5)
	}
	wg.Wait()

	defer func() {
		if recover() == nil {
			t.Fatal("SetFaultRate(2) did not panic")
		}
	}()
	sb.srv.SetFaultRate(2)
}
