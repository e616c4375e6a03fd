package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// Checkpoint names one entry by its seq and line hash. The head checkpoint in audit.head names
// the last entry; a copy kept somewhere else (a CI log, a ticket) is an anchor that Verify can
// check the log against later.
type Checkpoint struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time,omitzero"`
}

// String is the SEQ:HASH form that ParseCheckpoint reads and `log verify --anchor` takes.
func (c Checkpoint) String() string { return strconv.FormatUint(c.Seq, 10) + ":" + c.Hash }

// ParseCheckpoint reads the SEQ:HASH form of a checkpoint.
func ParseCheckpoint(s string) (Checkpoint, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || !isHash(strings.ToLower(hash)) {
		return Checkpoint{}, fmt.Errorf("checkpoint %q: want SEQ:HASH, e.g. 17:<64 hex digits>, as `waasctl log verify` prints it", s)
	}
	return Checkpoint{Seq: n, Hash: strings.ToLower(hash)}, nil
}

// headState is what audit.head holds, read once.
//
// The head is written in two phases around each append, so that a crash between the line and
// the head can be told from a line nobody appended through waasctl: first the head announces the
// entry about to be appended (pending: its seq and line hash), then the line is written, then the
// head commits it (pending gone). A line past the committed checkpoint is forgiven only when the
// head announced exactly that line; nobody can write a line that hashes to an announced hash
// without the announcing waasctl's entry. The head of a log with no committed entry yet is seq 0
// with the genesis hash.
type headState struct {
	exists  bool
	cp      Checkpoint  // the last committed entry; seq 0 and GenesisHash for none
	pending *Checkpoint // the entry an unfinished append announced, or nil
	err     error       // set when the file exists but is not a checkpoint
}

// headFile is audit.head on disk: the committed checkpoint and, between an append's first and
// last step, the entry it is appending. A head without pending reads as before.
type headFile struct {
	Seq     uint64      `json:"seq"`
	Hash    string      `json:"hash"`
	Time    time.Time   `json:"time,omitzero"`
	Pending *Checkpoint `json:"pending,omitempty"`
}

func readHead(path string) (headState, error) {
	data, err := fsutil.ReadFileNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return headState{}, nil
	}
	if err != nil {
		return headState{}, err
	}
	return parseHead(data), nil
}

func parseHead(data []byte) headState {
	var h headFile
	if err := json.Unmarshal(data, &h); err != nil {
		return headState{exists: true, err: errors.New("audit.head is not JSON")}
	}
	cp := Checkpoint{Seq: h.Seq, Hash: h.Hash, Time: h.Time}
	switch {
	case !isHash(h.Hash) || h.Seq == 0 && (h.Hash != GenesisHash || h.Pending == nil):
		return headState{exists: true, err: errors.New("audit.head lacks a seq or a hex SHA-256 hash")}
	case h.Pending != nil && (h.Pending.Seq != h.Seq+1 || !isHash(h.Pending.Hash)):
		return headState{exists: true, err: errors.New("audit.head announces a pending entry that does not follow its checkpoint")}
	}
	return headState{exists: true, cp: cp, pending: h.Pending}
}

// announces reports whether the head announced seq with the line hash hash as pending.
func (h headState) announces(seq uint64, hash string) bool {
	return h.pending != nil && h.pending.Seq == seq && h.pending.Hash == hash
}

// writeHead replaces audit.head atomically, so that a crash leaves the old checkpoint or the
// new one and Verify never reads half of one.
func writeHead(path string, cp Checkpoint, pending *Checkpoint) error {
	data, err := json.Marshal(headFile{Seq: cp.Seq, Hash: cp.Hash, Time: cp.Time, Pending: pending})
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, append(data, '\n'), 0o600)
}
