package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
type headState struct {
	exists bool
	cp     Checkpoint
	err    error // set when the file exists but is not a checkpoint
}

func readHead(path string) (headState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return headState{}, nil
	}
	if err != nil {
		return headState{}, err
	}
	return parseHead(data), nil
}

func parseHead(data []byte) headState {
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return headState{exists: true, err: errors.New("audit.head is not JSON")}
	}
	if cp.Seq == 0 || !isHash(cp.Hash) {
		return headState{exists: true, err: errors.New("audit.head lacks a seq or a hex SHA-256 hash")}
	}
	return headState{exists: true, cp: cp}
}

// writeHead replaces audit.head atomically, so that a crash leaves the old checkpoint or the
// new one and Verify never reads half of one.
func writeHead(path string, cp Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, append(data, '\n'), 0o600)
}
