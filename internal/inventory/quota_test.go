package inventory

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
)

func TestCountMatchesTheEstate(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 3, FaultRate: 0.1, Shape: sandbox.EstateShape{Pools: 4, WalletsPerPool: 7, AddressesPerWallet: 3}})
	srv := sb.Server
	got, err := Count(context.Background(), sb.Client(t, waas.Options{PageSize: 5}), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Stats(srv.DefaultOrg())
	want := map[string]int{Pools: st.Pools, Wallets: st.MPCWallets, DeviceGroups: st.DeviceGroups, Addresses: st.Addresses}
	for kind, n := range want {
		if got.Totals[kind] != n {
			t.Errorf("%s: counted %d, the sandbox holds %d", kind, got.Totals[kind], n)
		}
	}
	if len(got.PerPool) != 4 || got.PerPool[0].Wallets != 7 || got.PerPool[0].Addresses != 21 {
		t.Fatalf("per pool: %+v", got.PerPool)
	}
}

func TestEvaluateThresholds(t *testing.T) {
	now := &Counts{Totals: map[string]int{Pools: 5, Wallets: 80, DeviceGroups: 80, Addresses: 101}}
	limits := Limits{Pools: 20, Wallets: 100, Addresses: 100, DeviceGroups: 80}
	got := map[string]string{}
	for _, u := range Evaluate(now, limits, 80, nil) {
		got[u.Resource] = u.Status
	}
	want := map[string]string{Pools: StatusOK, Wallets: StatusWarn, DeviceGroups: StatusAtLimit, Addresses: StatusOver}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	// 79 of 100 is under an 80% threshold; no limit is never crossed.
	for _, u := range Evaluate(&Counts{Totals: map[string]int{Wallets: 79, Pools: 1000}}, Limits{Wallets: 100}, 80, nil) {
		if u.Crossed() {
			t.Errorf("%s crossed: %+v", u.Resource, u)
		}
	}
}

func TestGrowthAndSnapshots(t *testing.T) {
	dir := t.TempDir()
	earlier := &Counts{Time: time.Now().Add(-time.Hour).UTC(), Profile: "prod", Endpoint: "e", Org: "o", Totals: map[string]int{Pools: 1, Wallets: 2},
		PerPool: []PoolCounts{{Pool: "pools/a", Wallets: 2}}}
	other := &Counts{Time: time.Now().Add(-time.Minute).UTC(), Profile: "prod", Endpoint: "elsewhere", Org: "o", Totals: map[string]int{}}
	prodEU := &Counts{Time: time.Now().UTC(), Profile: "prod-eu", Endpoint: "e", Org: "o", Totals: map[string]int{Wallets: 99}}
	for _, c := range []*Counts{earlier, other, prodEU} {
		if _, err := SaveCounts(dir, c.Profile, c); err != nil {
			t.Fatal(err)
		}
	}
	latest, path, err := LatestCounts(dir, "prod", "e", "o")
	if err != nil || latest == nil || latest.Totals[Wallets] != 2 || filepath.Dir(path) != dir {
		t.Fatalf("latest for the same endpoint: %+v %s %v", latest, path, err)
	}
	if none, _, _ := LatestCounts(dir, "staging", "e", "o"); none != nil {
		t.Fatal("found another profile's census")
	}
	now := &Counts{Totals: map[string]int{Pools: 2, Wallets: 5}, PerPool: []PoolCounts{{Pool: "pools/a", Wallets: 2}, {Pool: "pools/b", Wallets: 3}}}
	deltas := PoolGrowth(now, latest)
	if len(deltas) != 1 || deltas[0].Pool != "pools/b" || !deltas[0].New || deltas[0].Wallets != 3 {
		t.Fatalf("growth %+v", deltas)
	}
	for _, u := range Evaluate(now, nil, 80, latest) {
		if u.Resource == Wallets && (u.Growth == nil || *u.Growth != 3) {
			t.Fatalf("wallet growth %+v", u)
		}
	}
}

func TestParseLimitsAndPercent(t *testing.T) {
	l, err := ParseLimits("wallets=10000, pools=20,device-groups=5")
	if err != nil || l[Wallets] != 10000 || l[Pools] != 20 || l[DeviceGroups] != 5 {
		t.Fatalf("%v %v", l, err)
	}
	for _, bad := range []string{"wallets", "widgets=3", "wallets=0", "wallets=-1", "wallets=ten"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("ParseLimits(%q) accepted", bad)
		}
	}
	for in, want := range map[string]float64{"80%": 80, "80": 80, " 92.5% ": 92.5} {
		if got, err := ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0", "101%", "x"} {
		if _, err := ParsePercent(bad); err == nil {
			t.Errorf("ParsePercent(%q) accepted", bad)
		}
	}
}

func FuzzParseLimits(f *testing.F) {
	f.Add("wallets=10000,pools=20")
	f.Add("addresses=1,,device_groups=2")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimits(s)
		if err != nil {
			return
		}
		for kind, n := range l {
			if n <= 0 {
				t.Fatalf("%q gave %s=%d", s, kind, n)
			}
		}
	})
}
