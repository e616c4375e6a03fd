// Package scan finds leaked WaaS and CDP API keys in text, files, archives and git history, and
// says which of them are keys of a keyring profile.
//
// Detection is structural first: a prefilter looks for a handful of fixed anchors with
// bytes.Index (SIMD-backed, each byte touched once per anchor and never by a regular
// expression), and only the few places it finds are parsed. Every candidate key is decoded
// and parsed as DER (SEC1, PKCS#8) or checked as an Ed25519 secret (the public half must be
// the one its seed derives); placeholders, public keys, truncated keys and anything else
// that does not parse are dropped before anyone sees them.
//
// This package never prints. A Finding carries a key's name, a redacted form and a
// fingerprint, never the key.
package scan

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/waasctl/waasctl/internal/credentials"
)

// Kinds of key a finding can be.
const (
	// KindWaaSP256 is an ECDSA P-256 private key, SEC1 or PKCS#8: the WaaS / Coinbase Cloud
	// key form, and the CDP ECDSA form.
	KindWaaSP256 = "waas-p256"
	// KindCDPEd25519 is a CDP Ed25519 API key secret: 64 bytes (seed, then public key).
	KindCDPEd25519 = "cdp-ed25519"
	// KindOtherPrivateKey is any other private key (RSA, another curve, an Ed25519 key with
	// nothing CDP about it). It is not a WaaS key and is reported only when asked for.
	KindOtherPrivateKey = "other-private-key"
)

// maxDecodeDepth is how many encoding layers (base64, UTF-16) are peeled off a region.
const maxDecodeDepth = 2

// maxPEMSpan bounds how far after a BEGIN line its END line is looked for: a 4096-bit RSA
// key with every line JSON-escaped twice and quoted fits.
const maxPEMSpan = 16 << 10

// contextRadius is how far around an Ed25519 secret a CDP word or key id is looked for.
const contextRadius = 512

// keyHit is a parsed private key found at an offset of the scanned buffer.
type keyHit struct {
	off      int // where the key's text starts, in the outermost buffer
	kind     string
	fp       string
	redacted string
	encoding string // the layers it was found under: "", "base64", "utf16", "base64>base64"
	key      heldKey
}

// heldKey keeps a found key for --verify. Every fmt verb prints a placeholder; and as a field
// (where fmt prints by reflection, calling no method) it holds the key only inside a closure,
// which fmt prints as an address whatever the verb: a Match logged by mistake does not print
// the key (an Ed25519 key is a byte slice, which fmt would print in full).
type heldKey struct{ get func() crypto.Signer }

func holdKey(k crypto.Signer) heldKey { return heldKey{get: func() crypto.Signer { return k }} }

func (k heldKey) signer() crypto.Signer {
	if k.get == nil {
		return nil
	}
	return k.get()
}

func (heldKey) String() string               { return "(key held for verification)" }
func (heldKey) GoString() string             { return "(key held for verification)" }
func (k heldKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }
func (heldKey) MarshalJSON() ([]byte, error) { return []byte(`null`), nil }

// nameHit is a key name or key id found at an offset of the outermost buffer.
type nameHit struct {
	off    int
	name   string
	legacy bool // organizations/{org}/apiKeys/{id}, as opposed to a bare CDP key id
}

// detector holds the state of one buffer's scan.
type detector struct {
	otherKeys bool
	keys      []keyHit
	names     []nameHit
	seen      map[string]bool // fingerprint+offset, so layers do not report a key twice
	derRead   int             // bytes read for unarmoured DER, all layers: bounded by the input
	derived   int             // Ed25519 public keys derived to check a 64-byte value
	// base64Walked is the bytes walked to find runs of base64 text: bounded by the input.
	base64Walked int
	runText      []byte // a run of base64 text being decoded, its buffer reused
	// wrappedLooks counts the values read as maybe wrapped across lines (wrappedEd25519At):
	// a few in a hundred lines of source code.
	wrappedLooks int
}

var (
	anchorDashes = []byte("-----")
	// anchorEquals is every '=': the "==" padding of a base64 Ed25519 secret, and an
	// assignment whose value may be one written without padding (NAME=value).
	anchorEquals    = []byte("=")
	anchorPadURL    = []byte("%3D%3D")
	anchorPadURLLow = []byte("%3d%3d")
	anchorAPIKeys   = []byte("apiKeys")
	anchorUTF16LE   = []byte("-\x00-\x00-\x00-\x00-\x00")
	anchorUTF16BE   = []byte("\x00-\x00-\x00-\x00-\x00-")
	anchorUTF16PadL = []byte("=\x00=\x00")
	anchorUTF16PadB = []byte("\x00=\x00=")
	// anchorColon is every ':': a YAML, JSON or Ruby name's value may be an Ed25519 secret
	// written without padding (secret: value, "api_key_secret": "value"), whatever the name's
	// case.
	anchorColon = []byte(":")
	// anchorUTF16Eq is an '=' of UTF-16 text without a byte order mark (either byte order:
	// ASCII text reads alike from the right byte) where the first NUL byte of its block is not
	// (a program's UTF-16 strings): an unpadded secret has no dashes or padding to find it
	// by. Searched only in blocks with a NUL byte, in the pass of the UTF-16 padding.
	anchorUTF16Eq = []byte("=\x00")
	// base64Anchors find base64-wrapped text holding a key: the base64 forms, at each of the
	// three alignments, of a PEM's dashes and of the words a key file or .env file holds.
	base64Anchors = base64WordAnchors("-----", "LS0tLS", "rivateKey", "ECRET",
		"-\x00-\x00-\x00-\x00-\x00", "\x00-\x00-\x00-\x00-\x00-") // and of UTF-16 text's dashes
	// derAnchors find a private key's DER in base64 with no PEM armour around it ("privateKey":
	// "MHcCAQEE..."): the fixed first bytes of a P-256 SEC1 key (with and without its public
	// key), of a P-256 PKCS#8 key (likewise) and of an Ed25519 PKCS#8 key.
	derAnchors = [][]byte{[]byte("MHcCAQEE"), []byte("MDECAQEE"), []byte("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"),
		[]byte("MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQc"), []byte("MC4CAQAwBQYDK2VwBCIEI")}
	// secretAnchors find the names a CDP Ed25519 secret is the value of ("privateKey": ...,
	// apiKeySecret: ..., CDP_API_KEY_SECRET: ...): its unpadded base64 (86 characters) or hex
	// (128) has no padding to find it by. They share the 'K' pass of "apiKeys". Any assignment
	// (NAME=value, name = "value") is looked at from its '=' (anchorEquals), in the pass for
	// padding: lower-case names (api_key_secret) would cost a pass of their own.
	secretAnchors = [][]byte{[]byte("KeySecret"), []byte("KEY_SECRET"), []byte("rivateKey"), []byte("RIVATE_KEY")}
	// anchorCloseTag ends an XML element whose own name may say secret (<secret>...</secret>):
	// an unpadded Ed25519 secret as its text has no '=' or ':' to be found by. Last of the
	// anchors, so that its pass ('<', rare in source code) comes after all the others.
	anchorCloseTag = []byte("</")
)

// base64WordAnchors returns, for each word and each of the three byte alignments, the part of
// its base64 encoding that depends on the word alone (not on the bytes around it).
func base64WordAnchors(words ...string) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	for _, w := range words {
		for align := 0; align < 3; align++ {
			lo := base64.StdEncoding.EncodeToString(append(append(bytes.Repeat([]byte{0}, align), w...), 0, 0, 0))
			hi := base64.StdEncoding.EncodeToString(append(append(bytes.Repeat([]byte{0xff}, align), w...), 0xff, 0xff, 0xff))
			best, start := "", -1
			for i := 0; i <= len(lo); i++ {
				if i < len(lo) && lo[i] == hi[i] {
					if start < 0 {
						start = i
					}
					continue
				}
				if start >= 0 && i-start > len(best) {
					best = lo[start:i]
				}
				start = -1
			}
			// "LS0t" is all a PEM's five dashes give at some alignments, and is enough:
			// base64 text rarely holds it otherwise.
			if len(best) >= 4 && !seen[best] {
				seen[best] = true
				out = append(out, []byte(best))
			}
		}
	}
	return out
}

// blockSize is how much of a buffer all anchors are looked for in before moving on: small
// enough to stay in the L2 cache, so the buffer is read from memory once, not once per anchor.
const blockSize = 128 << 10

// anchorGroup is the anchors that share a rare byte: one memchr pass finds them all.
type anchorGroup struct {
	rare    byte
	nul     bool // searched only in blocks that hold a NUL byte (UTF-16 text)
	members []groupMember
	// before and after say, for each byte, which members (a bit each) can hold it just
	// before and just after the rare byte: a hit is compared only with the members that
	// both bytes around it allow, two loads instead of a compare of each member.
	before, after [256]uint32
}

// maxGroupMembers is how many anchors a group's bit masks can hold.
const maxGroupMembers = 32

type groupMember struct {
	anchor int // index into the anchors
	pos    int // where the rare byte is in it
}

// groupAnchors groups anchors by the byte of each that is least frequent in source text.
func groupAnchors(anchors [][]byte) []anchorGroup {
	// From rare to common in source code and prose; a byte not listed is rarer than any.
	// '%' (format strings aside, rare in source) before 'D': the two URL-encoded paddings share
	// its pass.
	const byFrequency = "QJZXKVWYUGBHFMP%DCLNRSOIATE98765432zqxjkvbpygfwmucldrhsnioate10=-\\_"
	rank := func(c byte) int { return strings.IndexByte(byFrequency, c) }
	var groups []anchorGroup
	for ai, a := range anchors {
		nul := false
		best := -1
		for i := range a {
			if a[i] == 0 {
				nul = true
				continue
			}
			if best < 0 || rank(a[i]) < rank(a[best]) {
				best = i
			}
		}
		// A byte almost as rare that another anchor's group uses already saves a pass.
		for i := range a {
			if a[i] != 0 && rank(a[i]) <= rank('F') {
				for _, g := range groups {
					if g.rare == a[i] && g.nul == nul {
						best = i
					}
				}
			}
		}
		g := -1
		for gi := range groups {
			if groups[gi].rare == a[best] && groups[gi].nul == nul {
				g = gi
			}
		}
		if g < 0 {
			groups = append(groups, anchorGroup{rare: a[best], nul: nul})
			g = len(groups) - 1
		}
		groups[g].members = append(groups[g].members, groupMember{anchor: ai, pos: best})
	}
	for gi := range groups {
		g := &groups[gi]
		if len(g.members) > maxGroupMembers {
			panic("scan: an anchor group has more members than its masks hold")
		}
		for mi, m := range g.members {
			a, bit := anchors[m.anchor], uint32(1)<<mi
			for c := range 256 {
				if m.pos == 0 || a[m.pos-1] == byte(c) {
					g.before[c] |= bit
				}
				if m.pos == len(a)-1 || a[m.pos+1] == byte(c) {
					g.after[c] |= bit
				}
			}
		}
	}
	return groups
}

var textGroups = groupAnchors(textAnchors)

// firstNUL is the anchor number forEachHit reports the first NUL byte of a block with: where
// UTF-16 text with no byte order mark may start.
const firstNUL = -1

// forEachHit calls fn for every occurrence of every anchor of groups (built from anchors) in
// data, block by block, and for the first NUL byte of each block (firstNUL).
func forEachHit(data []byte, anchors [][]byte, groups []anchorGroup, fn func(anchor, j int)) {
	for b := 0; b < len(data); b += blockSize {
		blockEnd := min(len(data), b+blockSize)
		nul := bytes.IndexByte(data[b:blockEnd], 0)
		hasNUL := nul >= 0
		if hasNUL {
			fn(firstNUL, b+nul)
		}
		for gi := range groups {
			g := &groups[gi] // not a copy: a group holds its two 1 KiB masks
			if g.nul && !hasNUL {
				continue
			}
			if len(g.members) == 1 && len(anchors[g.members[0].anchor]) == 1 {
				// A one-byte anchor ('=', ':'), the most frequent: every place of it is a hit.
				a := g.members[0].anchor
				for i := b; i < blockEnd; {
					k := bytes.IndexByte(data[i:blockEnd], g.rare)
					if k < 0 {
						break
					}
					fn(a, i+k)
					i += k + 1
				}
				continue
			}
			// memchr on the group's rare byte, then a compare of each anchor: bytes.Index
			// would memchr on each anchor's first byte, often a common letter in source text.
			for i := b; i < blockEnd; {
				k := bytes.IndexByte(data[i:blockEnd], g.rare)
				if k < 0 {
					break
				}
				k += i
				i = k + 1
				// The bytes around the rare one rule out most members, and most places of a
				// rare byte are no anchor ("x-1" for "-----"). At either end of data every
				// member is let through to the compare, which checks the bounds.
				may := uint32(1)<<len(g.members) - 1
				if k > 0 {
					may = g.before[data[k-1]]
				}
				if k+1 < len(data) {
					may &= g.after[data[k+1]]
				}
				for ; may != 0; may &= may - 1 {
					m := g.members[bits.TrailingZeros32(may)]
					a := anchors[m.anchor]
					j := k - m.pos
					if j >= 0 && j+len(a) <= len(data) && bytes.Equal(data[j:j+len(a)], a) {
						fn(m.anchor, j)
					}
				}
			}
		}
	}
}

// The anchors, in the order forEachHit reports them within a block.
const (
	aDashes = iota
	aEquals
	aPadURL
	aPadURLLow
	aUTF16LE
	aUTF16BE
	aUTF16PadL
	aUTF16PadB
	aAPIKeys
	aColon
	aUTF16Eq
	aDER // and every DER anchor after it, then the secret anchors, then the base64 ones
)

var (
	aSecret     = aDER + len(derAnchors)
	aBase64     = aSecret + len(secretAnchors)
	aCloseTag   = aBase64 + len(base64Anchors)
	textAnchors = slices.Concat([][]byte{anchorDashes, anchorEquals, anchorPadURL, anchorPadURLLow,
		anchorUTF16LE, anchorUTF16BE, anchorUTF16PadL, anchorUTF16PadB, anchorAPIKeys,
		anchorColon, anchorUTF16Eq}, derAnchors, secretAnchors, base64Anchors, [][]byte{anchorCloseTag})
)

// scanBuffer finds the keys in data, which starts at offset base of the outermost buffer (for
// a decoded layer, base is where the encoded text starts and every hit is reported there).
func (d *detector) scanBuffer(data []byte, depth int, layer string, base int) {
	at := func(off int) int {
		if layer != "" {
			return base
		}
		return base + off
	}
	var runs []base64Run
	var bodies []int // where unarmoured DER starts
	utf16At := -1
	if depth < maxDecodeDepth && len(data) >= 2 && (data[0] == 0xff && data[1] == 0xfe || data[0] == 0xfe && data[1] == 0xff) {
		// UTF-16 with a byte order mark: decoded whole, whatever it holds.
		utf16At = 0
		d.scanBuffer(decodeUTF16(data[2:], data[0] == 0xfe), depth+1, joinLayer(layer, "utf16"), at(0))
	}
	pemDone := 0
	forEachHit(data, textAnchors, textGroups, func(a, j int) {
		switch {
		case a == aEquals && j+1 < len(data) && data[j+1] == '=':
			d.ed25519At(data, j, 2, layer, at)
		case a == aEquals || a == aColon:
			// The value after a name: on its line (ed25519ValueAt), or on the lines after
			// it or wrapped (wrappedEd25519At). This runs at every '=' and ':', so the first
			// bytes of what follows are looked at here, where it costs no call.
			p := j + 1
			for i := 0; i < 4 && p < len(data) && beforeValue[data[p]]; i++ {
				p++
			}
			if p+minFirstPiece <= len(data) {
				c := data[p]
				if c == '\\' && data[p+1] == '"' && p+2+minFirstPiece <= len(data) {
					p += 2 // an escaped quote: a JSON string inside a JSON string ("{\"secret\": \"...")
					c = data[p]
				}
				switch {
				case (c == '-' || c == '+') && (data[p+1] == '\n' || data[p+1] == '\r' || data[p+1] == ' ' || data[p+1] == '\t'):
					d.wrappedEd25519At(data, j+1, layer, at) // ">-", ">+", maybe a comment after
				case c == '#' && data[p-1] != ':' && data[p-1] != '=':
					d.wrappedEd25519At(data, j+1, layer, at) // "> # comment"
				case isBase64Byte(c):
					if !isBase64Byte(data[p+8]) {
						// Most values end before; a short first piece of a wrapped one may.
						if mayFollowPiece[data[p+8]] && shortPieceEndsLine(data, p) {
							d.shortPiecesAt(data, j, layer, at)
						}
						break
					}
					if mayBeLongValue(data, p) {
						d.ed25519ValueAt(data, j, layer, at)
					}
					// A wrapped value's first piece: minFirstPiece characters, or fewer that
					// end their line.
					if k := base64RunLen(data, p, minFirstPiece); k == minFirstPiece || (endsPiece[data[p+k]] || blankOrBreak[data[p+k]] && p+k+1 < len(data) && blankOrBreak[data[p+k+1]]) && pieceEndsLine(data, p+k) {
						d.wrappedEd25519At(data, j+1, layer, at)
					}
				case c == '\n' || c == '\r':
					if nextLineMayHoldValue(data, p) {
						d.wrappedEd25519At(data, j+1, layer, at)
					}
				case c == '|' || c == '\\':
					d.wrappedEd25519At(data, j+1, layer, at)
				case c == '(':
					if e := skipBlanks(data, p+1); e < len(data) && (data[e] == '\n' || data[e] == '\r') && nextLineMayHoldValue(data, e) {
						d.wrappedEd25519At(data, j+1, layer, at) // NAME = ( then pieces below
					}
				}
			}
			if a == aEquals && j+1 < len(data) && (data[j+1] == '"' || data[j+1] == '\'') {
				// An XML element named by an attribute, its text the value (Android's
				// <string name="cdp_api_key_secret">...</string>), on the tag's line or on
				// lines of its own.
				if q := bytes.IndexByte(data[j+2:min(len(data), j+66)], data[j+1]); q >= 0 {
					if gt := j + 2 + q + 1; gt < len(data) && data[gt] == '>' {
						switch {
						case mayBeLongValue(data, gt+1):
							d.ed25519ValueAt(data, gt, layer, at)
						case gt+1 < len(data) && (data[gt+1] == '\n' || data[gt+1] == '\r') && nextLineMayHoldValue(data, gt+1):
							d.wrappedEd25519At(data, gt+1, layer, at)
						}
					}
				}
			}
		case a == aDashes:
			if j >= pemDone {
				next, _ := d.pemAt(data, j, layer, at)
				pemDone = max(next, j+len(anchorDashes))
			}
		case a >= aDER && a < aSecret:
			bodies = append(bodies, j)
		case a >= aSecret && a < aBase64:
			d.namedEd25519At(data, j+len(textAnchors[a]), layer, at)
		case a == aCloseTag:
			d.elementEd25519At(data, j, layer, at)
		case a == aPadURL || a == aPadURLLow:
			d.ed25519At(data, j, len(textAnchors[a]), layer, at)
		case a == aAPIKeys:
			d.legacyNameAt(data, j, at)
		case depth >= maxDecodeDepth:
		case a == firstNUL:
			// UTF-16 text without a byte order mark and without a dash or padding to find
			// it by (base64, an unpadded secret): the NUL of an ASCII character, either byte
			// order.
			for _, lo := range []int{j - 1, j + 1} {
				if utf16At < 0 && utf16ASCIIRun(data, lo, 16) {
					utf16At = lo
					d.scanBuffer(decodeUTF16(data[lo%2:], false), depth+1, joinLayer(layer, "utf16"), at(0))
				}
			}
		case a == aUTF16Eq:
			if utf16At < 0 && utf16ASCIIRun(data, j-8, 9) {
				// ASCII text decodes alike as little-endian from the '=' or as big-endian
				// from the byte before it.
				utf16At = j
				d.scanBuffer(decodeUTF16(data[j%2:], false), depth+1, joinLayer(layer, "utf16"), at(0))
			}
		case a >= aUTF16LE && a <= aUTF16PadB:
			if utf16At < 0 {
				utf16At = j
				bigEndian := textAnchors[a][0] == 0
				start := j % 2
				if bigEndian {
					start = (j + 1) % 2
				}
				d.scanBuffer(decodeUTF16(data[start:], bigEndian), depth+1, joinLayer(layer, "utf16"), at(0))
			}
		default:
			floor := 0
			if len(runs) > 0 {
				if floor = runs[len(runs)-1].end; j < floor {
					return // inside the run already found
				}
			}
			// Not back past the run before: a line of base64 longer than maxBase64Run would
			// be walked again from each anchor after the first run's end.
			s := base64Back(data, j, floor)
			e := base64End(data, s, maxBase64Run)
			d.base64Walked += j - s + e - s
			runs = append(runs, base64Run{start: s, end: max(e, j+1), line: segmentStart(data, j, floor)})
		}
	})
	derEnd := 0
	for _, j := range bodies {
		if j < derEnd {
			continue // inside the base64 text read from an earlier anchor: not a key's start
		}
		derEnd = d.derAt(data, j, layer, at)
	}
	if depth >= maxDecodeDepth || len(runs) == 0 {
		return
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a].start < runs[b].start })
	done := -1
	for _, r := range runs {
		if r.start < done {
			continue
		}
		done = r.end
		if r.end-r.start < 24 {
			continue
		}
		// The run as walked, then from the start of the anchor's own line: a word on a line
		// of its own before a wrapped block (YAML's ">-", a heading) joins the run and shifts
		// every byte after it.
		for i, start := range []int{r.start, r.line} {
			if i == 1 && (start == r.start || start < 0) {
				break
			}
			found := len(d.keys)
			// Into one buffer for the whole scan: decodeBase64Loose copies what it keeps.
			d.runText, _ = walkBase64(d.runText[:0], data, start, maxBase64Run, true)
			if dec := decodeBase64Loose(d.runText); len(dec) > 0 {
				d.scanBuffer(dec, depth+1, joinLayer(layer, "base64"), at(start))
			}
			if len(d.keys) > found {
				break
			}
		}
	}
}

// base64Run is a run of base64 text around an anchor, and where the anchor's own line of it
// starts.
type base64Run struct{ start, end, line int }

// maxBase64Run bounds how far a run of base64 text is followed either way from an anchor.
const maxBase64Run = 1 << 20

func joinLayer(outer, inner string) string {
	if outer == "" {
		return inner
	}
	return outer + ">" + inner
}

// ---- PEM ----

// labelBlanks are the spaces of a PEM label as URL encoding and some tools write them.
var labelBlanks = strings.NewReplacer("%20", " ", "+", " ", "_", " ")

// pemAt looks for a PEM private key whose BEGIN line starts at data[j:] ("-----"). It returns
// where scanning may resume, and whether a key parsed there.
func (d *detector) pemAt(data []byte, j int, layer string, at func(int) int) (int, bool) {
	hdr := data[j+5:]
	if len(hdr) < 6 || !asciiPrefixFold(hdr, "BEGIN") {
		return j + 5, false
	}
	// The label: up to the next "-----", on the same line.
	lim := min(len(hdr), 120)
	end := bytes.Index(hdr[:lim], anchorDashes)
	if end < 0 {
		return j + 5, false
	}
	label := string(hdr[5:end])
	label = labelBlanks.Replace(label)
	label = strings.ToUpper(strings.TrimSpace(label))
	if !strings.HasSuffix(label, "PRIVATE KEY") || strings.Contains(label, "ENCRYPTED") {
		return j + 5, false // a public key, a certificate, an encrypted key: nothing to report
	}
	bodyStart := j + 5 + end + 5
	// The body: up to "-----END", case-insensitive, within maxPEMSpan.
	region := data[bodyStart:min(len(data), bodyStart+maxPEMSpan)]
	stop := -1
	for k := 0; ; {
		m := bytes.Index(region[k:], anchorDashes)
		if m < 0 {
			break
		}
		m += k
		if asciiPrefixFold(region[m+5:], "END") {
			stop = m
			break
		}
		// Another BEGIN before any END: this key is cut short.
		if asciiPrefixFold(region[m+5:], "BEGIN") {
			break
		}
		k = m + 5
	}
	if stop < 0 {
		return bodyStart, false
	}
	quote := byte(0)
	if j > 0 && (data[j-1] == '"' || data[j-1] == '\'' || data[j-1] == '`') {
		quote = data[j-1]
	}
	der := pemBodyDER(region[:stop], quote)
	if der == nil {
		return bodyStart, false
	}
	if !d.otherKeys && !mayBeWaaSDER(der) {
		return bodyStart + stop, false // an RSA key, which is slow to parse, is not reported
	}
	signer, ok := parseDER(der)
	if !ok {
		return bodyStart, false
	}
	d.addKey(signer, data, j, bodyStart+stop, "pem", layer, at, redactPEM(label))
	return bodyStart + stop, true
}

// pemBodyDER turns a PEM body as it was written into DER: line breaks real or escaped
// (\n, \\n, \r\n, %0A), indentation (YAML block scalars), JSON-escaped slashes, URL
// encoding, and, for a quoted body, the quotes and concatenation operators between the
// pieces of a string split across lines.
func pemBodyDER(body []byte, quote byte) []byte {
	s := string(body)
	if strings.Contains(s, "%") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
	}
	if strings.Contains(s, "&#") {
		// XML and HTML character references for the line breaks (Android resources, plists).
		s = xmlBreaks.Replace(s)
	}
	if quote != 0 {
		// Keep only what is inside quotes: the body starts inside one.
		var b strings.Builder
		in := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				if in {
					b.WriteByte(c)
					b.WriteByte(s[i+1])
				}
				i++
				continue
			}
			if c == quote {
				in = !in
				continue
			}
			if in {
				b.WriteByte(c)
			} else if !strings.ContainsRune(" \t\r\n+,.&|\\(", rune(c)) {
				return nil // code between the pieces: not one string
			}
		}
		s = b.String()
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			// Any run of backslashes, then n, r, t or a slash.
			k := i
			for k < len(s) && s[k] == '\\' {
				k++
			}
			if k < len(s) && (s[k] == 'n' || s[k] == 'r' || s[k] == 't') {
				i = k
				continue
			}
			if k < len(s) && s[k] == '/' {
				b.WriteByte('/')
				i = k
				continue
			}
			if k < len(s) && (s[k] == '\n' || s[k] == '\r') {
				i = k - 1 // a line continuation (.properties, shell, C macros): the break follows
				continue
			}
			return nil
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'':
			// '"' and '\'': a YAML or TOML line that quotes each piece.
		case isBase64Byte(c) || c == '=':
			b.WriteByte(c)
		default:
			return nil // text inside the armour that is not base64: a placeholder
		}
	}
	// PEM headers of an encrypted key ("Proc-Type: 4,ENCRYPTED") fail above on ':'.
	return decodeBase64Loose([]byte(b.String()))
}

var xmlBreaks = strings.NewReplacer("&#10;", "\n", "&#13;", "\n", "&#xA;", "\n", "&#xa;", "\n", "&#xD;", "\n", "&#xd;", "\n", "&#x0A;", "\n", "&#x0a;", "\n")

// The DER of an elliptic-curve key names its curve or algorithm with an OID under
// 1.2.840.10045 (ecPublicKey, prime256v1): SEC1 and PKCS#8 alike; an Ed25519 key's PKCS#8
// names 1.3.101.112.
var (
	oidPrefixANSIX962 = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d}
	oidEd25519        = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
)

// mayBeWaaSDER says whether der can be a P-256 or Ed25519 key, without parsing it: parsing
// an RSA key (which validates it) costs more than the rest of the file's scan.
func mayBeWaaSDER(der []byte) bool {
	return bytes.Contains(der, oidPrefixANSIX962) || bytes.Contains(der, oidEd25519)
}

// parseDER parses a DER private key: SEC1, PKCS#8, or PKCS#1 (RSA). An ECDSA key whose
// embedded public key is not the one its private scalar gives is refused, as an Ed25519
// secret (or PKCS#8 version 2 key) with the wrong public half is: crypto/x509 derives the
// public key and ignores the stored one, so a key with a damaged scalar would otherwise parse.
func parseDER(der []byte) (crypto.Signer, bool) {
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, credentials.StoredPublicKeyMatches(der, k)
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if k, ok := k.(crypto.Signer); ok {
			return k, credentials.PKCS8StoredPublicKeyMatches(der, k)
		}
		return nil, false
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, true
	}
	return parseSecp256k1(der)
}

// sec1Key mirrors RFC 5915, to read a secp256k1 key (crypto/x509 knows only the NIST curves).
type sec1Key struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

func redactPEM(label string) string {
	return "-----BEGIN " + label + "-----…(redacted)"
}

// ---- Ed25519 ----

// ed25519At checks the base64 text ending at the padding data[j:j+padLen] for a 64-byte
// Ed25519 secret.
func (d *detector) ed25519At(data []byte, j, padLen int, layer string, at func(int) int) {
	if j+padLen < len(data) && (data[j+padLen] == '=' || isBase64Byte(data[j+padLen])) {
		return
	}
	// The last character before the padding holds 2 bits: A, Q, g or w. Checked first, as
	// every "==" of source code comes here.
	if j == 0 || data[j-1] != 'A' && data[j-1] != 'Q' && data[j-1] != 'g' && data[j-1] != 'w' {
		return
	}
	// Walk back over base64, JSON-escaped slashes and URL-encoded characters.
	var rev []byte
	k := j - 1
	for k >= 0 && len(rev) < 87 {
		c := data[k]
		switch {
		case isBase64Byte(c):
			if c == '/' && k > 0 && data[k-1] == '\\' {
				k--
			}
			if k >= 2 && data[k-2] == '%' && isHex(data[k-1]) && isHex(c) {
				v := unhex(data[k-1])<<4 | unhex(c)
				if v == '+' || v == '/' {
					rev = append(rev, v)
					k -= 3
					continue
				}
			}
			rev = append(rev, c)
			k--
			continue
		}
		break
	}
	if len(rev) != 86 {
		return
	}
	text := make([]byte, 0, 88)
	for i := len(rev) - 1; i >= 0; i-- {
		text = append(text, rev[i])
	}
	text = append(text, '=', '=')
	if !d.otherKeys && !hasCDPContext(data, k+1, j+padLen) {
		return // would not be reported: spare the derivation (a file of signatures or hashes)
	}
	d.derived++
	key, ok := ed25519Secret(decodeBase64Loose(text))
	if !ok {
		return
	}
	start := k + 1
	// The public half is the last 43 characters: showing a few of them reveals nothing.
	redacted := "…" + string(text[len(text)-8:])
	d.addKey(key, data, start, j+padLen, "ed25519", layer, at, redacted)
}

// ed25519Text reads an Ed25519 secret written without padding (86 base64 characters, either
// alphabet) or in hex (128 digits).
func ed25519Text(text []byte) (ed25519.PrivateKey, bool) {
	var raw []byte
	switch len(text) {
	case 86:
		raw = decodeBase64Loose(text)
	case 128:
		raw = make([]byte, 64)
		if _, err := hex.Decode(raw, text); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return ed25519Secret(raw)
}

// utf16ASCIIRun reports whether data[lo:] starts n characters of ASCII text in UTF-16: each
// a printable or blank byte, then a NUL byte. Little-endian from lo, or big-endian from the
// byte before it: ASCII text reads alike either way.
func utf16ASCIIRun(data []byte, lo, n int) bool {
	if lo < 0 || lo+2*n > len(data) {
		return false
	}
	for i := lo; i < lo+2*n; i += 2 {
		c := data[i]
		if data[i+1] != 0 || c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c > 0x7e {
			return false
		}
	}
	return true
}

// ed25519Secret checks 64 bytes for an Ed25519 secret: a seed, then the public key it derives.
func ed25519Secret(raw []byte) (ed25519.PrivateKey, bool) {
	if len(raw) != ed25519.PrivateKeySize {
		return nil, false
	}
	key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if !bytes.Equal(key[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
		return nil, false // the stored public half is not its seed's: not a key
	}
	return key, true
}

// namedEd25519At checks the value of the field or variable whose name goes on at data[p:]
// (CDP_API_KEY_SECRET=..., "privateKey": "...") for an Ed25519 secret written without padding
// (86 base64 characters, either alphabet) or in hex (128 digits). Padded base64 is found by its
// padding wherever it is; these forms only as such a value.
func (d *detector) namedEd25519At(data []byte, p int, layer string, at func(int) int) {
	q := p
	for q < len(data) && q-p < 48 && (isBase64Byte(data[q]) || data[q] == '.') {
		q++ // the rest of the name: CDP_API_KEY_SECRET_VALUE, secretKey
	}
	d.ed25519ValueAt(data, q, layer, at)
}

// mayBeLongValue says cheaply whether data[p:], past a blank, a quote or the '>' of "=>",
// could start the 86 characters of an unpadded Ed25519 secret: it runs at every '=' and ':' of
// the text, and almost every one is followed by a short name or an expression.
func mayBeLongValue(data []byte, p int) bool {
	for i := 0; i < 4 && p < len(data) && beforeValue[data[p]]; i++ {
		p++
	}
	if p+85 >= len(data) {
		return false
	}
	// Every eighth byte: text with blanks and punctuation (most of code) fails within a few.
	// A backslash may be a \n escape between pieces of the value.
	for i := p; i <= p+80; i += 8 {
		if !base64OrEscape[data[i]] {
			return false
		}
	}
	return base64OrEscape[data[p+85]]
}

// base64OrEscape holds the characters of either base64 alphabet, and the backslash.
var base64OrEscape = func() [256]bool {
	t := base64Bytes
	t['\\'] = true
	return t
}()

// beforeValue holds what mayBeLongValue skips before a value: a blank, a quote, the '>' of "=>".
var beforeValue = [256]bool{' ': true, '"': true, '\'': true, '\t': true, '>': true}

// ed25519ValueAt checks the value after the separator at data[q:] (=, :, quotes, blanks) for
// an unpadded or hex Ed25519 secret. It runs at every '=' of the text, so it gives up after a
// few bytes on anything else (x = f(y), a == b) without allocating.
func (d *detector) ed25519ValueAt(data []byte, q int, layer string, at func(int) int) {
	r := q
	for r < len(data) && r-q < 16 && strings.IndexByte(" \t\"'`:=>\\", data[r]) >= 0 {
		if data[r] == '\\' && r+1 < len(data) && data[r+1] == '/' {
			break // an escaped slash: the value's first character, not an escaped quote
		}
		r++
	}
	if r == q || r == len(data) {
		return // no separator, or nothing after it
	}
	n := 0
	for r+n < len(data) && n <= 180 && (isBase64Byte(data[r+n]) || data[r+n] == '\\' || data[r+n] == '%') {
		n++
	}
	if n < 86 {
		return
	}
	text, end := collectBase64(data, r, 256)
	if nl := bytes.IndexAny(data[r:end], "\r\n"); nl >= 0 {
		// One line: the value is not wrapped, and the next line is not part of it.
		text, end = collectBase64(data[:r+nl], r, 256)
	}
	if n := len(text); n != 86 && n != 128 && (n < 112 || n > 176) {
		return // not a secret's length, nor its base64's: no context to look for
	}
	if !d.otherKeys && !hasCDPContext(data, r, end) {
		return // would not be reported: spare the derivation
	}
	d.derived++
	key, ok := ed25519Text(text)
	if !ok && len(text) >= 112 && len(text) <= 176 {
		// The secret's text in base64 (a Kubernetes Secret's data: CDP_API_KEY_SECRET: ...),
		// maybe with the line break echo or a file gave it.
		inner := bytes.TrimRight(decodeBase64Loose(text), "\r\n")
		if len(inner) == 88 && bytes.HasSuffix(inner, []byte("==")) {
			inner = inner[:86]
		}
		key, ok = ed25519Text(inner)
	}
	if !ok {
		return
	}
	d.addKey(key, data, r, end, "ed25519", layer, at, "…"+string(text[len(text)-8:]))
}

// maxWrappedLines is how many lines a wrapped Ed25519 secret may take: 86 characters are
// often cut into two, sometimes into many short lines (8 lines of 11, hex in lines of 16). The
// 128 characters a value may hold bound the read too; this bounds the blank lines between.
const maxWrappedLines = 16

// minFirstPiece is how much of a wrapped value on its name's line, or first below it, is
// looked at from the name on its own. A shorter piece is looked at only when it ends its line
// and the next line starts with a piece (pieceEndsLine).
const minFirstPiece = 20

// minShortPiece is the least a line after a short first piece must start with: 86 characters
// in lines of fewer would take more than 11 lines.
const minShortPiece = 8

// nextLineMayHoldValue says whether the line after the line break at data[p] may hold a
// piece of a value (nextLineHoldsPiece).
func nextLineMayHoldValue(data []byte, p int) bool {
	if data[p] == '\r' && p+1 < len(data) && data[p+1] == '\n' {
		p++
	}
	return nextLineHoldsPiece(data, p)
}

// nextLineHoldsPiece says whether the line after the line break at data[nl] starts, after its
// indentation, a concatenation operator ('+', '.') and a quote, with a piece of a value:
// minShortPiece to maxPieceLen characters of base64 that end there (a quote, blanks before
// the line's end, the line's end, an operator, the closing tag or bracket of the value's last
// piece).
func nextLineHoldsPiece(data []byte, nl int) bool {
	q := skipBlanks(data, nl+1)
	if q < len(data) && (data[q] == '+' || data[q] == '.') {
		q = skipBlanks(data, q+1)
	}
	if q < len(data) && (data[q] == '"' || data[q] == '\'') {
		q++
	}
	if q+minShortPiece > len(data) || !base64Bytes[data[q+minShortPiece-1]] {
		return false // most lines of code: a word and a blank or a bracket within 8 bytes
	}
	k := base64RunLen(data, q, min(maxPieceLen+1, len(data)-q))
	if k < minShortPiece || k > maxPieceLen {
		return false
	}
	// The piece must end its line, or be followed by what may follow a piece; blanks
	// after it only before these: in a table of constants (NAME = 0x40, then
	// NEXT_NAME = 0x80) the next line's first word is followed by blanks and an '='.
	e := q + k
	if e < len(data) && (data[e] == ' ' || data[e] == '\t') {
		e = skipBlanks(data, e)
	}
	return e == len(data) || nextPieceEnd[data[e]]
}

// nextPieceEnd holds what may follow a piece of a wrapped value on a line after the first.
var nextPieceEnd = [256]bool{'"': true, '\'': true, ' ': true, '\t': true, '\r': true, '\n': true, '\\': true, ',': true, ';': true, '+': true, '<': true, '}': true, ']': true}

// base64RunLen returns how many of the n bytes from data[p] (which exist) are base64 before
// the first that is not.
func base64RunLen(data []byte, p, n int) int {
	for i, c := range data[p : p+n] {
		if !base64Bytes[c] {
			return i
		}
	}
	return n
}

// shortPieceEndsLine says whether the run of base64 at data[p:], which ends before data[p+8]
// (not base64), is a short first piece of a value (pieceEndsLine).
func shortPieceEndsLine(data []byte, p int) bool {
	for i, c := range data[p : p+9] {
		if !base64Bytes[c] {
			return (endsPiece[c] || blankOrBreak[c] && p+i+1 < len(data) && blankOrBreak[data[p+i+1]]) && pieceEndsLine(data, p+i)
		}
	}
	return false
}

// mayFollowPiece holds what may follow a short first piece on its line, to its line's end:
// a quote, a blank, a concatenation operator, a backslash (a \n escape, a line
// continuation), the line break. Most values in source code go on with '(', ',' or ')'.
var mayFollowPiece = [256]bool{'"': true, '\'': true, ' ': true, '\t': true, '+': true, '.': true, '\\': true, '\r': true, '\n': true}

// endsPiece holds what may follow a first piece on its line, to its line's end: a quote, a
// backslash, the line break (pieceEndsLine); blanks before the line's end, blankOrBreak's.
var endsPiece = [256]bool{'"': true, '\'': true, '\\': true, '\r': true, '\n': true}

// blankOrBreak holds what the byte after a blank just past a first piece must be for blanks to
// end its line: "x = a + b", most values followed by a blank, is dropped there, without a call
// of pieceEndsLine.
var blankOrBreak = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}

// pieceEndsLine says whether a piece of a value that ends at data[e] is followed by a \n
// escape (a JSON string of pieces, ed25519ValueAt's), or ends its line (after a closing quote,
// a concatenation operator, a line continuation) with the next line starting with a piece
// (nextLineHoldsPiece). It runs for many values after an '=' or ':' (those whose first word
// ends at one of endsPiece), so it gives up at the first byte that cannot be one of these.
func pieceEndsLine(data []byte, e int) bool {
	if e+1 >= len(data) {
		return false
	}
	switch c := data[e]; {
	case c == ' ' || c == '\t':
		// Blanks an editor left at the line's end; anything after them is more than a
		// piece (x = a + b).
		if e = skipBlanks(data, e); e < len(data) && data[e] != '\r' && data[e] != '\n' {
			return false
		}
	case c == '\\':
		if data[e+1] == 'n' || data[e+1] == 'r' {
			return true // "piece\npiece"
		}
	case c == '"' || c == '\'':
		e = skipBlanks(data, e+1)
		if e < len(data) && (data[e] == '+' || data[e] == '.') {
			e = skipBlanks(data, e+1) // "piece" +
		}
	}
	if e < len(data) && data[e] == '\\' {
		e = skipBlanks(data, e+1) // a line continuation
	}
	if e < len(data) && data[e] == '\r' {
		e++
	}
	return e < len(data) && data[e] == '\n' && nextLineHoldsPiece(data, e)
}

// shortPiecesAt reads the value after the separator at data[j] whose first piece is short
// (shortPieceEndsLine): pieces joined by \n escapes on one line, or wrapped across lines.
func (d *detector) shortPiecesAt(data []byte, j int, layer string, at func(int) int) {
	d.ed25519ValueAt(data, j, layer, at)
	d.wrappedEd25519At(data, j+1, layer, at)
}

// skipBlanks returns where the blanks (spaces and tabs, at most 64) from data[i] end.
func skipBlanks(data []byte, i int) int {
	for k := 0; k < 64 && i < len(data) && (data[i] == ' ' || data[i] == '\t'); k++ {
		i++
	}
	return i
}

// wrappedEd25519At reads an Ed25519 secret that is the value after a name's separator ('=' or
// ':', just before data[p]) and is not on one line with it, which ed25519ValueAt reads: on
// the lines after it (a YAML block scalar "secret: >-" or "|", "secret:" then the value
// indented below, "NAME=\" and a line continuation), or wrapped across lines. Each line holds
// nothing but a piece of it (base64 or hex; quotes around a piece, and ',' or ';' after the
// last, allowed; after a quoted piece, or before one on the next line, a concatenation
// operator: "piece" +, + "piece", 'piece' .), and the pieces make 86 base64 characters (88
// with padding) or 128 hex digits, on at most maxWrappedLines lines. Callers look at the
// first piece before calling (minFirstPiece, shortPieceEndsLine).
// maxPieceLen is the most a wrapped value's pieces hold together: 128 hex digits.
const maxPieceLen = 128

func (d *detector) wrappedEd25519At(data []byte, p int, layer string, at func(int) int) {
	d.wrappedLooks++
	i, block := p, false
	// Blanks, an opening quote, a YAML block indicator with its chomping and indentation
	// ("|", ">-", "|2+"; and PHP's "=>"); or a parenthesis ending the line.
	for n := 0; n < 6 && i < len(data); n++ {
		c := data[i]
		if c == '|' || c == '>' {
			block = true
			i++
			for m := 0; m < 2 && i < len(data) && (data[i] == '-' || data[i] == '+' || '1' <= data[i] && data[i] <= '9'); m++ {
				i++
			}
			continue
		}
		if c == '(' {
			// NAME = ( then quoted pieces below, as Python joins them; maybe blanks after it
			if e := skipBlanks(data, i+1); e < len(data) && (data[e] == '\n' || data[e] == '\r') {
				i = e
				break
			}
		}
		if c != ' ' && c != '\t' && c != '"' && c != '\'' {
			break
		}
		i++
	}
	if block && i < len(data) && data[i] == '#' && (data[i-1] == ' ' || data[i-1] == '\t') {
		// A comment after the block indicator ("secret: | # prod"): the value is below.
		nl := bytes.IndexByte(data[i:min(len(data), i+256)], '\n')
		if nl < 0 {
			return
		}
		i += nl
		if data[i-1] == '\r' {
			i--
		}
	}
	var text [maxPieceLen]byte
	n, start, end := 0, -1, 0
	lines := maxWrappedLines
	for line := 0; line < lines; line++ {
		if line > 0 {
			for k := 0; k < 64 && i < len(data) && (data[i] == ' ' || data[i] == '\t'); k++ {
				i++ // indentation
			}
			if i+1 < len(data) && (data[i] == '+' || data[i] == '.') && (data[i+1] == ' ' || data[i+1] == '\t') {
				// An operator before the line's quoted piece: + "piece"
				if i = skipBlanks(data, i+1); i == len(data) || data[i] != '"' && data[i] != '\'' {
					return
				}
			}
			if i < len(data) && (data[i] == '"' || data[i] == '\'') {
				i++
			}
		}
		s := i
		for i < len(data) && i-s <= len(text) && isBase64Byte(data[i]) {
			i++
		}
		k := i - s
		if k > 0 {
			if line == 0 && block || n+k > len(text) {
				return // a block scalar's text starts on the next line; or too long
			}
			if start < 0 {
				start = s
			}
			n += copy(text[n:], data[s:i])
			end = i
		} else if line == 0 {
			lines++ // a name's line with no piece ("secret: |"): the lines are below it
		}
		padded := false
		if n == 86 && i+1 < len(data) && data[i] == '=' && data[i+1] == '=' {
			i, end, padded = i+2, i+2, true
		}
		quoted := i < len(data) && (data[i] == '"' || data[i] == '\'')
		if quoted {
			i++
		}
		if padded || n == 86 || n == 128 {
			if i < len(data) && (data[i] == ',' || data[i] == ';') {
				i++
			}
		}
		i = skipBlanks(data, i) // trailing blanks, which editors leave
		if quoted && !padded && n != 86 && n != 128 && i < len(data) && (data[i] == '+' || data[i] == '.') {
			i = skipBlanks(data, i+1) // "piece" + (the next line's piece goes on the value)
		}
		if i < len(data) && data[i] == '\\' {
			i = skipBlanks(data, i+1) // a line continuation
		}
		if i < len(data) && data[i] == '\r' {
			i++
		}
		complete := padded || n == 86 || n == 128
		if complete && line > 0 && i < len(data) && (data[i] == '}' || data[i] == ']' || data[i] == ')' || data[i] == '<' && i+1 < len(data) && data[i+1] == '/') {
			break // the value below its name, closed on its line: "KEY</string>", JSON's "KEY"}, "KEY")
		}
		if i < len(data) && data[i] != '\n' {
			return // more on the line than a piece of a value
		}
		if complete || i == len(data) {
			if line == 0 {
				return // on one line: ed25519ValueAt's
			}
			break
		}
		i++
	}
	if n != 86 && n != 128 {
		return
	}
	if !d.otherKeys && !hasCDPContext(data, start, end) {
		return // would not be reported: spare the derivation
	}
	d.derived++
	key, ok := ed25519Text(text[:n])
	if !ok {
		return
	}
	d.addKey(key, data, start, end, "ed25519", layer, at, "…"+string(text[n-8:n]))
}

// elementEd25519At reads an Ed25519 secret (86 base64 characters, 88 with padding, or 128 hex
// digits; on one line or wrapped) that is the text of an XML element whose own name says it
// is one (<secret>, <api_key_secret>, <privateKey>), from its closing tag at data[j:] ("</").
// An element named by an attribute (<string name="cdp_api_key_secret">) is found from the
// attribute's '='.
func (d *detector) elementEd25519At(data []byte, j int, layer string, at func(int) int) {
	// The text may be a CDATA section (<secret><![CDATA[...]]></secret>).
	cdata := j >= 3 && bytes.Equal(data[j-3:j], []byte("]]>"))
	if j == 0 || !cdata && !isBase64Byte(data[j-1]) && !strings.ContainsRune(" \t\r\n=", rune(data[j-1])) {
		return // most closing tags end markup or prose, not a value
	}
	k := j + 2
	for k < len(data) && k-j < 66 && (isBase64Byte(data[k]) || data[k] == '.' || data[k] == ':') {
		k++
	}
	name := data[j+2 : k]
	k = skipBlanks(data, k) // </secret >
	if len(name) == 0 || k == len(data) || data[k] != '>' {
		return
	}
	// An element whose own name says nothing (<string>, <value>) may take its name from
	// before it: a property list's <key>, the key attribute of the element around it.
	named := secretName(name)
	if !named && !holderElement(name) {
		return
	}
	// Back from the closing tag over the text: blanks and line breaks, padding, then base64
	// or hex (with line breaks and indentation between pieces), to the opening tag's '>' or
	// the CDATA section's start.
	var rev [128]byte
	n, i, end := 0, j, -1
	if cdata {
		i -= 3
	}
	for i > 0 && j-i < 400 {
		c := data[i-1]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '=' && n == 0:
			if end < 0 {
				end = i
			}
		case isBase64Byte(c):
			if n == len(rev) {
				return
			}
			if end < 0 {
				end = i
			}
			rev[n] = c
			n++
		case !cdata && c == '>' || cdata && c == '[' && i >= 9 && bytes.Equal(data[i-9:i], []byte("<![CDATA[")):
			if n != 86 && n != 128 {
				return
			}
			if !named {
				tagEnd := i
				if cdata {
					tagEnd = i - 9
				}
				if !namedBefore(data, tagEnd, name) {
					return
				}
			}
			text := rev[:n]
			slices.Reverse(text)
			start := i
			for data[start] == ' ' || data[start] == '\t' || data[start] == '\n' || data[start] == '\r' {
				start++
			}
			if !d.otherKeys && !hasCDPContext(data, start, end) {
				return
			}
			d.derived++
			key, ok := ed25519Text(text)
			if !ok {
				return
			}
			d.addKey(key, data, start, end, "ed25519", layer, at, "…"+string(text[n-8:]))
			return
		default:
			return
		}
		i--
	}
}

// holderElement reports whether an XML element's name is that of an element holding a value
// that is named before it: a property list's <string>, Java and Spring XML's <value>.
func holderElement(name []byte) bool {
	return bytes.Equal(name, []byte("string")) || bytes.Equal(name, []byte("value"))
}

// namedBefore reports whether the element <name> whose opening tag ends at data[tagEnd] (no
// attributes) is named with a CDP word just before it, blanks and line breaks between: by a
// property list's key (<key>cdp_api_key_secret</key><string>...), or by the key or name
// attribute of the element it is in (<entry key="cdp.api.secret"><value>...).
func namedBefore(data []byte, tagEnd int, name []byte) bool {
	o := tagEnd - len(name) - 2
	if o < 0 || data[o] != '<' || data[tagEnd-1] != '>' || !bytes.Equal(data[o+1:tagEnd-1], name) {
		return false // an opening tag with attributes, or none
	}
	k := o
	for k > 0 && o-k < 256 && strings.IndexByte(" \t\r\n", data[k-1]) >= 0 {
		k--
	}
	if k == 0 || data[k-1] != '>' {
		return false
	}
	if bytes.HasSuffix(data[:k], []byte("</key>")) {
		v := k - len("</key>")
		lo := max(0, v-80)
		s := bytes.LastIndex(data[lo:v], []byte("<key>"))
		return s >= 0 && holdsCDPWord(data[lo+s+len("<key>"):v])
	}
	// The opening tag before: its key or name attribute.
	lo := max(0, k-200)
	lt := bytes.LastIndexByte(data[lo:k], '<')
	if lt < 0 {
		return false
	}
	tag := data[lo+lt : k]
	for _, attr := range []string{" key=", " name="} {
		a := bytes.Index(tag, []byte(attr))
		if a < 0 || a+len(attr) >= len(tag) {
			continue
		}
		v := tag[a+len(attr):]
		if q := v[0]; q == '"' || q == '\'' {
			if e := bytes.IndexByte(v[1:], q); e >= 0 && holdsCDPWord(v[1:1+e]) {
				return true
			}
		}
	}
	return false
}

// holdsCDPWord reports whether a name holds one of the CDP words (cdpContext), in any case.
func holdsCDPWord(name []byte) bool {
	return holdsFolded(name, cdpContext)
}

// secretWords are what an XML element's name holds when its text is a secret.
var secretWords = foldWords("secret", "privatekey", "private_key")

// secretName reports whether an XML element's name says its text is a secret.
func secretName(name []byte) bool {
	return holdsFolded(name, secretWords)
}

// holdsFolded reports whether the first 80 bytes of name hold one of words (foldWords), in
// any case.
func holdsFolded(name []byte, words [][]byte) bool {
	var buf [80]byte
	folded := foldCase(buf[:0], name[:min(len(name), len(buf))])
	for _, w := range words {
		if bytes.Contains(folded, w) {
			return true
		}
	}
	return false
}

// derAt looks for a private key's DER written in base64 without PEM armour, starting at data[j]
// (one of derAnchors). The DER's own length says where it ends, whatever follows it. It
// returns where the base64 text read ends: an anchor before it is not a key's start.
func (d *detector) derAt(data []byte, j int, layer string, at func(int) int) int {
	if armoured(data, j) {
		return j // a PEM body: pemAt's, which refuses a key cut short (no END line)
	}
	text, end := collectBase64(data, j, maxDERSpan)
	d.derRead += end - j
	der := derSequence(decodeBase64Loose(text))
	if der == nil {
		return end
	}
	signer, ok := parseDER(der)
	if !ok {
		return end
	}
	// The first 8 characters are the DER's fixed header (version, lengths): no secret.
	d.addKey(signer, data, j, end, "der", layer, at, string(text[:8])+"…(redacted)")
	return end
}

// maxDERSpan bounds the text read for an unarmoured key: the DER anchors are of P-256 and
// Ed25519 keys, at most 138 bytes (184 base64 characters), here with room for line breaks,
// escapes and indentation. A file of nothing but anchors ("MHcCAQEE" a million times) must
// not make every anchor read far ahead.
const maxDERSpan = 1 << 10

// armoured reports whether the text before data[j], line breaks (real or escaped), blanks and
// quotes aside, ends with a PEM line's "-----".
func armoured(data []byte, j int) bool {
	k := j
	for k > 0 && j-k < 64 {
		c := data[k-1]
		switch {
		case strings.IndexByte("\r\n \t\"'+\\", c) >= 0:
			k--
		case (c == 'n' || c == 'r') && k >= 2 && data[k-2] == '\\':
			k -= 2
		default:
			return k >= 5 && bytes.Equal(data[k-5:k], anchorDashes)
		}
	}
	return false
}

// derSequence returns the DER SEQUENCE at the start of b, cut to the length its header gives,
// or nil.
func derSequence(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return nil
	}
	n, hdr := int(b[1]), 2
	switch {
	case b[1] == 0x81 && len(b) > 2:
		n, hdr = int(b[2]), 3
	case b[1] == 0x82 && len(b) > 3:
		n, hdr = int(b[2])<<8|int(b[3]), 4
	case b[1] >= 0x80:
		return nil
	}
	if hdr+n > len(b) {
		return nil
	}
	return b[:hdr+n]
}

// cdpContext holds the words that make a 64-byte Ed25519 secret a CDP key rather than any
// Ed25519 key: the variable names and JSON fields CDP's SDKs and key files use.
var cdpContext = foldWords("cdp", "coinbase", "apikey", "api_key", "api-key", "privatekey", "private_key", "secret")

// foldCase appends b to dst with the 0x20 bit of every byte set, eight bytes at a time: this
// lower-cases ASCII letters and maps '_' to DEL (and a few other bytes to others), so text and
// words folded alike compare as case-insensitive ASCII.
func foldCase(dst, b []byte) []byte {
	const caseBits = 0x2020202020202020
	n := len(dst)
	dst = append(dst, b...)
	w := dst[n:]
	i := 0
	for ; i+8 <= len(w); i += 8 {
		binary.LittleEndian.PutUint64(w[i:], binary.LittleEndian.Uint64(w[i:])|caseBits)
	}
	for ; i < len(w); i++ {
		w[i] |= 0x20
	}
	return dst
}

func foldWords(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = foldCase(nil, []byte(w))
	}
	return out
}

func hasCDPContext(data []byte, start, end int) bool {
	// Folded into a buffer on the stack: this runs for every 64-byte value, and
	// bytes.ToLower's copy was most of what it cost.
	var buf [2*contextRadius + 256]byte
	lo := max(0, start-contextRadius)
	window := data[lo:min(len(data), end+contextRadius)]
	folded := foldCase(buf[:0], window)
	// Not the value itself: one random key in 370 holds "cdp" in its base64.
	clear(folded[start-lo : end-lo])
	for _, word := range cdpContext {
		if bytes.Contains(folded, word) {
			return true
		}
	}
	// A UUID: looked for at each '-', not with a regular expression (this runs for every
	// 64-byte value, before its key is derived).
	w := window
	for i := 0; i < len(w); {
		k := bytes.IndexByte(w[i:], '-')
		if k < 0 {
			break
		}
		if u := i + k - 8; u >= 0 && u+36 <= len(w) && isUUID(w[u:u+36]) {
			return true
		}
		i += k + 1
	}
	return false
}

// addKey records a parsed key found at data[start:end] of the current layer.
func (d *detector) addKey(signer crypto.Signer, data []byte, start, end int, form, layer string, at func(int) int, redacted string) {
	kind := KindOtherPrivateKey
	switch k := signer.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			kind = KindWaaSP256
		}
	case ed25519.PrivateKey:
		if hasCDPContext(data, start, end) {
			kind = KindCDPEd25519
		}
	}
	if kind == KindOtherPrivateKey && !d.otherKeys {
		return
	}
	fp := credentials.Fingerprint(signer.Public())
	if k, ok := signer.(otherCurveKey); ok {
		fp = k.fingerprint()
	}
	if publishedTestKeys()[fp] {
		return // a test vector of an RFC: everyone has it, it leaks nothing
	}
	off := at(start)
	id := fp + "@" + itoa(off)
	if d.seen[id] {
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{} // most buffers hold no key
	}
	d.seen[id] = true
	d.keys = append(d.keys, keyHit{off: off, kind: kind, fp: fp, redacted: redacted, encoding: layer, key: holdKey(signer)})
	// Bare key ids are looked for only where a key is: a UUID alone is no secret.
	d.bareIDsNear(data, start, end, at)
}

// publishedTestKeys are the fingerprints of private keys published as test vectors, which
// crypto libraries' tests and docs copy: RFC 8032's Ed25519 vectors (TEST 1, 2, 3, 1024 and
// SHA(abc); TEST 1 is RFC 8037's too) and RFC 6979's P-256 key (A.2.5).
var publishedTestKeys = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, seed := range []string{
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
		"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
	} {
		b, _ := hex.DecodeString(seed)
		out[credentials.Fingerprint(ed25519.NewKeyFromSeed(b).Public())] = true
	}
	d, _ := hex.DecodeString("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
	if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
		out[credentials.Fingerprint(&k.PublicKey)] = true
	}
	return out
})

// ---- key names ----

var legacyNameRE = regexp.MustCompile(`organizations(?:\\*/|%2[fF])([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:\\*/|%2[fF])apiKeys(?:\\*/|%2[fF])([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})`)

func (d *detector) legacyNameAt(data []byte, j int, at func(int) int) {
	lo := max(0, j-60)
	hi := min(len(data), j+60)
	m := legacyNameRE.FindSubmatchIndex(data[lo:hi])
	if m == nil {
		return
	}
	name := "organizations/" + string(data[lo+m[2]:lo+m[3]]) + "/apiKeys/" + string(data[lo+m[4]:lo+m[5]])
	d.names = append(d.names, nameHit{off: at(lo + m[0]), name: name, legacy: true})
}

// bareIDsNear finds CDP key ids near a key: UUIDs written as the value of an id-like field or
// variable (CDP_API_KEY_ID=..., "id": "...", keyName: ...). It looks at each '-' rather than
// running a regular expression over the window: this runs for every key found.
func (d *detector) bareIDsNear(data []byte, start, end int, at func(int) int) {
	lo, hi := max(0, start-4096), min(len(data), end+4096)
	for i := lo; i < hi; {
		k := bytes.IndexByte(data[i:hi], '-')
		if k < 0 {
			return
		}
		dash := i + k
		i = dash + 1
		u := dash - 8
		if u < 0 || u+36 > len(data) || !isUUID(data[u:u+36]) || (u+36 < len(data) && isHex(data[u+36])) || (u > 0 && isHex(data[u-1])) {
			continue
		}
		i = u + 36
		if idLike(data[max(0, u-96):u]) {
			d.names = append(d.names, nameHit{off: at(u), name: string(data[u : u+36])})
		}
	}
}

func isUUID(b []byte) bool {
	for i, c := range b {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

// idLike reports whether the text before a UUID makes it a key id: it ends with a name such as
// id, key_id, keyName or name, then quotes, spaces, ':', '=' or "=>"; or the UUID is the value
// of an attribute or element named so before it (<add key="CdpApiKeyId" value="...">, a
// property list's <key>cdp_api_key_id</key><string>...</string>, <entry key="cdp.key.id">
// <value>...</value>).
func idLike(before []byte) bool {
	t := bytes.TrimRight(before, " \t\"':=>\\") // \\: \"id\": \"... in a JSON string
	if len(t) == len(before) {
		return false // no separator: "organizations/<uuid>" or part of a word
	}
	t = bytes.ToLower(t)
	if idName(t) {
		return true
	}
	switch {
	case bytes.HasSuffix(t, []byte(" value")):
		t = t[:len(t)-len(" value")]
	case bytes.HasSuffix(t, []byte("<string")) || bytes.HasSuffix(t, []byte("<value")):
		t = bytes.TrimRight(t[:bytes.LastIndexByte(t, '<')], " \t\r\n")
		t = bytes.TrimSuffix(t, []byte("</key>"))
	default:
		return false
	}
	return idName(bytes.TrimRight(t, " \t\r\n\"'>"))
}

// idName reports whether a lower-case name ends as a key id's does.
func idName(t []byte) bool {
	return bytes.HasSuffix(t, []byte("id")) || bytes.HasSuffix(t, []byte("name"))
}

// ---- decoding helpers ----

func isBase64Byte(c byte) bool { return base64Bytes[c] }

// base64Bytes holds the characters of either base64 alphabet: a lookup is cheaper than the
// comparisons, and this runs for most bytes near an '=' or ':'.
var base64Bytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// base64Back walks back from data[j] over base64 text as it is written: wrapped lines (real
// breaks with their indentation, as in a YAML block or folded scalar, or \n escapes as in a
// JSON string) and JSON-escaped slashes. It returns where the text starts.
func base64Back(data []byte, j, floor int) int {
	s := j
	for s > floor && j-s < maxBase64Run {
		c := data[s-1]
		switch {
		case isBase64Byte(c) || c == '\n' || c == '\r':
			s--
		case c == '\\' && s < len(data) && strings.IndexByte("nr/\\", data[s]) >= 0:
			s--
		case c == ' ' || c == '\t':
			// Indentation only: blanks between a line break and the text.
			q := s - 1
			for q > 0 && (data[q-1] == ' ' || data[q-1] == '\t') {
				q--
			}
			if q == 0 || data[q-1] != '\n' && data[q-1] != '\r' {
				return s
			}
			s = q
		default:
			return s
		}
	}
	return s
}

// segmentStart returns where the line of base64 text holding data[j] starts.
func segmentStart(data []byte, j, floor int) int {
	s := j
	for s > floor && j-s < maxBase64Run {
		c := data[s-1]
		if c == '\\' && s < len(data) && data[s] == '/' || isBase64Byte(c) && !((c == 'n' || c == 'r') && s >= 2 && data[s-2] == '\\') {
			s--
			continue
		}
		break
	}
	return s
}

// collectBase64 reads the base64 text that starts at data[p], at most limit bytes of it, as
// base64Back walks it (line breaks real or escaped, indentation, \/) and URL-encoded (%2B,
// %2F, %3D). It returns the base64 characters alone, and where the text ends: after its
// padding, or at the first byte that is not part of it.
func collectBase64(data []byte, p, limit int) ([]byte, int) {
	return walkBase64(make([]byte, 0, 128), data, p, limit, true)
}

// base64End is where the base64 text that starts at data[p] ends, as collectBase64 reads it,
// without keeping its characters: runs of base64 are measured at every anchor found in
// them, and keeping them there was a third of what a scan allocated.
func base64End(data []byte, p, limit int) int {
	_, end := walkBase64(nil, data, p, limit, false)
	return end
}

// walkBase64 is collectBase64 appending to out, or only measuring when keep is false.
func walkBase64(out, data []byte, p, limit int, keep bool) ([]byte, int) {
	k := p
	for k < len(data) && k-p < limit {
		c := data[k]
		switch {
		case isBase64Byte(c):
			if keep {
				out = append(out, c)
			}
			k++
		case c == '=':
			for k < len(data) && data[k] == '=' {
				k++
			}
			return out, k // padding ends a run: "NAME=value" is two runs
		case c == '\n' || c == '\r':
			q := k + 1
			for q < len(data) && strings.IndexByte("\r\n \t", data[q]) >= 0 {
				q++
			}
			if q == len(data) || !isBase64Byte(data[q]) {
				return out, k
			}
			k = q
		case c == '\\':
			q := k
			for q < len(data) && data[q] == '\\' {
				q++
			}
			switch {
			case q < len(data) && (data[q] == 'n' || data[q] == 'r'):
				k = q + 1
			case q < len(data) && data[q] == '/':
				if keep {
					out = append(out, '/')
				}
				k = q + 1
			default:
				return out, k
			}
		case c == '%' && k+2 < len(data) && isHex(data[k+1]) && isHex(data[k+2]):
			switch v := unhex(data[k+1])<<4 | unhex(data[k+2]); v {
			case '+', '/':
				if keep {
					out = append(out, v)
				}
				k += 3
			case '=':
				for k+2 < len(data) && data[k] == '%' && data[k+1] == '3' && (data[k+2] == 'D' || data[k+2] == 'd') {
					k += 3
				}
				return out, k
			default:
				return out, k
			}
		default:
			return out, k
		}
	}
	return out, k
}

// decodeBase64Loose decodes standard or URL-safe base64, padded or not, ignoring line breaks
// and blanks. The two alphabets decode alike, so a word of another alphabet next to the text
// (a YAML key with '_') spoils only its own bytes. It returns nil when text is not base64.
func decodeBase64Loose(text []byte) []byte {
	clean := make([]byte, 0, len(text))
	for _, c := range text {
		switch c {
		case '\n', '\r', ' ', '\t':
		case '-':
			clean = append(clean, '+')
		case '_':
			clean = append(clean, '/')
		default:
			clean = append(clean, c)
		}
	}
	clean = bytes.TrimRight(clean, "=")
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return nil
	}
	return out[:n]
}

func decodeUTF16(b []byte, bigEndian bool) []byte {
	// One pass, one byte per character: the keys, their names and every anchor are ASCII, so
	// each character outside ASCII (a surrogate pair counts as one) becomes the single byte
	// nonASCII, which no anchor, base64 run or name holds. Binary files with NULs reach here
	// too: utf16.Decode's []rune, its conversion to UTF-8 and the rescan of that longer text
	// were a fifth of a scan's CPU.
	n := len(b) / 2
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return uint16(b[2*i+1])<<8 | uint16(b[2*i])
	}
	out := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		u := unit(i)
		switch {
		case u < utf8.RuneSelf:
			out = append(out, byte(u))
			continue
		case utf16.IsSurrogate(rune(u)) && i+1 < n && utf16.DecodeRune(rune(u), rune(unit(i+1))) != utf8.RuneError:
			i++ // a pair: one character
		}
		out = append(out, nonASCII)
	}
	return out
}

// nonASCII stands for a character outside ASCII in decoded UTF-16 (decodeUTF16): a byte that
// is not valid UTF-8 on its own, and no anchor's.
const nonASCII = 0x80

func asciiPrefixFold(b []byte, upper string) bool {
	if len(b) < len(upper) {
		return false
	}
	for i := 0; i < len(upper); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Match is a key found in one buffer.
type Match struct {
	Offset      int    // byte offset of the key's text (of the encoded text, for a decoded layer)
	Line        int    // 1-based line of Offset
	Kind        string // KindWaaSP256, KindCDPEd25519 or KindOtherPrivateKey
	KeyName     string // the paired key name or key id, "" when none was found
	Fingerprint string // credentials.Fingerprint of the public key
	Redacted    string // a form that shows what was found without any secret part
	Encoding    string // the layers the key was under: "", "base64", "utf16>base64", ...

	key heldKey
}

// Detected is what one buffer holds: its keys, and every key name in it (for pairing keys of
// other members of the same package).
type Detected struct {
	Keys  []Match
	Names []string // organizations/{org}/apiKeys/{id} names, then bare ids next to keys
}

// Detect finds the private keys in data, each paired with the nearest key name in data.
// otherKeys asks for RSA and other non-WaaS keys too (KindOtherPrivateKey).
func Detect(data []byte, otherKeys bool) Detected {
	d := &detector{otherKeys: otherKeys}
	d.scanBuffer(data, 0, "", 0)
	var out Detected
	if len(d.keys) == 0 && len(d.names) == 0 {
		return out
	}
	if len(d.names) == 0 && len(d.keys) > 0 {
		// No name within 4 KiB of any key: a key id anywhere in the buffer (a long file), once.
		d.bareIDsNear(data, 0, len(data), func(off int) int { return off })
	}
	sort.Slice(d.keys, func(a, b int) bool { return d.keys[a].off < d.keys[b].off })
	// Lines: one pass over the buffer, however many keys.
	line, pos := 1, 0
	inOrder := pairInOrder(d.keys, d.names)
	for i, k := range d.keys {
		line += bytes.Count(data[pos:k.off], []byte{'\n'})
		pos = k.off
		name := nearestName(d.names, k)
		if inOrder != nil {
			name = inOrder[i]
		}
		out.Keys = append(out.Keys, Match{
			Offset: k.off, Line: line, Kind: k.kind, Fingerprint: k.fp,
			Redacted: k.redacted, Encoding: k.encoding,
			KeyName: name, key: k.key,
		})
	}
	seen := map[string]bool{}
	for _, legacyFirst := range []bool{true, false} {
		for _, n := range d.names {
			if n.legacy == legacyFirst && !seen[n.name] {
				seen[n.name] = true
				out.Names = append(out.Names, n.name)
			}
		}
	}
	return out
}

// nearestName pairs a key with the closest name: a legacy organizations/... name for an
// ECDSA key (the WaaS form), a bare key id for an Ed25519 one (the CDP form), either when the
// preferred form is absent.
// pairInOrder pairs keys (sorted by offset) and names in order when they alternate along the
// buffer, as many of each: each key's name after it (secret A, id A, secret B, id B) or each
// before it. The nearest name would give key B the id of A, just above it. nil: they do not
// alternate, and each key takes the nearest name.
func pairInOrder(keys []keyHit, names []nameHit) []string {
	if len(keys) < 2 || len(names) < len(keys) {
		return nil
	}
	// Each key looks for ids near it: one id may be found twice.
	ns := slices.Clone(names)
	sort.Slice(ns, func(a, b int) bool { return ns[a].off < ns[b].off })
	ns = slices.CompactFunc(ns, func(a, b nameHit) bool { return a.off == b.off && a.name == b.name })
	if len(ns) != len(keys) {
		return nil
	}
	after, before := true, true
	for i := range keys {
		last := i+1 == len(keys)
		after = after && keys[i].off < ns[i].off && (last || ns[i].off < keys[i+1].off)
		before = before && ns[i].off < keys[i].off && (last || keys[i].off < ns[i+1].off)
	}
	if !after && !before {
		return nil
	}
	// In order, a key must still take a name of its own form (legacy for ECDSA, a bare id for
	// Ed25519) when there is one: a WaaS block around a CDP block alternates too.
	hasForm := map[bool]bool{}
	for _, n := range ns {
		hasForm[n.legacy] = true
	}
	for i, k := range keys {
		if want := k.kind != KindCDPEd25519; ns[i].legacy != want && hasForm[want] {
			return nil
		}
	}
	// The first key has a neighbour name on one side only, so its nearest name is its own
	// (before pairing in order, a key took the name of the key before it): an id of no key
	// above the first (project_id: ..., then key A, id A, key B with no id) would else shift
	// every name by one.
	if nearestName(names, keys[0]) != ns[0].name {
		return nil
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.name
	}
	return out
}

func nearestName(names []nameHit, k keyHit) string {
	preferLegacy := k.kind != KindCDPEd25519
	best, bestDist, bestPref := "", -1, false
	for _, n := range names {
		dist := n.off - k.off
		if dist < 0 {
			dist = -dist
		}
		pref := n.legacy == preferLegacy
		if best == "" || pref && !bestPref || pref == bestPref && dist < bestDist {
			best, bestDist, bestPref = n.name, dist, pref
		}
	}
	return best
}
