package scan

import (
	"math/rand/v2"
	"testing"
)

// zipEndIn searches with bytes.Index; it must say what a look at every offset from the end
// says, on tails full of partial and whole end records with right and wrong comment lengths.
func TestZipEndInFindsWhatAByteByByteSearchFinds(t *testing.T) {
	byteByByte := func(tail []byte) bool {
		for i := len(tail) - eocdLen; i >= 0; i-- {
			if tail[i] == 'P' && tail[i+1] == 'K' && tail[i+2] == 5 && tail[i+3] == 6 &&
				int(tail[i+20])|int(tail[i+21])<<8 == len(tail)-i-eocdLen {
				return true
			}
		}
		return false
	}
	r := rand.New(rand.NewPCG(1, 2))
	found := 0
	for range 200000 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = "PK\x05\x06\x00\x01\x02x"[r.IntN(8)]
		}
		for k := r.IntN(3); k > 0 && len(b) >= eocdLen; k-- {
			i := r.IntN(len(b) - eocdLen + 1)
			copy(b[i:], "PK\x05\x06")
			b[i+20], b[i+21] = byte(len(b)-i-eocdLen+r.IntN(3)-1), 0
		}
		want := byteByByte(b)
		if want {
			found++
		}
		if got := zipEndIn(b); got != want {
			t.Fatalf("zipEndIn(%q) = %v, want %v", b, got, want)
		}
	}
	if found < 1000 {
		t.Fatalf("only %d tails held a record: the test does not test", found)
	}
}
