package scan

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDERAnchorsReadEachByteOnce: a file of nothing but the first bytes of a key's DER
// ("MHcCAQEE" over and over) read up to 16 KiB ahead at each of them: 4 MiB of it took hours,
// and Ctrl-C waited for the chunk. The text after an anchor is read once, by the first.
func TestDERAnchorsReadEachByteOnce(t *testing.T) {
	k := newP256(t)
	for _, anchor := range []string{"MHcCAQEE", "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg", "MC4CAQAwBQYDK2VwBCIEI"} {
		data := []byte(strings.Repeat(anchor, (256<<10)/len(anchor)))
		d := &detector{seen: map[string]bool{}}
		d.scanBuffer(data, 0, "", 0)
		if d.derRead > 2*len(data) {
			t.Errorf("%s: %d bytes read for %d of text", anchor, d.derRead, len(data))
		}
	}
	// A key right after such a run, on its own line, is still found.
	text := strings.Repeat("MHcCAQEE", 1000) + "\nkey: " + derB64(t, k.sec1) + "\n"
	if got := Detect([]byte(text), false); len(got.Keys) != 1 || got.Keys[0].Fingerprint != k.fp {
		t.Fatalf("found %+v", got.Keys)
	}
}

// TestNoDerivationWithoutCDPContext: a file of 64-byte values in base64 (signatures, hashes)
// with nothing CDP about it costs no key derivation (some 30 µs each: a file of them was
// scanned at 1 MB/s).
func TestNoDerivationWithoutCDPContext(t *testing.T) {
	g := &holdoutGen{rnd: newTestRand()}
	var b strings.Builder
	value := func(enc *base64.Encoding) string {
		for {
			// Not one holding "cdp" in any case, which is CDP context.
			if v := enc.EncodeToString(g.bytes(64)); !strings.Contains(strings.ToLower(v), "cdp") {
				return v
			}
		}
	}
	for range 500 {
		b.WriteString("sig=" + value(base64.StdEncoding) + "\n")
		b.WriteString("sum: " + value(base64.RawStdEncoding) + "\n")
	}
	d := &detector{seen: map[string]bool{}}
	d.scanBuffer([]byte(b.String()), 0, "", 0)
	if d.derived != 0 {
		t.Fatalf("%d keys derived for values that could not be reported", d.derived)
	}
	// With a CDP word near, each is checked (and none is a key).
	d = &detector{seen: map[string]bool{}}
	d.scanBuffer([]byte("# cdp\n"+b.String()[:2000]), 0, "", 0)
	if d.derived == 0 {
		t.Fatal("no value was checked next to a CDP word")
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// TestALongBase64LineIsWalkedOnce: one line of base64 longer than the 1 MiB a run is followed
// ("LS0t" over and over: base64 of dashes) was walked back 1 MiB from every anchor after the
// first run's end; 32 MiB of it did not finish in 60 s.
func TestALongBase64LineIsWalkedOnce(t *testing.T) {
	data := []byte(strings.Repeat("LS0t", (3<<20)/4))
	d := &detector{seen: map[string]bool{}}
	d.scanBuffer(data, 0, "", 0)
	if d.base64Walked > 3*len(data) {
		t.Fatalf("%d bytes walked for %d of text", d.base64Walked, len(data))
	}
}
