package rotation

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

const testKeyName = "organizations/2d8b1c7e-0c4f-4b6a-9a51-3f1e2d4c5b6a/apiKeys/8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b"

func newTestJournal(t *testing.T) *Journal {
	t.Helper()
	j, err := NewJournal("prod", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// fullJournal is a rotation that got as far as promote, with every field set.
func fullJournal(t *testing.T) *Journal {
	t.Helper()
	j := newTestJournal(t)
	j.RequestID = "6f1c9a52-7d0e-4a8b-9c3d-2e1f0a9b8c7d"
	j.OldKey = KeyRef{Name: testKeyName, Fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}
	j.NewKey = KeyRef{Name: strings.Replace(testKeyName, "8f7e", "1a2b", 1), Fingerprint: "SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"}
	for _, s := range []Step{StepCreate, StepVerify, StepDeliver} {
		if err := j.Advance(s, "entering "+string(s)); err != nil {
			t.Fatal(err)
		}
	}
	j.RecordSink(SinkResult{Name: "envfile /etc/waas-proxy/.env", Type: "envfile", Error: "exit status 1", At: time.Now().UTC()})
	j.RecordSink(SinkResult{Name: "envfile /etc/waas-proxy/.env", Type: "envfile", DeliveredFingerprint: j.NewKey.Fingerprint, At: time.Now().UTC()})
	j.RecordSink(SinkResult{Name: "exec vault", Type: "exec", DeliveredFingerprint: j.NewKey.Fingerprint, At: time.Now().UTC()})
	for _, s := range []Step{StepObserve, StepPromote} {
		if err := j.Advance(s, "entering "+string(s)); err != nil {
			t.Fatal(err)
		}
	}
	j.GraceUntil = time.Now().UTC().Add(24 * time.Hour)
	return j
}

func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if j, err := LoadJournal(dir, "prod"); j != nil || err != nil {
		t.Fatalf("no journal yet: %v, %v", j, err)
	}
	j := fullJournal(t)
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadJournal(dir, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, j) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(j)
		t.Fatalf("round trip:\n got %s\nwant %s", a, b)
	}
	if len(got.Sinks) != 2 || got.Sinks[0].Error != "" || got.Sinks[0].DeliveredFingerprint == "" {
		t.Fatalf("RecordSink did not replace the earlier outcome: %+v", got.Sinks)
	}
	if j, _ := LoadJournal(dir, "staging"); j != nil {
		t.Fatal("another profile's journal")
	}
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "journals"): 0o700, journalPath(dir, "prod"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestJournalFailedSaveLeavesTheOldOne(t *testing.T) {
	dir := t.TempDir()
	j := newTestJournal(t)
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(journalPath(dir, "prod"))

	// The disk fills up half way through the next write.
	boom := errors.New("no space left on device")
	writeAtomic = func(path string, perm os.FileMode, write func(io.Writer) error) error {
		return fsutil.Write(path, perm, func(w io.Writer) error {
			if err := write(&halfWriter{w: w}); err != nil {
				return err
			}
			return boom
		})
	}
	t.Cleanup(func() { writeAtomic = fsutil.Write })

	if err := j.Advance(StepCreate, "about to create"); err != nil {
		t.Fatal(err)
	}
	j.RequestID = "6f1c9a52-7d0e-4a8b-9c3d-2e1f0a9b8c7d"
	if err := j.Save(dir); !errors.Is(err, boom) {
		t.Fatalf("save: %v", err)
	}
	now, _ := os.ReadFile(journalPath(dir, "prod"))
	if string(now) != string(old) {
		t.Fatal("a failed save changed the journal")
	}
	got, err := LoadJournal(dir, "prod")
	if err != nil || got.Step != StepPreflight || got.RequestID != "" {
		t.Fatalf("after a failed save: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "journals"))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

type halfWriter struct {
	w       io.Writer
	written bool
}

func (h *halfWriter) Write(p []byte) (int, error) {
	if !h.written {
		h.written = true
		return h.w.Write(p[:len(p)/2])
	}
	return len(p), nil
}

// A journal writer killed at random moments always leaves a journal that loads.
func TestJournalSurvivesKillMidSave(t *testing.T) {
	dir := t.TempDir()
	for _, killAt := range []int{2, 3, 17, 50, 51} {
		h := startHelper(t, "journal", "HELPER_DIR="+dir, "HELPER_KILL_AT="+strconv.Itoa(killAt))
		if got := h.line(); got != "mid-save" {
			t.Fatal(got)
		}
		_ = h.cmd.Process.Kill()
		h.exited()
		// The journal on disk is the last complete save, intact, never a mix.
		j, err := LoadJournal(dir, "prod")
		if err != nil || j == nil {
			t.Fatalf("killed in save %d: %v, %v", killAt, j, err)
		}
		want := "save " + strconv.Itoa(killAt-1) + " "
		if last := j.Events[len(j.Events)-1].Message; !strings.HasPrefix(last, want) {
			t.Fatalf("killed in save %d: the journal's last event is %q, want the one of save %d", killAt, last, killAt-1)
		}
	}
}

func TestJournalStepOrder(t *testing.T) {
	want := []Step{"preflight", "create", "verify", "deliver", "observe", "promote", "revoke", "done"}
	if got := Steps(); !slices.Equal(got, want) {
		t.Fatalf("Steps() = %v", got)
	}
	at := func(s Step) *Journal {
		j := newTestJournal(t)
		j.Step = s
		return j
	}
	tests := []struct {
		from, to Step
		ok       bool
		why      string
	}{
		{StepPreflight, StepCreate, true, ""},
		{StepRevoke, StepDone, true, ""},
		{StepDeliver, StepDeliver, true, ""},
		{StepDone, StepDone, true, ""},
		{StepCreate, StepAborted, true, ""},
		{StepRevoke, StepAborted, true, ""},
		{StepAborted, StepAborted, true, ""},
		{StepVerify, StepCreate, false, "cannot go back"},
		{StepPromote, StepPreflight, false, "cannot go back"},
		{StepCreate, StepDeliver, false, "cannot skip to deliver (verify comes first)"},
		{StepVerify, StepRevoke, false, "cannot skip"},
		{StepDone, StepAborted, false, "is done"},
		{StepAborted, StepPreflight, false, "is aborted"},
		{StepAborted, StepDone, false, "is aborted"},
		{StepCreate, "rollback", false, "unknown step"},
	}
	for _, tt := range tests {
		j := at(tt.from)
		before := len(j.Events)
		err := j.Advance(tt.to, "msg")
		if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%s -> %s: %v", tt.from, tt.to, err)
			continue
		}
		switch {
		case tt.ok && (j.Step != tt.to || len(j.Events) != before+1 || j.Events[len(j.Events)-1].Step != tt.to):
			t.Errorf("%s -> %s: step %s, events %d", tt.from, tt.to, j.Step, len(j.Events))
		case !tt.ok && (j.Step != tt.from || len(j.Events) != before):
			t.Errorf("%s -> %s refused, yet changed the journal", tt.from, tt.to)
		}
	}

	// The whole way through, one step at a time.
	j := newTestJournal(t)
	start := j.UpdatedAt
	for _, s := range want[1:] {
		if err := j.Advance(s, string(s)); err != nil {
			t.Fatal(err)
		}
	}
	if j.Step != StepDone || j.UpdatedAt.Before(start) {
		t.Fatalf("step %s updated %v", j.Step, j.UpdatedAt)
	}
}

func TestJournalEventsAreBounded(t *testing.T) {
	j := newTestJournal(t)
	for i := range 250 {
		if err := j.Advance(StepPreflight, fmt.Sprint("retry ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(j.Events) != maxEvents || j.Events[maxEvents-1].Message != "retry 249" || j.Events[0].Message != "retry 150" {
		t.Fatalf("%d events, first %q, last %q", len(j.Events), j.Events[0].Message, j.Events[len(j.Events)-1].Message)
	}
}

func TestJournalNeverHoldsASecret(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := credentials.EncodeSEC1PEM(ec)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edText := credentials.EncodeEd25519(ed)
	pemBody := strings.Join(strings.Split(pemText, "\n")[1:3], "") // the base64 without armour

	tests := []struct {
		name   string
		secret string
		field  string
		set    func(j *Journal, s string)
	}{
		{"PEM in an event", pemText, "events[1].message", func(j *Journal, s string) { _ = j.Advance(j.Step, "got key "+s) }},
		{"escaped PEM in a sink error", strings.ReplaceAll(pemText, "\n", `\n`), "sinks[0].error", func(j *Journal, s string) {
			j.RecordSink(SinkResult{Name: "exec", Type: "exec", Error: "vault said: " + s})
		}},
		{"Ed25519 secret as a request id", edText, "request_id", func(j *Journal, s string) { j.RequestID = s }},
		{"bare PEM body as a key name", pemBody, "new_key.name", func(j *Journal, s string) { j.NewKey.Name = s }},
		{"CRLF PEM as the issuer", strings.ReplaceAll(pemText, "\n", "\r\n"), "issuer", func(j *Journal, s string) { j.Issuer = s }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := newTestJournal(t)
			tt.set(j, tt.secret)
			err := j.Save(dir)
			if err == nil {
				t.Fatal("saved a journal holding a secret")
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error does not name the field %s: %v", tt.field, err)
			}
			assertNoSecret(t, err.Error(), tt.secret)
			if _, err := os.Stat(journalPath(dir, "prod")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("journal written anyway: %v", err)
			}
		})
	}

	// What a journal rightly holds passes.
	j := fullJournal(t)
	sum := make([]byte, 32)
	rand.Read(sum)
	for _, s := range []string{
		"/home/alice/projects/walletproxy/deploy/production/secrets/env",
		"/srv/Containers/Volumes/WalletProxy2/Config/Production/Secrets/dotenv",
		hex.EncodeToString(sum), // a sha256 in hex: no upper case
		"envfile /etc/waas-proxy/.env: wrote SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		testKeyName,
	} {
		_ = j.Advance(j.Step, s)
	}
	if err := j.Save(t.TempDir()); err != nil {
		t.Fatalf("a clean journal refused: %v", err)
	}
}

// assertNoSecret fails if msg holds any 16-character piece of secret.
func assertNoSecret(t *testing.T, msg, secret string) {
	t.Helper()
	for i := 0; i+16 <= len(secret); i++ {
		if piece := secret[i : i+16]; !strings.Contains(piece, "-----") && strings.Contains(msg, piece) {
			t.Fatalf("message quotes the secret: %q", msg)
		}
	}
}

func TestLooksSecret(t *testing.T) {
	// Fixed random bytes, so the test cannot flake on the rare line the heuristic misses.
	b := make([]byte, 48)
	mrand.NewChaCha8([32]byte{1}).Read(b)
	random64 := base64.StdEncoding.EncodeToString(b)
	for s, want := range map[string]bool{
		random64:                 true,
		"x " + random64 + " y":   true,
		random64[:50]:            false, // shorter than a PEM line
		"-----BEGIN PRIVATE KEY": false, // words, not a key
		"failed: private key is truncated or corrupt":        false,
		strings.Repeat("A", 80):                              false,
		testKeyName:                                          false,
		"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU": false,
	} {
		if got := credentials.LooksSecret(s); got != want {
			t.Errorf("looksSecret(%.30q...) = %v", s, got)
		}
	}
}

func TestJournalArchive(t *testing.T) {
	dir := t.TempDir()
	j := fullJournal(t)
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Archive(dir); err == nil || !strings.Contains(err.Error(), "only a done or aborted") {
		t.Fatalf("archived an unfinished rotation: %v", err)
	}
	if err := j.Advance(StepRevoke, "revoking"); err != nil {
		t.Fatal(err)
	}
	j.RevokedAt = time.Now().UTC()
	if err := j.Advance(StepDone, "done"); err != nil {
		t.Fatal(err)
	}
	path, err := j.Archive(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantName := "prod-" + j.StartedAt.Format("20060102T150405Z") + "-" + j.ID + ".json"
	if path != filepath.Join(dir, "journals", "history", wantName) {
		t.Fatalf("archived to %s", path)
	}
	if got, err := LoadJournal(dir, "prod"); got != nil || err != nil {
		t.Fatalf("the active journal is still there: %v %v", got, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	archived, reason := decodeJournal(data, "prod")
	if reason != "" || archived.Step != StepDone || archived.RevokedAt.IsZero() {
		t.Fatalf("archived journal: %+v %s", archived, reason)
	}
	fi, _ := os.Stat(filepath.Dir(path))
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("history folder mode %v", fi.Mode().Perm())
	}
	// Archiving again (a crash after the first) is harmless.
	if again, err := j.Archive(dir); err != nil || again != path {
		t.Fatalf("second archive: %s, %v", again, err)
	}
}

func TestLoadJournalExplainsDamage(t *testing.T) {
	good, _ := json.Marshal(fullJournal(t))
	var asMap map[string]any
	_ = json.Unmarshal(good, &asMap)
	with := func(k string, v any) string {
		m := map[string]any{}
		for k, v := range asMap {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := map[string]string{
		"":                                     "not valid JSON",
		"MHcCAQEEIPrivateBits garbage":         "not valid JSON (at byte 1)",
		string(good[:len(good)/2]):             "not valid JSON",
		"[1,2]":                                "not a JSON object",
		with("profile", "staging"):             `belongs to profile "staging"`,
		with("version", 2):                     "format version 2",
		with("version", 0):                     "version 0",
		with("step", "MHcCAQEEIPrivateBits"):   "its step is none of",
		with("step", 7):                        `field "step" has the wrong type`,
		with("id", nil):                        "no rotation id",
		with("started_at", "MHcCAQEEIPrivate"): "a time in it is not valid",
		with("secret_stuff", "MHcCAQEEIPrivateBits"): "a field this waasctl does not know",
		string(good) + `{"x":1}`:                     "not valid JSON",
		with("profile", "../MHcCAQEEIPrivateBits"):   "it names no valid profile",
	}
	for content, want := range tests {
		dir := t.TempDir()
		path := journalPath(dir, "prod")
		_ = os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := LoadJournal(dir, "prod")
		if err == nil {
			t.Errorf("%.40q: loaded %+v", content, j)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || !strings.Contains(msg, path) || !strings.Contains(msg, "move it aside") {
			t.Errorf("%.40q: %v", content, err)
		}
		if strings.Contains(msg, "MHcCAQ") || strings.Contains(msg, "\n") {
			t.Errorf("error quotes the file or spans lines: %v", err)
		}
	}

	// Too big to be ours.
	dir := t.TempDir()
	path := journalPath(dir, "prod")
	_ = os.MkdirAll(filepath.Dir(path), 0o700)
	_ = os.WriteFile(path, make([]byte, maxJournalSize+1), 0o600)
	if _, err := LoadJournal(dir, "prod"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("huge journal: %v", err)
	}
}

func FuzzLoadJournal(f *testing.F) {
	j, err := NewJournal("prod", "manual")
	if err != nil {
		f.Fatal(err)
	}
	j.RequestID = "6f1c9a52-7d0e-4a8b-9c3d-2e1f0a9b8c7d"
	_ = j.Advance(StepCreate, "creating")
	j.RecordSink(SinkResult{Name: "envfile", Type: "envfile", DeliveredFingerprint: "SHA256:abc"})
	good, _ := json.Marshal(j)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte(`{"version":1,"profile":"prod","id":"x","step":"done","started_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"profile":"prod","id":"x","step":"done","started_at":"2026-01-01T00:00:00Z","events":[{"at":"2026-01-01T00:00:00Z","step":"bogus","message":"-----BEGIN EC PRIVATE KEY-----"}]}`))
	f.Add([]byte(`{"version":99}`))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := journalPath(dir, "prod")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := LoadJournal(dir, "prod")
		if err != nil {
			msg := err.Error()
			if j != nil || !strings.Contains(msg, path) || !strings.Contains(msg, "move it aside") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q", msg)
			}
			return
		}
		if j == nil || j.Profile != "prod" || !j.Step.Valid() {
			t.Fatalf("loaded %+v", j)
		}
		// What loads saves and loads back the same, unless it holds something secret-looking.
		other := t.TempDir()
		if err := j.Save(other); err != nil {
			if !strings.Contains(err.Error(), "looks like key material") {
				t.Fatalf("a loaded journal does not save: %v", err)
			}
			return
		}
		again, err := LoadJournal(other, "prod")
		if err != nil {
			t.Fatalf("saved journal does not load: %v", err)
		}
		a, _ := json.Marshal(j)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("round trip:\n%s\n%s", a, b)
		}
	})
}
