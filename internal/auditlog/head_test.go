package auditlog

import (
	"fmt"
	"strings"
	"testing"
)

// TestHeadParserRefusesMalformedCheckpoints: every way audit.head can be
// malformed is refused with the reason, and the well-formed shapes are
// accepted. Each case differs from an accepted one in one field, so that a
// check that lets that field through fails here.
func TestHeadParserRefusesMalformedCheckpoints(t *testing.T) {
	h1 := strings.Repeat("a1", 32)
	h2 := strings.Repeat("b2", 32)
	for _, tc := range []struct {
		name, head, wantErr string
	}{
		{"a checkpoint", fmt.Sprintf(`{"seq": 5, "hash": %q}`, h1), ""},
		{"a checkpoint with its next entry pending", fmt.Sprintf(`{"seq": 5, "hash": %q, "pending": {"seq": 6, "hash": %q}}`, h1, h2), ""},
		{"the genesis with the first entry pending", fmt.Sprintf(`{"seq": 0, "hash": %q, "pending": {"seq": 1, "hash": %q}}`, GenesisHash, h2), ""},
		{"a hash that is not hex", `{"seq": 5, "hash": "not-a-hash"}`, "lacks a seq or a hex SHA-256 hash"},
		{"no seq", fmt.Sprintf(`{"hash": %q}`, h1), "lacks a seq"},
		{"seq 0 without a pending entry", fmt.Sprintf(`{"seq": 0, "hash": %q}`, GenesisHash), "lacks a seq"},
		{"seq 0 with another hash than the genesis", fmt.Sprintf(`{"seq": 0, "hash": %q, "pending": {"seq": 1, "hash": %q}}`, h1, h2), "lacks a seq"},
		{"a pending entry that skips one", fmt.Sprintf(`{"seq": 5, "hash": %q, "pending": {"seq": 7, "hash": %q}}`, h1, h2), "does not follow its checkpoint"},
		{"a pending entry whose hash is not hex", fmt.Sprintf(`{"seq": 5, "hash": %q, "pending": {"seq": 6, "hash": "zz"}}`, h1), "does not follow its checkpoint"},
		{"not JSON", `seq=5`, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseHead([]byte(tc.head))
			switch {
			case tc.wantErr == "" && got.err != nil:
				t.Fatalf("refused: %v", got.err)
			case tc.wantErr != "" && (got.err == nil || !strings.Contains(got.err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one saying %q", got.err, tc.wantErr)
			}
		})
	}
}

// TestAppendGuardComparesTheLastLineWithTheHead: before appending, the last
// line and the head must agree (or the line be the one the head announced);
// each case differs from an accepted one in one field.
func TestAppendGuardComparesTheLastLineWithTheHead(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 64) }
	head := headState{exists: true, cp: Checkpoint{Seq: 3, Hash: h("3")}}
	announced := headState{exists: true, cp: Checkpoint{Seq: 3, Hash: h("3")}, pending: &Checkpoint{Seq: 4, Hash: h("4")}}
	for _, tc := range []struct {
		name     string
		tail     Checkpoint
		tailPrev string
		head     headState
		want     string // "" when the append may go on
	}{
		{"the last line is the checkpoint", Checkpoint{Seq: 3, Hash: h("3")}, h("2"), head, ""},
		{"the last line has the checkpoint's seq, another hash (rewritten)", Checkpoint{Seq: 3, Hash: h("9")}, h("2"), head, "does not match"},
		{"the last line has the checkpoint's hash, another seq", Checkpoint{Seq: 2, Hash: h("3")}, h("1"), head, "does not match"},
		{"one past the checkpoint, announced", Checkpoint{Seq: 4, Hash: h("4")}, h("3"), announced, ""},
		{"one past the checkpoint, not announced", Checkpoint{Seq: 4, Hash: h("4")}, h("3"), head, "neither recorded nor announced"},
		{"one past the checkpoint, announced with another hash", Checkpoint{Seq: 4, Hash: h("5")}, h("3"), announced, "neither recorded nor announced"},
		{"one past the checkpoint, not chained to it", Checkpoint{Seq: 4, Hash: h("4")}, h("8"), announced, "does not match"},
		{"two past the checkpoint, chained to it", Checkpoint{Seq: 5, Hash: h("4")}, h("3"), announced, "does not match"},
		{"no head and no line", Checkpoint{}, "", headState{}, ""},
		{"no head but lines", Checkpoint{Seq: 1, Hash: h("1")}, GenesisHash, headState{}, "is missing but the log has entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tailMatchesHead(tc.tail, tc.tailPrev, tc.head)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
