package nameset

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Key is a 128-bit SHA-256 digest of a name. SHA-256, unlike the seeded
// hash of Set, is the same in every run, so an index can be built in one
// read of a file and matched in another; and it is collision resistant, so
// nobody can choose a name (a pool ID is client-chosen) that collides with
// another and hides behind it.
type Key struct{ hi, lo uint64 }

// KeyOf digests parts, kept apart by NUL bytes.
func KeyOf(parts ...string) Key {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return Key{binary.BigEndian.Uint64(sum[0:8]), binary.BigEndian.Uint64(sum[8:16])}
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
}

// Index is a set of keys with a mark bit each: 16 bytes and a bit per
// name however long the names are. Build it with Builder, then match names
// against it and mark what was found; what stays unmarked was never seen.
type Index struct {
	keys   []Key
	seen   []uint64 // bitset over keys
	marked int
}

// Builder collects the keys of an Index.
type Builder struct{ keys []Key }

// Add adds a key; repeats are dropped by Build.
func (b *Builder) Add(k Key) { b.keys = append(b.keys, k) }

// Build sorts the keys and returns the index. The builder is spent.
func (b *Builder) Build() *Index {
	keys := b.keys
	b.keys = nil
	slices.SortFunc(keys, compareKeys)
	keys = slices.Clip(slices.Compact(keys))
	return &Index{keys: keys, seen: make([]uint64, (len(keys)+63)/64)}
}

// Find returns the position of k.
func (ix *Index) Find(k Key) (int, bool) {
	return slices.BinarySearchFunc(ix.keys, k, compareKeys)
}

// Mark marks the key at position i.
func (ix *Index) Mark(i int) {
	if !ix.Marked(i) {
		ix.seen[i/64] |= 1 << (i % 64)
		ix.marked++
	}
}

// Unmarked is the number of keys not marked.
func (ix *Index) Unmarked() int { return len(ix.keys) - ix.marked }

// Marked says whether the key at position i is marked.
func (ix *Index) Marked(i int) bool { return ix.seen[i/64]&(1<<(i%64)) != 0 }

// Len is the number of distinct keys.
func (ix *Index) Len() int { return len(ix.keys) }

// Bytes is the index's size in memory.
func (ix *Index) Bytes() int { return cap(ix.keys)*16 + cap(ix.seen)*8 }
