package auditlog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Kind classifies what Verify found wrong.
type Kind string

// The kinds of problem. They are stable identifiers, for scripts reading -o json.
const (
	KindCorrupt        Kind = "corrupt-line"     // a line is not an entry at all
	KindBrokenChain    Kind = "broken-chain"     // a line was altered, inserted or replaced
	KindSequenceGap    Kind = "sequence-gap"     // lines were deleted from the middle
	KindReordered      Kind = "reordered"        // lines were moved or copied
	KindTruncated      Kind = "truncated"        // lines were removed from the end
	KindHeadMismatch   Kind = "head-mismatch"    // the log and audit.head disagree otherwise
	KindMissingHead    Kind = "missing-head"     // the log has entries but audit.head is gone
	KindAnchorMismatch Kind = "anchor-mismatch"  // the log no longer holds an anchored entry
	KindUnrecorded     Kind = "unrecorded-entry" // the last line was not appended by waasctl
)

// Problem is the first thing wrong with a log.
type Problem struct {
	Line   int    `json:"line"` // 1-based line of audit.jsonl; 0 when it is about audit.head itself
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail"`
}

func (p *Problem) String() string {
	kind := strings.ReplaceAll(string(p.Kind), "-", " ")
	if p.Line == 0 {
		return kind + ": " + p.Detail
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, kind, p.Detail)
}

// Report is what Verify found.
type Report struct {
	OK bool `json:"ok"`
	// Entries counts the entries, from the first, found sound before the first problem: all
	// of them when there is none.
	Entries int         `json:"entries"`
	Head    *Checkpoint `json:"head,omitempty"` // audit.head, when it could be read
	Problem *Problem    `json:"problem,omitempty"`
	// Note says something worth knowing that is not a problem: the last entry's
	// checkpoint was never written (a waasctl stopped between the two writes).
	Note string `json:"note,omitempty"`
}

// Verify checks the log in dir: every line is an entry, seqs run 1, 2, 3..., each Prev is the
// hash of the line before, each anchor (a checkpoint recorded elsewhere earlier) is still in
// the log, and the last line is the one audit.head names. It reports the first problem; the
// error is for failures to read. A folder with neither log nor head verifies, with 0 entries.
//
// A problem names the line most likely changed: an altered line is found by its successor's
// Prev, and is blamed rather than the successor when the successor still chains onward.
func Verify(dir string, anchors ...Checkpoint) (Report, error) {
	f, size, head, err := snapshot(dir)
	if err != nil {
		return Report{}, fmt.Errorf("audit log: %w", err)
	}
	var r io.Reader = strings.NewReader("")
	if f != nil {
		defer f.Close()
		r = io.LimitReader(f, size)
	}
	return verify(r, head, anchors)
}

// lineInfo is what verification keeps of a line: enough to check links, not the line.
type lineInfo struct {
	hash [sha256.Size]byte
	prev [sha256.Size]byte
	seq  uint64
	bad  string // why it is not an entry, or ""
}

var genesisSum = sha256.Sum256([]byte(genesis))

func verify(r io.Reader, head headState, anchors []Checkpoint) (Report, error) {
	for _, a := range anchors {
		if a.Seq == 0 {
			return Report{}, fmt.Errorf("anchor %s: seq must be at least 1", a)
		}
	}
	var lines []lineInfo
	for l, err := range scanLines(r) {
		if err != nil {
			return Report{}, fmt.Errorf("audit log: %w", err)
		}
		info := lineInfo{hash: sha256.Sum256(l.data), bad: l.bad}
		if e, err := parseLine(l.data); err != nil && info.bad == "" {
			info.bad = err.Error()
		} else if err == nil {
			info.seq = e.Seq
			hex.Decode(info.prev[:], []byte(e.Prev)) // parseLine checked it is hex
		}
		lines = append(lines, info)
	}
	v := verifier{lines: lines, head: head}
	rep := Report{Entries: len(lines)}
	if head.exists && head.err == nil && head.cp.Seq > 0 {
		cp := head.cp
		rep.Head = &cp
	}
	p := v.checkChain()
	if p == nil {
		p = v.checkAnchors(anchors)
	}
	if p == nil {
		p = v.checkHead()
	}
	switch {
	case p == nil && v.headOneBehind:
		rep.Note = fmt.Sprintf("the last entry (seq %d) is announced in %s but not committed: a waasctl stopped between writing it and committing it; the next entry commits it", len(lines), HeadName)
	case p == nil && head.pending != nil:
		rep.Note = fmt.Sprintf("%s announces entry %d, which was never written: a waasctl stopped before writing it (what it was about to record may have happened)", HeadName, head.pending.Seq)
	}
	if p != nil {
		rep.Problem = p
		if p.Line > 0 {
			rep.Entries = p.Line - 1
		}
	}
	rep.OK = rep.Problem == nil
	return rep, nil
}

type verifier struct {
	lines         []lineInfo
	head          headState
	headOneBehind bool
}

func problem(line int, kind Kind, format string, args ...any) *Problem {
	return &Problem{Line: line, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// checkChain checks each line against the one before it.
func (v *verifier) checkChain() *Problem {
	prev := genesisSum
	for i, l := range v.lines {
		n := i + 1
		if l.bad != "" {
			return problem(n, KindCorrupt, "%s", l.bad)
		}
		linkOK, seqOK := l.prev == prev, l.seq == uint64(n)
		switch {
		case linkOK && !seqOK:
			// It chains where it stands, so it was not moved: its seq was edited.
			return problem(n, KindBrokenChain, "it records seq %d where seq %d belongs, yet chains to the line before: it was altered", l.seq, n)
		case !linkOK && seqOK && n > 1 && v.authentic(n):
			return problem(n-1, KindBrokenChain, "it no longer hashes to the prev that line %d records: it was altered", n)
		case !linkOK && seqOK && n == 1:
			return problem(n, KindBrokenChain, "its prev is not the genesis hash that starts every log: it was altered or forged")
		case !linkOK && seqOK:
			return problem(n, KindBrokenChain, "its prev is not the hash of the line before: it was altered, inserted or forged")
		case !linkOK && (l.seq < uint64(n) || v.seqAfter(uint64(n), n)):
			return problem(n, KindReordered, "it records seq %d where seq %d belongs: lines were moved or copied", l.seq, n)
		case !linkOK:
			return problem(n, KindSequenceGap, "it records seq %d where seq %d belongs: %s deleted before it", l.seq, n, entries(l.seq-uint64(n), "was", "were"))
		}
		prev = l.hash
	}
	return nil
}

// authentic reports whether line n is vouched for by what follows it: the next line's prev,
// or for the last line the head checkpoint.
func (v *verifier) authentic(n int) bool {
	if n < len(v.lines) {
		next := v.lines[n]
		return next.bad == "" && next.prev == v.lines[n-1].hash
	}
	h, hash := v.head, hexSum(v.lines[n-1].hash)
	return h.exists && h.err == nil && (h.cp.Seq == uint64(n) && h.cp.Hash == hash || h.announces(uint64(n), hash))
}

// committedAt reports whether the head's checkpoint names line k (0: none, the genesis).
func (v *verifier) committedAt(k uint64) bool {
	if k == 0 {
		return v.head.cp.Hash == GenesisHash
	}
	return v.head.cp.Hash == hexSum(v.lines[k-1].hash)
}

// seqAfter reports whether seq is recorded by a line after line n.
func (v *verifier) seqAfter(seq uint64, n int) bool {
	for _, l := range v.lines[n:] {
		if l.bad == "" && l.seq == seq {
			return true
		}
	}
	return false
}

// checkAnchors checks that each anchor's entry is still in the log, unchanged: this is what
// catches a log rewritten together with its head.
func (v *verifier) checkAnchors(anchors []Checkpoint) *Problem {
	anchors = slices.Clone(anchors)
	slices.SortFunc(anchors, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	last := uint64(len(v.lines))
	for _, a := range anchors {
		if a.Seq > last {
			return problem(int(last)+1, KindTruncated, "the anchor %s names seq %d but %s: entries were removed from the end", a, a.Seq, logEnd(last))
		}
		if got := hexSum(v.lines[a.Seq-1].hash); got != strings.ToLower(a.Hash) {
			return problem(int(a.Seq), KindAnchorMismatch, "it does not hash to the anchor %s: the log was rewritten after the anchor was taken", a)
		}
	}
	return nil
}

// checkHead checks the end of a sound chain against audit.head.
func (v *verifier) checkHead() *Problem {
	n := uint64(len(v.lines))
	h := v.head
	switch {
	case !h.exists && n == 0:
		return nil
	case !h.exists:
		return problem(0, KindMissingHead, "%s is missing but the log has %s: it was deleted, or the first append died before writing it", HeadName, entries(n, "", ""))
	case h.err != nil:
		return problem(0, KindHeadMismatch, "%v", h.err)
	case h.cp.Seq > n:
		return problem(int(n)+1, KindTruncated, "%s records seq %d but %s: %s removed from the end", HeadName, h.cp.Seq, logEnd(n), entries(h.cp.Seq-n, "was", "were"))
	case h.cp.Seq == n && n == 0:
		return nil // a first append announced, then stopped before writing its line
	case h.cp.Seq+1 == n && v.committedAt(h.cp.Seq) && h.announces(n, hexSum(v.lines[n-1].hash)):
		// What a crash between an append's line and its commit leaves: the head announced this
		// very line (by its hash) before it was written.
		v.headOneBehind = true
		return nil
	case h.cp.Seq+1 == n && v.committedAt(h.cp.Seq):
		return problem(int(n), KindUnrecorded, "it chains to the log but %s neither records it nor announced it before an append: it was not appended by waasctl", HeadName)
	case h.cp.Seq == 0:
		return problem(1, KindHeadMismatch, "%s records no entry yet, but the log has %s", HeadName, entries(n, "", ""))
	case h.cp.Seq < n && v.committedAt(h.cp.Seq):
		return problem(int(h.cp.Seq)+1, KindHeadMismatch, "the log goes on past %s (seq %d) to seq %d: lines were appended by hand, or a waasctl died between writing a line and its checkpoint", HeadName, h.cp.Seq, n)
	case h.cp.Seq < n:
		return problem(int(h.cp.Seq), KindHeadMismatch, "it does not hash to %s (seq %d): the line or %s was altered", HeadName, h.cp.Seq, HeadName)
	case h.cp.Hash != hexSum(v.lines[n-1].hash):
		return problem(int(n), KindHeadMismatch, "it does not hash to %s (seq %d): the line or %s was altered", HeadName, h.cp.Seq, HeadName)
	}
	return nil
}

func hexSum(s [sha256.Size]byte) string { return hex.EncodeToString(s[:]) }

// entries says "1 entry was" or "3 entries were" (with verbs "was", "were").
func entries(n uint64, one, many string) string {
	s := fmt.Sprintf("%d entries", n)
	verb := many
	if n == 1 {
		s, verb = "1 entry", one
	}
	if verb == "" {
		return s
	}
	return s + " " + verb
}

func logEnd(n uint64) string {
	if n == 0 {
		return "the log is empty"
	}
	return fmt.Sprintf("the log ends at seq %d", n)
}
