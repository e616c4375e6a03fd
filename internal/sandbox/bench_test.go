package sandbox

import (
	"runtime"
	"testing"
)

// BenchmarkSeedMillionWallets seeds the largest estate the docs promise and
// reports the heap it holds (go test -bench SeedMillion -benchtime 1x).
func BenchmarkSeedMillionWallets(b *testing.B) {
	shape := EstateShape{Pools: 100, WalletsPerPool: 10000, AddressesPerWallet: 1, OperationsPerGroup: 1}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		es := newEstate("org")
		seedEstate(es, 1, shape)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(es)
	}
}

// BenchmarkSeedWalletsInSharedGroups seeds a million wallets ten to a
// device group (--wallets-per-group 10): 100,000 groups.
func BenchmarkSeedWalletsInSharedGroups(b *testing.B) {
	shape := EstateShape{Pools: 100, WalletsPerPool: 10000, WalletsPerGroup: 10, AddressesPerWallet: 1, OperationsPerGroup: 1}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		es := newEstate("org")
		seedEstate(es, 1, shape)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(es)
	}
}
