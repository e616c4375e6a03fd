package reconcile

import (
	"context"

	"github.com/waasctl/waasctl/internal/nameset"
)

// index holds a ledger's names as a nameset.Index: 16 bytes and a bit per
// entry however long the names are, so a ledger of a million wallets costs
// ~17 MB (plus the slice's growth while it loads). The names themselves are
// read again, streaming, when a report needs them (the ledger's entries
// WaaS does not have).
type index struct {
	*nameset.Index
	counts map[Kind]int
}

type ikey = nameset.Key

// digest keys a full name and a bare ID apart, so "pools/p/mpcWallets/X"
// and the bare "X" never share a key by accident.
func digest(k Kind, form byte, s string) ikey {
	return nameset.KeyOf(string(k), string(form), s)
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
	var b nameset.Builder
	counts := map[Kind]int{}
	err := l.Scan(ctx, kinds, func(e Entry) error {
		b.Add(entryKey(e.Kind, e.Name))
		counts[e.Kind]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &index{Index: b.Build(), counts: counts}, nil
}

// match finds a WaaS resource's entries (by full name, then by ID), marks
// them seen, and reports whether there was one.
func (ix *index) match(k Kind, n Name) bool {
	found := false
	if n.Full != "" {
		if i, ok := ix.Find(digest(k, 'F', n.Full)); ok {
			ix.Mark(i)
			found = true
		}
	}
	if i, ok := ix.Find(digest(k, 'I', n.ID)); ok {
		ix.Mark(i)
		found = true
	}
	return found
}
