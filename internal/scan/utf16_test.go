package scan

import (
	"bytes"
	"testing"
	"unicode/utf16"
)

// FuzzDecodeUTF16MatchesTheStandardLibrary: the one-pass decoder gives what
// utf16.Decode gives, for any bytes in either byte order (an odd last byte
// dropped), with each character outside ASCII as the one byte nonASCII
// (an unpaired surrogate too: utf16.Decode's U+FFFD).
func FuzzDecodeUTF16MatchesTheStandardLibrary(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("k\x00e\x00y\x00"), {0x3d, 0xd8, 0x00, 0xde}, {0x00, 0xd8, 0x41, 0x00}, {0x00, 0xdc}, {0xff, 0xfe, 0x41}, {},
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, bigEndian bool) {
		u := make([]uint16, len(b)/2)
		for i := range u {
			if bigEndian {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			} else {
				u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
			}
		}
		var want []byte
		for _, r := range utf16.Decode(u) {
			if r < 0x80 {
				want = append(want, byte(r))
			} else {
				want = append(want, nonASCII)
			}
		}
		if got := decodeUTF16(b, bigEndian); !bytes.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Fatalf("decodeUTF16(% x, %v) = %q, want %q", b, bigEndian, got, want)
		}
	})
}
