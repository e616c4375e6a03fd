package scan

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestForEachHitFindsWhatANaiveSearchFinds checks the prefilter against bytes.Index run for
// each anchor alone, on text made of anchors, pieces of them and the bytes around their rare
// bytes: every place of every anchor, and nothing else, whatever is next to it, at either end
// of the buffer or across a block boundary.
func TestForEachHitFindsWhatANaiveSearchFinds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var data []byte
		for range rapid.IntRange(0, 40).Draw(t, "pieces") {
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0: // a whole anchor
				data = append(data, textAnchors[rapid.IntRange(0, len(textAnchors)-1).Draw(t, "anchor")]...)
			case 1: // part of one
				a := textAnchors[rapid.IntRange(0, len(textAnchors)-1).Draw(t, "anchor")]
				lo := rapid.IntRange(0, len(a)-1).Draw(t, "lo")
				data = append(data, a[lo:rapid.IntRange(lo, len(a)).Draw(t, "hi")]...)
			case 2: // bytes that anchors hold, and NUL
				data = append(data, rapid.SliceOfN(rapid.SampledFrom([]byte("-=:%3DdKQLFUX<>/\x00AaCEeRrSsTt0")), 0, 8).Draw(t, "bytes")...)
			case 3: // filler up to a block boundary, so that an anchor may straddle it
				if n := blockSize - len(data)%blockSize - rapid.IntRange(0, 6).Draw(t, "before"); n > 0 && len(data) < 3*blockSize {
					data = append(data, bytes.Repeat([]byte{'.'}, n)...)
				}
			}
		}
		var got []string
		forEachHit(data, textAnchors, textGroups, func(a, j int) {
			if a != firstNUL {
				got = append(got, fmt.Sprintf("%d@%d", a, j))
			}
		})
		want := naiveHits(data)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("forEachHit found %v, a naive search %v", got, want)
		}
	})
}

// naiveHits is every place of every anchor, searched for alone; an anchor of a group searched
// only in blocks with a NUL byte counts only where its group's rare byte is in such a block.
func naiveHits(data []byte) []string {
	var hits []string
	for _, g := range textGroups {
		for _, m := range g.members {
			a := textAnchors[m.anchor]
			for j := 0; ; j++ {
				k := bytes.Index(data[j:], a)
				if k < 0 {
					break
				}
				j += k
				if block := (j + m.pos) / blockSize * blockSize; g.nul && bytes.IndexByte(data[block:min(len(data), block+blockSize)], 0) < 0 {
					continue
				}
				hits = append(hits, fmt.Sprintf("%d@%d", m.anchor, j))
			}
		}
	}
	return hits
}
