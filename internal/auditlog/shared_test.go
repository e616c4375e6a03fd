package auditlog

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Lines chained by EncodeChained, as the team store keeps them, verify with the file's
// verifier; a reordered pair does not.
func TestEncodeChainedLinesVerify(t *testing.T) {
	var lines [][]byte
	prev, last := GenesisHash, Checkpoint{}
	for i := range 3 {
		e, line, err := EncodeChained(Entry{Command: "keys rotate", Action: "rotate.create", Outcome: OutcomeOK, Host: "ci-runner"}, uint64(i+1), prev, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Host != "ci-runner" || e.Who == "" || e.PID == 0 || e.Prev != prev {
			t.Fatalf("entry %+v", e)
		}
		lines = append(lines, line)
		prev = HashLine(line)
		last = Checkpoint{Seq: e.Seq, Hash: prev}
	}
	rep, err := VerifyLines(bytes.NewReader(append(bytes.Join(lines, []byte("\n")), '\n')), last)
	if err != nil || !rep.OK || rep.Entries != 3 {
		t.Fatalf("VerifyLines = %+v, %v", rep, err)
	}
	swapped := [][]byte{lines[0], lines[2], lines[1]}
	if rep, _ := VerifyLines(bytes.NewReader(append(bytes.Join(swapped, []byte("\n")), '\n')), last); rep.OK {
		t.Fatal("a reordered log verified")
	}
	if rep, err := VerifyLines(bytes.NewReader(nil), Checkpoint{}); err != nil || !rep.OK {
		t.Fatalf("an empty log: %+v, %v", rep, err)
	}
	if _, _, err := EncodeChained(Entry{Command: "x", Action: "x", Outcome: "ok", Detail: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oaRBG7tvx0CroAoGCCqGSM49\n-----END EC PRIVATE KEY-----"}, 1, GenesisHash, time.Now(), nil); !errors.Is(err, ErrSecret) {
		t.Fatalf("an entry holding a key: %v", err)
	}
}
