package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain doubles the test binary as an appender process for the concurrency test: with
// AUDITLOG_TEST_APPEND_DIR set it appends AUDITLOG_TEST_APPEND_N entries there and exits.
func TestMain(m *testing.M) {
	if dir := os.Getenv("AUDITLOG_TEST_APPEND_DIR"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("AUDITLOG_TEST_APPEND_N"))
		l, err := Open(dir)
		for i := 0; err == nil && i < n; i++ {
			_, err = l.Append(Entry{Command: "test", Action: "append", Outcome: OutcomeOK, Detail: strconv.Itoa(i)})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// newLog returns a log with a pinned clock, a second apart per call.
func newLog(t testing.TB, dir string) *Log {
	t.Helper()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	l.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	return l
}

func sampleEntry(i int) Entry {
	return Entry{
		Who: "alice", Host: "ci-7", PID: 4242, Command: "keys rotate", Profile: "prod",
		Action: "rotate.step", KeyNames: []string{"organizations/3f1c/apiKeys/9a2b"},
		Fingerprints: []string{"SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"},
		Outcome:      OutcomeOK, Detail: fmt.Sprintf("step %d of the rotation", i),
	}
}

// filledLog appends n sample entries in a new folder and returns it with what was appended.
func filledLog(t testing.TB, n int) (string, []Entry) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "audit")
	l := newLog(t, dir)
	var out []Entry
	for i := 1; i <= n; i++ {
		e, err := l.Append(sampleEntry(i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return dir, out
}

func readLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, dir string, anchors ...Checkpoint) Report {
	t.Helper()
	r, err := Verify(dir, anchors...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAppendVerifyRoundTrip(t *testing.T) {
	dir, appended := filledLog(t, 5)

	r := mustVerify(t, dir)
	lines := readLines(t, dir)
	if !r.OK || r.Entries != 5 || r.Problem != nil {
		t.Fatalf("report %+v, problem %v", r, r.Problem)
	}
	if r.Head == nil || r.Head.Seq != 5 || r.Head.Hash != HashLine(bytes.TrimSuffix(lines[4], []byte("\n"))) {
		t.Fatalf("head %+v", r.Head)
	}
	if appended[0].Prev != GenesisHash || appended[1].Prev != HashLine(bytes.TrimSuffix(lines[0], []byte("\n"))) {
		t.Fatalf("prev of entries 1, 2: %s, %s", appended[0].Prev, appended[1].Prev)
	}

	var read []Entry
	for e, err := range Read(dir) {
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, e)
	}
	if !reflect.DeepEqual(read, appended) {
		t.Fatalf("read back\n%+v\nappended\n%+v", read, appended)
	}
	for i, e := range read {
		if e.Seq != uint64(i+1) || e.Time.Location() != time.UTC {
			t.Fatalf("entry %d: seq %d, time %v", i, e.Seq, e.Time)
		}
	}

	for name, want := range map[string]os.FileMode{".": 0o700, FileName: 0o600, HeadName: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, err %v; want %v", name, fi.Mode().Perm(), err, want)
		}
	}
}

func TestAppendFillsIdentity(t *testing.T) {
	l := newLog(t, t.TempDir())
	e, err := l.Append(Entry{Command: "log verify", Action: "test", Outcome: OutcomeOK})
	if err != nil {
		t.Fatal(err)
	}
	if e.Who == "" || e.PID != os.Getpid() {
		t.Fatalf("who %q pid %d", e.Who, e.PID)
	}
	if h, _ := os.Hostname(); e.Host != h {
		t.Fatalf("host %q, want %q", e.Host, h)
	}
}

func TestMissingLogVerifies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-created")
	r := mustVerify(t, dir)
	if !r.OK || r.Entries != 0 || r.Head != nil {
		t.Fatalf("report %+v", r)
	}
	for range Read(dir) {
		t.Fatal("Read of a missing log yielded something")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("Verify created the folder")
	}
}

// mutation changes the lines of a 5-entry log and/or its head; nil lines delete the file,
// nil head deletes audit.head.
type mutation func(lines [][]byte, head []byte) ([][]byte, []byte)

func TestTamperingIsDetected(t *testing.T) {
	const n = 5
	forge := func(seq int, prev string) []byte {
		e := sampleEntry(99)
		e.Seq, e.Prev, e.Time = uint64(seq), prev, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		b, _ := marshalLine(e)
		return append(b, '\n')
	}
	hashOf := func(line []byte) string { return HashLine(bytes.TrimSuffix(line, []byte("\n"))) }
	headFor := func(seq int, hash string) []byte {
		return []byte(fmt.Sprintf(`{"seq":%d,"hash":"%s"}`, seq, hash))
	}
	for _, tc := range []struct {
		name   string
		mutate mutation
		kind   Kind
		line   int
	}{
		{"delete a middle line", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return append(l[:2:2], l[3:]...), h
		}, KindSequenceGap, 3},
		{"delete the first line", func(l [][]byte, h []byte) ([][]byte, []byte) { return l[1:], h }, KindSequenceGap, 1},
		{"swap two middle lines", func(l [][]byte, h []byte) ([][]byte, []byte) {
			l[1], l[2] = l[2], l[1]
			return l, h
		}, KindReordered, 2},
		{"swap the last two lines", func(l [][]byte, h []byte) ([][]byte, []byte) {
			l[3], l[4] = l[4], l[3]
			return l, h
		}, KindReordered, 4},
		{"copy a line", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return append(l[:3:3], append([][]byte{l[2]}, l[3:]...)...), h
		}, KindReordered, 4},
		{"truncate the last line", func(l [][]byte, h []byte) ([][]byte, []byte) { return l[:4], h }, KindTruncated, 5},
		{"truncate the last two lines", func(l [][]byte, h []byte) ([][]byte, []byte) { return l[:3], h }, KindTruncated, 4},
		{"empty the file", func(l [][]byte, h []byte) ([][]byte, []byte) { return [][]byte{}, h }, KindTruncated, 1},
		{"delete the file", func(l [][]byte, h []byte) ([][]byte, []byte) { return nil, h }, KindTruncated, 1},
		{"cut the last line short", func(l [][]byte, h []byte) ([][]byte, []byte) {
			l[4] = l[4][:len(l[4])/2]
			return l, h
		}, KindCorrupt, 5},
		{"append an empty line", func(l [][]byte, h []byte) ([][]byte, []byte) { return append(l, []byte("\n")), h }, KindCorrupt, 6},
		{"append a forged line with a wrong prev", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return append(l, forge(6, strings.Repeat("ab", 32))), h
		}, KindBrokenChain, 6},
		{"append one forged line that chains, head untouched", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return append(l, forge(6, hashOf(l[4]))), h
		}, KindUnrecorded, 6},
		{"roll the head back one entry", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return l, headFor(4, hashOf(l[3]))
		}, KindUnrecorded, 5},
		{"append two forged lines that chain, head untouched", func(l [][]byte, h []byte) ([][]byte, []byte) {
			six := forge(6, hashOf(l[4]))
			return append(l, six, forge(7, hashOf(six))), h
		}, KindHeadMismatch, 6},
		{"replace a middle line with a forgery", func(l [][]byte, h []byte) ([][]byte, []byte) {
			l[2] = forge(3, hashOf(l[1]))
			return l, h
		}, KindBrokenChain, 3},
		{"end lines with CRLF", func(l [][]byte, h []byte) ([][]byte, []byte) {
			l[1] = append(bytes.TrimSuffix(l[1], []byte("\n")), '\r', '\n')
			return l, h
		}, KindBrokenChain, 2},
		{"edit the head's hash", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return l, headFor(5, strings.Repeat("0", 64))
		}, KindHeadMismatch, 5},
		{"roll the head back two entries", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return l, headFor(3, hashOf(l[2]))
		}, KindHeadMismatch, 4},
		{"lower the head's seq only", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return l, bytes.Replace(h, []byte(`"seq":5`), []byte(`"seq":4`), 1)
		}, KindHeadMismatch, 4},
		{"raise the head's seq", func(l [][]byte, h []byte) ([][]byte, []byte) {
			return l, bytes.Replace(h, []byte(`"seq":5`), []byte(`"seq":6`), 1)
		}, KindTruncated, 6},
		// Every line forged and chained from a false genesis, the head moved to match: only the
		// first line's prev gives it away, and the problem is on line 1 (found by mutation
		// testing: nothing checked the n > 1 that keeps line 1 out of the "next line vouches
		// for it" case).
		{"forge the whole log from another genesis", func(l [][]byte, h []byte) ([][]byte, []byte) {
			forged := [][]byte{forge(1, strings.Repeat("ab", 32))}
			for seq := 2; seq <= len(l); seq++ {
				forged = append(forged, forge(seq, hashOf(forged[len(forged)-1])))
			}
			return forged, headFor(len(forged), hashOf(forged[len(forged)-1]))
		}, KindBrokenChain, 1},
		{"delete the head", func(l [][]byte, h []byte) ([][]byte, []byte) { return l, nil }, KindMissingHead, 0},
		{"garble the head", func(l [][]byte, h []byte) ([][]byte, []byte) { return l, []byte("{") }, KindHeadMismatch, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := filledLog(t, n)
			head, err := os.ReadFile(filepath.Join(dir, HeadName))
			if err != nil {
				t.Fatal(err)
			}
			lines, head := tc.mutate(readLines(t, dir), head)
			applyMutation(t, dir, lines, head)
			r := mustVerify(t, dir)
			checkProblem(t, r, tc.kind, tc.line)
			// Where the kind alone does not say it, the detail must: a responder reads it.
			if want, ok := detailSays[tc.name]; ok && !strings.Contains(r.Problem.Detail, want) {
				t.Fatalf("detail %q, want it to say %q", r.Problem.Detail, want)
			}
		})
	}
}

// detailSays is what the problem's detail must say for some cases of TestTamperingIsDetected.
var detailSays = map[string]string{
	"forge the whole log from another genesis": "not the genesis hash",
}

func applyMutation(t *testing.T, dir string, lines [][]byte, head []byte) {
	t.Helper()
	if lines == nil {
		os.Remove(filepath.Join(dir, FileName))
	} else {
		writeFile(t, dir, FileName, bytes.Join(lines, nil))
	}
	if head == nil {
		os.Remove(filepath.Join(dir, HeadName))
	} else {
		writeFile(t, dir, HeadName, head)
	}
}

func checkProblem(t *testing.T, r Report, kind Kind, line int) {
	t.Helper()
	if r.OK || r.Problem == nil {
		t.Fatalf("tampered log verified: %+v", r)
	}
	if r.Problem.Kind != kind || r.Problem.Line != line {
		t.Fatalf("got %s, want %s at line %d", r.Problem, kind, line)
	}
	if want := max(line-1, 0); line > 0 && r.Entries != want {
		t.Fatalf("entries %d, want %d (%s)", r.Entries, want, r.Problem)
	}
}

// TestFlippedByteIsDetected changes one byte of one line of a 5-entry log at several places,
// and expects the problem on that very line.
func TestFlippedByteIsDetected(t *testing.T) {
	otherHex := func(c byte) byte {
		if c == '0' {
			return '1'
		}
		return '0'
	}
	for _, tc := range []struct {
		name  string
		line  int
		after string // flip the byte just after this text in the line ("" = the first byte)
		to    func(byte) byte
		kind  Kind
	}{
		{"opening brace", 3, "", func(byte) byte { return '[' }, KindCorrupt},
		{"seq digit", 3, `"seq":`, func(byte) byte { return '7' }, KindBrokenChain},
		{"time digit", 3, `"time":"2026-03-01T12:00:0`, func(byte) byte { return '9' }, KindBrokenChain},
		{"who", 3, `"who":"`, func(byte) byte { return 'm' }, KindBrokenChain},
		{"pid digit", 3, `"pid":`, func(byte) byte { return '5' }, KindBrokenChain},
		{"fingerprint", 3, `"fingerprints":["SHA256:`, func(byte) byte { return 'X' }, KindBrokenChain},
		{"detail", 3, `"detail":"step `, func(byte) byte { return '8' }, KindBrokenChain},
		{"prev, still hex", 3, `"prev":"`, otherHex, KindBrokenChain},
		{"prev, not hex", 3, `"prev":"`, func(byte) byte { return 'g' }, KindCorrupt},
		{"key of a field", 3, `"`, func(byte) byte { return 'z' }, KindCorrupt},
		{"closing brace", 3, `"prev":"` + strings.Repeat("?", 64) + `"`, func(byte) byte { return ']' }, KindCorrupt},
		{"newline becomes a space", 3, "\x00newline", func(byte) byte { return ' ' }, KindCorrupt},
		{"a byte becomes a newline", 3, `"outcome":"o`, func(byte) byte { return '\n' }, KindCorrupt},
		{"first line", 1, `"detail":"step `, func(byte) byte { return '8' }, KindBrokenChain},
		{"first line's prev", 1, `"prev":"`, otherHex, KindBrokenChain},
		{"last line", 5, `"detail":"step `, func(byte) byte { return '8' }, KindHeadMismatch},
		{"last line's seq", 5, `"seq":`, func(byte) byte { return '4' }, KindBrokenChain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := filledLog(t, 5)
			lines := readLines(t, dir)
			l := lines[tc.line-1]
			i := flipIndex(t, l, tc.after)
			before := l[i]
			l[i] = tc.to(l[i])
			if l[i] == before {
				t.Fatalf("flip left byte %d (%q) unchanged", i, before)
			}
			writeFile(t, dir, FileName, bytes.Join(lines, nil))
			checkProblem(t, mustVerify(t, dir), tc.kind, tc.line)
		})
	}
}

// flipIndex finds the byte to flip: the one after `after` in line, where '?' in after matches
// any byte and "\x00newline" means the line's newline.
func flipIndex(t *testing.T, line []byte, after string) int {
	t.Helper()
	if after == "\x00newline" {
		return len(line) - 1
	}
	for i := 0; i+len(after) <= len(line); i++ {
		match := true
		for j := 0; j < len(after); j++ {
			if after[j] != '?' && after[j] != line[i+j] {
				match = false
				break
			}
		}
		if match {
			return i + len(after)
		}
	}
	t.Fatalf("%q not in %s", after, line)
	return 0
}

func TestAppendRefusesADamagedLog(t *testing.T) {
	dir, _ := filledLog(t, 4)
	lines := readLines(t, dir)
	writeFile(t, dir, FileName, bytes.Join(lines[:3], nil))
	headBefore, _ := os.ReadFile(filepath.Join(dir, HeadName))

	_, err := newLog(t, dir).Append(sampleEntry(9))
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "waasctl log verify") {
		t.Fatalf("append to a truncated log: %v", err)
	}
	// Appending would have replaced the head and erased the evidence of the truncation.
	headAfter, _ := os.ReadFile(filepath.Join(dir, HeadName))
	if !bytes.Equal(headBefore, headAfter) {
		t.Fatal("a refused append changed the head")
	}
	checkProblem(t, mustVerify(t, dir), KindTruncated, 4)

	// Half a line at the end is refused too, rather than glued to.
	dir, _ = filledLog(t, 2)
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":3,"ti`)
	f.Close()
	if _, err := newLog(t, dir).Append(sampleEntry(9)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("append after half a line: %v", err)
	}
}

// crashAppend runs the steps of an Append on dir up to and including stop ("announce" or
// "line"), and then lets go as a killed waasctl would, without the steps after.
func crashAppend(t *testing.T, dir string, e Entry, stop string) {
	t.Helper()
	a, err := newLog(t, dir).begin(e)
	if err != nil {
		t.Fatal(err)
	}
	defer a.end()
	if err := a.announce(); err != nil {
		t.Fatal(err)
	}
	if stop == "line" {
		if err := a.writeLine(); err != nil {
			t.Fatal(err)
		}
	}
}

// A crash between an append's steps leaves a head that announced the entry: Verify passes with a
// note, and the next Append carries on (committing the line if it was written).
func TestAppendRecoversFromACrashBetweenItsSteps(t *testing.T) {
	for _, entries := range []int{0, 3} {
		for _, stop := range []string{"announce", "line"} {
			dir, _ := filledLog(t, entries)
			crashAppend(t, dir, sampleEntry(8), stop)
			written := entries
			if stop == "line" {
				written++
			}
			r := mustVerify(t, dir)
			// The note says which of the two crashes it was.
			wantNote := "which was never written"
			if stop == "line" {
				wantNote = "announced in audit.head but not committed"
			}
			if !r.OK || r.Entries != written || !strings.Contains(r.Note, wantNote) {
				t.Fatalf("%d entries, stopped after %s: %+v %v; want a note saying %q", entries, stop, r, r.Problem, wantNote)
			}
			if _, err := newLog(t, dir).Append(sampleEntry(9)); err != nil {
				t.Fatalf("%d entries, stopped after %s: %v", entries, stop, err)
			}
			if r := mustVerify(t, dir); !r.OK || r.Entries != written+1 || r.Note != "" {
				t.Fatalf("%d entries, stopped after %s: after the next append: %+v %v", entries, stop, r, r.Problem)
			}
		}
	}
}

// forgeNext appends to the log in dir an entry that chains correctly, as anyone who can write
// the file could, without touching audit.head.
func forgeNext(t *testing.T, dir string) {
	t.Helper()
	var lines [][]byte
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		lines = readLines(t, dir)
	}
	e := sampleEntry(66)
	e.Seq, e.Time, e.Detail = uint64(len(lines)+1), time.Now().UTC(), "forged"
	e.Prev = GenesisHash
	if len(lines) > 0 {
		e.Prev = HashLine(bytes.TrimSuffix(lines[len(lines)-1], []byte("\n")))
	}
	line, err := marshalLine(e)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(append(line, '\n'))
	f.Close()
}

// One correctly chained line appended behind waasctl's back used to pass as "a head one entry
// behind after a crash", and the next append adopted it. Now Verify names it and Append refuses.
func TestAForgedAppendedEntryIsCaught(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string
	}{
		{"after a committed append", func(t *testing.T) string { dir, _ := filledLog(t, 3); return dir }},
		// The head announced another line, which a crash kept from being written.
		{"after an append that stopped before its line", func(t *testing.T) string {
			dir, _ := filledLog(t, 3)
			crashAppend(t, dir, sampleEntry(8), "announce")
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			forgeNext(t, dir)
			checkProblem(t, mustVerify(t, dir), KindUnrecorded, 4)
			before := readLines(t, dir)
			_, err := newLog(t, dir).Append(sampleEntry(9))
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "seq 4") || !strings.Contains(err.Error(), "not appended by waasctl") {
				t.Fatalf("append after a forged entry: %v", err)
			}
			if after := readLines(t, dir); len(after) != len(before) {
				t.Fatalf("the refused append wrote a line")
			}
			checkProblem(t, mustVerify(t, dir), KindUnrecorded, 4)
		})
	}
	// The first line of a log, forged into an empty folder without a head, is no crash either:
	// a first append announces its line in a head before writing it.
	dir := filepath.Join(t.TempDir(), "audit")
	newLog(t, dir)
	forgeNext(t, dir)
	checkProblem(t, mustVerify(t, dir), KindMissingHead, 0)
	if _, err := newLog(t, dir).Append(sampleEntry(9)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("append after a forged first entry: %v", err)
	}
}

func TestHeadWithoutLogIsTruncation(t *testing.T) {
	dir, _ := filledLog(t, 2)
	os.Remove(filepath.Join(dir, FileName))
	checkProblem(t, mustVerify(t, dir), KindTruncated, 1)
}

func TestSecretsAreRefused(t *testing.T) {
	const pemBody = "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oGVQ7N4qn5fRoAoGCCqGSM49AwEHoUQDQgAEBHCHzZL"
	for _, e := range []Entry{
		{Command: "keys rotate", Action: "x", Outcome: "ok", Detail: "-----BEGIN EC PRIVATE KEY-----\n" + pemBody + "\n-----END EC PRIVATE KEY-----"},
		{Command: "keys rotate", Action: "x", Outcome: "ok", Detail: "key was " + pemBody},
		{Command: "keys rotate", Action: "x", Outcome: "ok", KeyNames: []string{pemBody}},
		{Command: "keys rotate", Action: "x", Outcome: "ok", Detail: "jwt sig " + strings.ReplaceAll(strings.ReplaceAll(pemBody, "+", "-"), "/", "_")},
	} {
		l := newLog(t, t.TempDir())
		_, err := l.Append(e)
		if !errors.Is(err, ErrSecret) {
			t.Fatalf("%+v: err = %v", e, err)
		}
		if strings.Contains(err.Error(), pemBody[:16]) {
			t.Fatalf("the error echoes the secret: %v", err)
		}
		if _, err := os.Stat(filepath.Join(l.Dir(), FileName)); err == nil {
			t.Fatal("a refused entry created the log")
		}
	}
	// What the log is for must still pass.
	l := newLog(t, t.TempDir())
	for _, e := range []Entry{
		sampleEntry(1),
		{Command: "keys rotate", Action: "x", Outcome: "ok", KeyNames: []string{"organizations/4b5c7d9e-1f2a-4b3c-8d9e-0f1a2b3c4d5e/apiKeys/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"}},
		{Command: "keys rotate", Action: "x", Outcome: "ok", Detail: "prev head " + strings.Repeat("0123456789abcdef", 4)},
		{Command: "keys rotate", Action: "x", Outcome: "ok", Detail: "wrote /home/Alice/Projects2026/waasProxy/deploy/Config/Production/Env/Secrets/File1"},
		// Words about keys are what an incident records: only key material is refused.
		{Command: "keys revoke", Action: "revoke", Outcome: "ok", Detail: "an ec private key"},
		{Command: "keys revoke", Action: "revoke", Outcome: "failed", Detail: "private key pasted in a public issue"},
		{Command: "keys rotate", Action: "rotate.create", Outcome: "failed", Detail: "rotation 0190c0de-0000-7000-8000-000000000000: issuer command \"vault\" create: private key is truncated or corrupt"},
	} {
		if _, err := l.Append(e); err != nil {
			t.Fatalf("%+v refused: %v", e, err)
		}
	}
}

func TestReadStopsAtACorruptLine(t *testing.T) {
	dir, _ := filledLog(t, 3)
	lines := readLines(t, dir)
	lines[1] = []byte("not json\n")
	writeFile(t, dir, FileName, bytes.Join(lines, nil))
	var got int
	var err error
	for _, err = range Read(dir) {
		if err != nil {
			break
		}
		got++
	}
	if got != 1 || err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("read %d entries, then %v", got, err)
	}
}

func TestAnchorsCatchARewrittenLog(t *testing.T) {
	dir, _ := filledLog(t, 3)
	anchor := mustVerify(t, dir).Head
	l := newLog(t, dir)
	for i := 0; i < 2; i++ {
		if _, err := l.Append(sampleEntry(10 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if r := mustVerify(t, dir, *anchor); !r.OK {
		t.Fatalf("the log still holds the anchor: %v", r.Problem)
	}

	// Whoever can write both files can forge a consistent log: only the anchor sees it.
	forged := filepath.Join(t.TempDir(), "audit")
	fl := newLog(t, forged)
	for i := 0; i < 5; i++ {
		e := sampleEntry(i)
		e.Detail = "nothing to see"
		if _, err := fl.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{FileName, HeadName} {
		data, _ := os.ReadFile(filepath.Join(forged, name))
		writeFile(t, dir, name, data)
	}
	if r := mustVerify(t, dir); !r.OK {
		t.Fatalf("a consistent forgery is expected to verify without an anchor: %v", r.Problem)
	}
	checkProblem(t, mustVerify(t, dir, *anchor), KindAnchorMismatch, 3)

	// An anchor past the end is a truncation.
	late := Checkpoint{Seq: 9, Hash: anchor.Hash}
	checkProblem(t, mustVerify(t, dir, late), KindTruncated, 6)
}

func TestParseCheckpoint(t *testing.T) {
	cp := Checkpoint{Seq: 17, Hash: strings.Repeat("ab", 32)}
	got, err := ParseCheckpoint(cp.String())
	if err != nil || got != cp {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if up, err := ParseCheckpoint(strings.ToUpper(cp.String())); err != nil || up != cp {
		t.Fatalf("upper case: %+v, %v", up, err)
	}
	for _, bad := range []string{"", "17", "0:" + cp.Hash, "x:" + cp.Hash, "17:abc", "17:" + strings.Repeat("zz", 32)} {
		if _, err := ParseCheckpoint(bad); err == nil {
			t.Errorf("ParseCheckpoint(%q) accepted", bad)
		}
	}
}

func TestConcurrentAppendsWithinAProcess(t *testing.T) {
	dir := t.TempDir()
	const goroutines, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Go(func() {
			l, err := Open(dir) // a Log each, as separate commands would have
			for i := 0; err == nil && i < each; i++ {
				_, err = l.Append(sampleEntry(i))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if r := mustVerify(t, dir); !r.OK || r.Entries != goroutines*each {
		t.Fatalf("report %+v %v", r, r.Problem)
	}
}

func TestConcurrentAppendsFromTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	const each = 50
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "AUDITLOG_TEST_APPEND_DIR="+dir, "AUDITLOG_TEST_APPEND_N="+strconv.Itoa(each))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("appender %d stderr: %s", cmd.Process.Pid, stderr.String())
			}
		})
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("appender: %v", err)
		}
	}
	r := mustVerify(t, dir)
	if !r.OK || r.Entries != 2*each {
		t.Fatalf("report %+v %v", r, r.Problem)
	}
	perPID := map[int]int{}
	for e, err := range Read(dir) {
		if err != nil {
			t.Fatal(err)
		}
		perPID[e.PID]++
	}
	for _, cmd := range cmds {
		if perPID[cmd.Process.Pid] != each {
			t.Fatalf("entries per process: %v", perPID)
		}
	}
}

// TestWriteSample writes the 3-entry log that cmd/waasctl/testdata/script/log.txtar plants,
// when AUDITLOG_SAMPLE_DIR names a folder: everything in it is pinned, so it is the same each
// time. Regenerate with
//
//	AUDITLOG_SAMPLE_DIR=/tmp/sample go test ./internal/auditlog -run TestWriteSample
func TestWriteSample(t *testing.T) {
	dir := os.Getenv("AUDITLOG_SAMPLE_DIR")
	if dir == "" {
		t.Skip("AUDITLOG_SAMPLE_DIR not set")
	}
	l := newLog(t, dir)
	fp := "SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"
	for _, e := range []Entry{
		{Command: "keys rotate", Profile: "prod", Action: "rotate.create", KeyNames: []string{"organizations/org-1/apiKeys/key-2"}, Fingerprints: []string{fp}, Outcome: OutcomeOK},
		{Command: "keys rotate", Profile: "prod", Action: "rotate.promote", KeyNames: []string{"organizations/org-1/apiKeys/key-2"}, Fingerprints: []string{fp}, Outcome: OutcomeOK},
		{Command: "keys revoke", Profile: "staging", Action: "revoke", KeyNames: []string{"organizations/org-1/apiKeys/key-1"}, Outcome: OutcomeFailed, Detail: "the key was still accepted"},
	} {
		e.Who, e.Host, e.PID = "alice", "build-7", 4242
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendGivesUpOnAStuckLock(t *testing.T) {
	dir := t.TempDir()
	l := newLog(t, dir)
	unlock, err := lock(filepath.Join(dir, lockName), true)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 50 * time.Millisecond
	if _, err := l.Append(sampleEntry(1)); err == nil || !strings.Contains(err.Error(), "locked by another waasctl") {
		t.Fatalf("err = %v", err)
	}
}
