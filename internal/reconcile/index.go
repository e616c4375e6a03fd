package reconcile

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// index holds a ledger's names as sorted 128-bit digests with one "seen"
// bit each: 16 bytes and a bit per entry however long the names are, so a
// ledger of a million wallets costs ~17 MB (plus the slice's growth while
// it loads). The names themselves are read again, streaming, when a report
// needs them (the ledger's entries WaaS does not have).
//
// Digests are SHA-256, so nobody can pick a resource name (a pool ID is
// client-chosen) that collides with a ledger entry and hides behind it.
type index struct {
	keys   []ikey
	seen   []uint64 // bitset over keys
	counts map[Kind]int
}

type ikey struct{ hi, lo uint64 }

func cmpKey(a, b ikey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// digest keys a full name and a bare ID apart, so "pools/p/mpcWallets/X"
// and the bare "X" never share a key by accident.
func digest(k Kind, form byte, s string) ikey {
	h := sha256.New()
	h.Write([]byte(k))
	h.Write([]byte{0, form, 0})
	h.Write([]byte(s))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return ikey{binary.BigEndian.Uint64(sum[0:8]), binary.BigEndian.Uint64(sum[8:16])}
}

// entryKey is the key a ledger entry is filed under: its full name if it
// has one, else its ID.
func entryKey(k Kind, n Name) ikey {
	if n.Full != "" {
		return digest(k, 'F', n.Full)
	}
	return digest(k, 'I', n.ID)
}

// buildIndex reads kinds from l.
func buildIndex(ctx context.Context, l Ledger, kinds []Kind) (*index, error) {
	ix := &index{counts: map[Kind]int{}}
	err := l.Scan(ctx, kinds, func(e Entry) error {
		ix.keys = append(ix.keys, entryKey(e.Kind, e.Name))
		ix.counts[e.Kind]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ix.keys, cmpKey)
	ix.keys = slices.Compact(ix.keys)
	ix.keys = slices.Clip(ix.keys)
	ix.seen = make([]uint64, (len(ix.keys)+63)/64)
	return ix, nil
}

func (ix *index) find(key ikey) (int, bool) {
	return slices.BinarySearchFunc(ix.keys, key, cmpKey)
}

// match finds a WaaS resource's entries (by full name, then by ID), marks
// them seen, and reports whether there was one.
func (ix *index) match(k Kind, n Name) bool {
	found := false
	if n.Full != "" {
		if i, ok := ix.find(digest(k, 'F', n.Full)); ok {
			ix.mark(i)
			found = true
		}
	}
	if i, ok := ix.find(digest(k, 'I', n.ID)); ok {
		ix.mark(i)
		found = true
	}
	return found
}

func (ix *index) mark(i int)        { ix.seen[i/64] |= 1 << (i % 64) }
func (ix *index) marked(i int) bool { return ix.seen[i/64]&(1<<(i%64)) != 0 }

// bytes is the index's size, for the memory bound a report states.
func (ix *index) bytes() int { return cap(ix.keys)*16 + cap(ix.seen)*8 }
