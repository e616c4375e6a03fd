package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
)

const (
	testKeyName = "0b6a3c1e-6f1d-4a43-9d57-1a2b3c4d5e6f"
	testKeyFP   = "SHA256:testkeytestkeytestkeytestkeytestkeytestkey"
)

// Fingerprints of the keys of the histories below: X before A before B
// before N (the key an emergency rotation made).
const (
	fpX = "SHA256:X"
	fpA = "SHA256:A"
	fpB = "SHA256:B"
	fpN = "SHA256:N"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// at is t0 plus h hours.
func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// snap is a snapshot of the history: its path names its time and key.
func snap(h int, fp, source string) SnapshotFile {
	name := fp
	if name == "" {
		name = "v1"
	}
	v := SnapshotVersion
	if fp == "" {
		v = 1
	}
	return SnapshotFile{Path: strings.TrimPrefix(name, "SHA256:") + "@" + time.Duration(h*int(time.Hour)).String() + "/" + source,
		SnapshotMeta: SnapshotMeta{Time: at(h), KeyFingerprint: fp, Source: source, Version: v}}
}

func TestChooseBaseline(t *testing.T) {
	now := at(100)
	current := func(fp string) SuspectKey {
		return SuspectKey{Fingerprint: fp, InUseAt: now, InUseBy: "it is the profile's current key"}
	}
	// heldSince is the current key fp, in the profile's keyring since hour h.
	heldSince := func(fp string, h int) SuspectKey {
		k := current(fp)
		k.HeldSince, k.InUseAt, k.InUseBy = at(h), at(h), "in the keyring since then"
		return k
	}
	tests := []struct {
		name        string
		history     []SnapshotFile
		key         SuspectKey
		leakedSince time.Time
		want        string // the chosen path; "" for none
		predates    bool
		caveat      string // a part of the caveat when it does not predate
	}{
		{
			name:    "the suspected key's promotion snapshot, not the nightly one taken with it later",
			history: []SnapshotFile{snap(1, fpA, ""), snap(2, fpB, SourceRotation), snap(30, fpB, "")},
			key:     current(fpB), want: "B@2h0m0s/rotation", predates: true,
		},
		{
			name:    "reproduction 2(b): a nightly snapshot with the suspected key after the leak; the key was added by hand",
			history: []SnapshotFile{snap(1, fpA, ""), snap(30, fpB, "")},
			key:     heldSince(fpB, 5), want: "A@1h0m0s/", predates: true,
		},
		{
			name:    "another key's snapshot taken while the profile held the suspected key (a CI job's key) does not predate it",
			history: []SnapshotFile{snap(1, fpA, ""), snap(30, fpB, "")},
			key:     heldSince(fpB, 0), want: "A@1h0m0s/", caveat: "after the suspected key was already in use",
		},
		{
			name:    "another key's snapshot before the suspected key's first one, with nothing saying when the profile got it, does not predate it",
			history: []SnapshotFile{snap(1, fpA, ""), snap(30, fpB, "")},
			key:     current(fpB), want: "A@1h0m0s/", caveat: "not known to be before the profile held it",
		},
		{
			name:    "only snapshots taken with the suspected key: the oldest, and it may postdate the leak",
			history: []SnapshotFile{snap(10, fpB, ""), snap(30, fpB, "")},
			key:     current(fpB), want: "B@10h0m0s/", caveat: "taken with the suspected key itself",
		},
		{
			name: "reproduction 2(a): the key an emergency rotation replaced; its resume's snapshot (older waasctl) is no baseline",
			history: []SnapshotFile{snap(1, fpA, SourceRotation), snap(20, fpA, ""),
				snap(41, fpN, SourceRotation), snap(42, fpN, SourceIncident)},
			key:  SuspectKey{Fingerprint: fpA, CreatedAt: at(0), InUseAt: at(40), InUseBy: "the emergency rotation away from it started then"},
			want: "A@1h0m0s/rotation", predates: true,
		},
		{
			name:    "the replaced key was added by hand: an earlier key's snapshot, not the new key's",
			history: []SnapshotFile{snap(1, fpX, ""), snap(20, fpA, ""), snap(50, fpN, "")},
			key:     SuspectKey{Fingerprint: fpA, InUseAt: at(40), HeldSince: at(10)},
			want:    "X@1h0m0s/", predates: true,
		},
		{
			name:    "the key added to the keyring again after its first snapshot: a CI snapshot between the two does not predate it",
			history: []SnapshotFile{snap(1, fpX, ""), snap(5, fpA, ""), snap(20, fpX, "")},
			key:     SuspectKey{Fingerprint: fpA, InUseAt: at(30), HeldSince: at(30)},
			want:    "X@1h0m0s/", predates: true,
		},
		{
			name:    "the key added to the keyring again after its first snapshot, and no snapshot before that",
			history: []SnapshotFile{snap(5, fpA, ""), snap(20, fpX, "")},
			key:     SuspectKey{Fingerprint: fpA, InUseAt: at(30), HeldSince: at(30)},
			want:    "A@5h0m0s/", caveat: "taken with the suspected key itself",
		},
		{
			name:    "the replaced key, gone from the keyring: a snapshot before the rotation away from it is not known to predate it",
			history: []SnapshotFile{snap(1, fpX, ""), snap(50, fpN, "")},
			key:     SuspectKey{Fingerprint: fpA, InUseAt: at(40), InUseBy: "the emergency rotation away from it started then"},
			want:    "X@1h0m0s/", caveat: "not known to be before the profile held it",
		},
		{
			name:    "another key's snapshot after the suspected key was in use is no baseline",
			history: []SnapshotFile{snap(50, fpN, "")},
			key:     SuspectKey{Fingerprint: fpA, InUseAt: at(40)},
			want:    "N@50h0m0s/", caveat: "after the suspected key was already in use",
		},
		{
			name:    "version 1 snapshots only: the key that took them is unknown",
			history: []SnapshotFile{snap(1, "", ""), snap(2, "", SourceRotation)},
			key:     current(fpB), want: "v1@2h0m0s/rotation", caveat: "key that took it is unknown",
		},
		{
			name:    "a version 1 snapshot from before the rotation that created the key",
			history: []SnapshotFile{snap(1, "", ""), snap(3, "", "")},
			key:     SuspectKey{Fingerprint: fpB, CreatedAt: at(2), InUseAt: now},
			want:    "v1@1h0m0s/", predates: true,
		},
		{
			name:    "a newer snapshot of unknown key is passed over for one known to predate the key",
			history: []SnapshotFile{snap(1, fpA, ""), snap(2, "", "")},
			key:     heldSince(fpB, 3), want: "A@1h0m0s/", predates: true,
		},
		{
			name:    "an incident's own snapshot is never a baseline",
			history: []SnapshotFile{snap(1, fpA, ""), snap(2, fpB, SourceIncident)},
			key:     heldSince(fpB, 2), want: "A@1h0m0s/", predates: true,
		},
		{
			name:    "a key whose use nothing places: another key's snapshot cannot be ordered",
			history: []SnapshotFile{snap(1, fpA, "")},
			key:     SuspectKey{Fingerprint: fpB},
			want:    "A@1h0m0s/", caveat: "nothing shows whether",
		},
		{
			name:    "--leaked-since: the newest snapshot before it, even one taken with the suspected key",
			history: []SnapshotFile{snap(1, fpA, ""), snap(2, fpB, SourceRotation), snap(30, fpB, "")},
			key:     current(fpB), leakedSince: at(31), want: "B@30h0m0s/", predates: true,
		},
		{
			name:    "--leaked-since before the promotion snapshot",
			history: []SnapshotFile{snap(1, fpA, ""), snap(2, fpB, SourceRotation), snap(30, fpB, "")},
			key:     current(fpB), leakedSince: at(2), want: "A@1h0m0s/", predates: true,
		},
		{
			name:    "--leaked-since before every snapshot: none",
			history: []SnapshotFile{snap(1, fpA, "")},
			key:     current(fpB), leakedSince: at(1),
		},
		{name: "no snapshot at all", key: current(fpB)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := ChooseBaseline(tc.history, tc.key, tc.leakedSince)
			if tc.want == "" {
				if b != nil {
					t.Fatalf("chose %s (%s), want none", b.Path, b.Reason)
				}
				return
			}
			if b == nil {
				t.Fatalf("chose none, want %s", tc.want)
			}
			if b.Path != tc.want || b.PredatesLeak != tc.predates {
				t.Fatalf("chose %s (predates the leak: %v; %s; caveat %q), want %s (predates: %v)", b.Path, b.PredatesLeak, b.Reason, b.Caveat, tc.want, tc.predates)
			}
			if b.Reason == "" {
				t.Errorf("no reason given")
			}
			if !tc.predates && !strings.Contains(b.Caveat, tc.caveat) {
				t.Errorf("caveat %q, want it to say %q", b.Caveat, tc.caveat)
			}
			if tc.predates && b.Caveat != "" {
				t.Errorf("a caveat on a baseline that predates the leak: %q", b.Caveat)
			}
		})
	}
}

// A baseline named with --since is judged by the same rules.
func TestJudgeBaseline(t *testing.T) {
	history := []SnapshotFile{snap(1, fpA, ""), snap(2, fpB, SourceRotation), snap(30, fpB, ""), snap(40, fpB, SourceIncident)}
	key := SuspectKey{Fingerprint: fpB, InUseAt: at(100), HeldSince: at(2)}
	for _, tc := range []struct {
		name        string
		s           SnapshotFile
		leakedSince time.Time
		predates    bool
	}{
		{"an earlier key's", history[0], time.Time{}, true},
		{"the promotion snapshot", history[1], time.Time{}, true},
		{"the suspected key's nightly after its promotion", history[2], time.Time{}, false},
		{"the same, with --leaked-since after it", history[2], at(31), true},
		{"an earlier key's, with --leaked-since before it", history[0], at(1), false},
		{"an incident's", history[3], time.Time{}, false},
		{"of unknown key", snap(0, "", ""), time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := JudgeBaseline(tc.s, history, key, tc.leakedSince)
			if b.PredatesLeak != tc.predates || (b.Caveat == "") != tc.predates {
				t.Fatalf("predates %v (caveat %q), want %v", b.PredatesLeak, b.Caveat, tc.predates)
			}
		})
	}
	// Without knowing since when the profile held the suspected key, an earlier key's snapshot
	// may be a CI job's taken while it was held (and had leaked).
	unheld := key
	unheld.HeldSince = time.Time{}
	if b := JudgeBaseline(history[0], history, unheld, time.Time{}); b.PredatesLeak || !strings.Contains(b.Caveat, "not known to be before the profile held it") {
		t.Errorf("another key's snapshot, the keyring silent: predates %v (caveat %q), want false and why", b.PredatesLeak, b.Caveat)
	}
}

// Every snapshot records the key that took it; the header's key is read back.
func TestSnapshotRecordsItsKey(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 3, Shape: sandbox.EstateShape{Pools: 1, WalletsPerPool: 1}})
	c := sb.Client(t, waas.Options{})
	dir := filepath.Join(t.TempDir(), "snapshots")
	// The caller's idea of the key does not count: the client's does.
	path, sum, err := SaveSnapshot(context.Background(), c, dir, "", SnapshotMeta{Time: time.Now(), Profile: "prod", Endpoint: c.Endpoint(), KeyName: "someone-else", KeyFingerprint: fpA})
	if err != nil {
		t.Fatal(err)
	}
	want := credentials.Fingerprint(c.KeyPublic())
	if sum.KeyFingerprint != want || sum.KeyName != c.KeyName() || sum.Version != SnapshotVersion {
		t.Fatalf("summary says key %s %s (version %d), the client signs with %s %s", sum.KeyName, sum.KeyFingerprint, sum.Version, c.KeyName(), want)
	}
	list, err := ListSnapshots(dir, "prod", c.Endpoint(), "")
	if err != nil || len(list) != 1 || list[0].Path != path || list[0].KeyFingerprint != want || list[0].KeyName != c.KeyName() {
		t.Fatalf("ListSnapshots = %+v, %v", list, err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := VerifySnapshot(f)
	if err != nil || got.KeyFingerprint != want {
		t.Fatalf("verified %+v, %v", got, err)
	}
}

// A version 1 snapshot (no key) is still read, its key unknown; a version 2
// header without its key, or a version 1 header with one, is refused.
func TestSnapshotVersions(t *testing.T) {
	v1 := `{"kind":"header","version":1,"time":"2026-11-01T00:00:00Z","profile":"prod"}` + "\n"
	v1 += trailerFor(t, v1, 0)
	sum, err := VerifySnapshot(strings.NewReader(v1))
	if err != nil || sum.Version != 1 || sum.KeyFingerprint != "" || sum.Profile != "prod" {
		t.Fatalf("version 1: %+v, %v", sum, err)
	}
	for name, header := range map[string]string{
		"version 2 without a key": `{"kind":"header","version":2,"time":"2026-11-01T00:00:00Z"}`,
		"version 1 with a key":    `{"kind":"header","version":1,"time":"2026-11-01T00:00:00Z","keyName":"k","keyFingerprint":"SHA256:k"}`,
		"version 3":               `{"kind":"header","version":3,"time":"2026-11-01T00:00:00Z","keyName":"k","keyFingerprint":"SHA256:k"}`,
	} {
		text := header + "\n"
		text += trailerFor(t, text, 0)
		if _, err := VerifySnapshot(strings.NewReader(text)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: err = %v", name, err)
		}
		if _, err := ReadSnapshotHeader(strings.NewReader(text)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: header: err = %v", name, err)
		}
	}
	if _, err := NewSnapshotWriter(&bytes.Buffer{}, SnapshotMeta{Time: t0}); err == nil {
		t.Fatal("a snapshot writer without a key")
	}
}

// trailerFor is the trailer of a snapshot whose lines before it are text.
func trailerFor(t *testing.T, text string, n int) string {
	t.Helper()
	var buf bytes.Buffer
	sw := &SnapshotWriter{w: &buf}
	sw.h = sha256.New()
	sw.h.Write([]byte(text))
	sw.summary.Count = n
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
