// Package nameset remembers which resource names were seen without holding
// the names: a Set (a map of 16-byte keys, 35 to 56 bytes a name as Go's map
// grows) drops repeats, such as device groups shared by wallets, and an
// Index (16 bytes and a bit a name) matches one stream of names against
// another.
package nameset

import "hash/maphash"

// Set is a set of names keyed by a 128-bit hash under per-process random
// seeds, so nobody can choose names that collide. The chance of two of n
// names colliding is about n²/2¹²⁹: nil for any estate. Not safe for
// concurrent use.
type Set struct {
	seeds [2]maphash.Seed
	m     map[[2]uint64]struct{}
}

// New returns an empty set.
func New() *Set {
	return &Set{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64]struct{}{}}
}

func (s *Set) key(name string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], name), maphash.String(s.seeds[1], name)}
}

// Add adds name and reports whether it was new.
func (s *Set) Add(name string) bool {
	k := s.key(name)
	if _, ok := s.m[k]; ok {
		return false
	}
	s.m[k] = struct{}{}
	return true
}

// Has reports whether name was added.
func (s *Set) Has(name string) bool {
	_, ok := s.m[s.key(name)]
	return ok
}

// Len is the number of distinct names added.
func (s *Set) Len() int { return len(s.m) }
