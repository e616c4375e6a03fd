package auditlog

import (
	"io"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
)

// EncodeChained prepares e to follow the entry (seq-1, prev) in a store other than the file: the
// team store (internal/team) keeps the same lines in a table, chained the same way, so that one
// verifier reads both. It refuses an entry that looks like it holds a secret (ErrSecret) as
// Append does, fills in who, host and pid unless set, sets Seq, Prev and Time, and returns the
// entry and its line (without a newline).
func EncodeChained(e Entry, seq uint64, prev string, now time.Time, guard *credentials.Guard) (Entry, []byte, error) {
	if err := checkNoSecrets(e, guard); err != nil {
		return Entry{}, nil, err
	}
	fillIdentity(&e)
	e.Seq, e.Prev, e.Time = seq, prev, now.UTC()
	line, err := marshalLine(e)
	if err != nil {
		return Entry{}, nil, err
	}
	return e, line, nil
}

// VerifyLines checks a log kept outside the file (the team store's table): r holds its lines in
// order, one entry each, and last is the store's record of its last entry (seq 0 for none). It
// checks what Verify checks, with last in the place of audit.head. A store whose lines and last
// entry are written in one transaction cannot tell a cut-off end from a shorter log: anchors can.
func VerifyLines(r io.Reader, last Checkpoint, anchors ...Checkpoint) (Report, error) {
	head := headState{exists: true, cp: last}
	if last.Seq == 0 {
		head.cp.Hash = GenesisHash
	}
	return verify(r, head, anchors)
}
