package reconcile_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
)

// Keys of the histories below, by fingerprint: A came before B; N is what an
// emergency rotation away from B made.
const (
	keyA = "SHA256:A"
	keyB = "SHA256:B"
	keyN = "SHA256:N"
)

var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// histSnap is a snapshot of a history: hour, key (fingerprint, "" for a
// version 1 snapshot), why it was taken, and whether the attacker's pool
// already existed.
type histSnap struct {
	hour    int
	key     string
	source  string
	planted bool
}

// writeSnapshot writes a snapshot of an estate of one pool (two with the
// attacker's) into dir, named as the state folder names them.
func writeSnapshot(t *testing.T, dir string, s histSnap) string {
	t.Helper()
	when := day0.Add(time.Duration(s.hour) * time.Hour)
	path := inventory.SnapshotFileName(dir, "prod", when)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s.key == "" { // a version 1 snapshot, from before snapshots named their key
		header := `{"kind":"header","version":1,"time":"` + when.Format(time.RFC3339Nano) + `","endpoint":"e","organization":"o","profile":"prod","source":"` + s.source + `"}` + "\n"
		pools := []string{"pools/ours"}
		if s.planted {
			pools = append(pools, "pools/attacker")
		}
		writeV1(t, f, header, pools)
		return path
	}
	sw, err := inventory.NewSnapshotWriter(f, inventory.SnapshotMeta{Time: when, Endpoint: "e", Organization: "o", Profile: "prod", Source: s.source,
		KeyName: "organizations/o/apiKeys/" + s.key[len("SHA256:"):], KeyFingerprint: s.key})
	if err != nil {
		t.Fatal(err)
	}
	sw.Add(inventory.Record{Kind: inventory.KindPool, Name: "pools/ours"})
	if s.planted {
		sw.Add(inventory.Record{Kind: inventory.KindPool, Name: "pools/attacker"})
	}
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// The baseline an assessment takes, and its verdict, for snapshot histories
// around a leak. The attacker's pool exists in the estate now in every case
// but "quiet"; the verdict must never be clean while it does.
func TestBaselineAndVerdictAfterALeak(t *testing.T) {
	current := func(fp string) inventory.SuspectKey {
		return inventory.SuspectKey{Fingerprint: fp, InUseAt: day0.Add(100 * time.Hour), InUseBy: "the profile signs with it now"}
	}
	// The emergency rotation away from B started at hour 40 (keys revoke --rotate-first).
	replacedB := inventory.SuspectKey{Fingerprint: keyB, CreatedAt: day0.Add(1 * time.Hour), InUseAt: day0.Add(40 * time.Hour), InUseBy: "the emergency rotation started"}
	tests := []struct {
		name        string
		history     []histSnap
		key         inventory.SuspectKey
		leakedSince int // hour; 0: not given
		quiet       bool
		baseline    int // index in history; -1: none
		verdict     string
	}{
		{
			name:     "2(a): the emergency rotation's resume took a snapshot (older waasctl); B's promotion snapshot is the baseline",
			history:  []histSnap{{2, keyB, inventory.SourceRotation, false}, {41, keyN, inventory.SourceRotation, true}},
			key:      replacedB,
			baseline: 0, verdict: reconcile.VerdictFindings,
		},
		{
			name:     "2(b): the nightly snapshot with the leaked key after the leak is passed over for the promotion snapshot",
			history:  []histSnap{{2, keyB, inventory.SourceRotation, false}, {30, keyB, "", true}},
			key:      current(keyB),
			baseline: 0, verdict: reconcile.VerdictFindings,
		},
		{
			name:     "2(b), key added by hand: an earlier key's snapshot is the baseline",
			history:  []histSnap{{1, keyA, "", false}, {30, keyB, "", true}},
			key:      current(keyB),
			baseline: 0, verdict: reconcile.VerdictFindings,
		},
		{
			name:     "only the leaked key's own snapshot after the leak: never clean",
			history:  []histSnap{{30, keyB, "", true}},
			key:      current(keyB),
			baseline: 0, verdict: reconcile.VerdictInconclusive,
		},
		{
			name:     "an incident's own snapshot is never the baseline",
			history:  []histSnap{{30, keyB, inventory.SourceIncident, true}},
			key:      current(keyB),
			baseline: -1, verdict: reconcile.VerdictInconclusive,
		},
		{
			name:     "version 1 snapshots only: their key is unknown, so never clean",
			history:  []histSnap{{1, "", "", false}, {30, "", inventory.SourceRotation, true}},
			key:      current(keyB),
			baseline: 1, verdict: reconcile.VerdictInconclusive,
		},
		{
			name:     "a version 1 snapshot from before the rotation that created the key is a baseline",
			history:  []histSnap{{0, "", "", false}, {30, "", "", true}},
			key:      replacedB,
			baseline: 0, verdict: reconcile.VerdictFindings,
		},
		{
			name:    "a quiet estate against the promotion snapshot is clean",
			history: []histSnap{{2, keyB, inventory.SourceRotation, false}},
			key:     current(keyB), quiet: true,
			baseline: 0, verdict: reconcile.VerdictClean,
		},
		{
			name:    "a quiet estate against a snapshot the leaked key took later is inconclusive",
			history: []histSnap{{30, keyB, "", false}},
			key:     current(keyB), quiet: true,
			baseline: 0, verdict: reconcile.VerdictInconclusive,
		},
		{
			name:    "--leaked-since after the nightly snapshot: it is the baseline, and a quiet estate is clean",
			history: []histSnap{{2, keyB, inventory.SourceRotation, false}, {30, keyB, "", false}},
			key:     current(keyB), leakedSince: 31, quiet: true,
			baseline: 1, verdict: reconcile.VerdictClean,
		},
		{
			name:    "--leaked-since before the leaked key's nightly snapshot: the promotion snapshot",
			history: []histSnap{{2, keyB, inventory.SourceRotation, false}, {30, keyB, "", true}},
			key:     current(keyB), leakedSince: 20,
			baseline: 0, verdict: reconcile.VerdictFindings,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "snapshots")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, s := range tc.history {
				paths = append(paths, writeSnapshot(t, dir, s))
			}
			snaps, err := inventory.ListSnapshots(dir, "prod", "e", "o")
			if err != nil || len(snaps) != len(tc.history) {
				t.Fatalf("ListSnapshots: %d of %d, %v", len(snaps), len(tc.history), err)
			}
			var leakedSince time.Time
			if tc.leakedSince > 0 {
				leakedSince = day0.Add(time.Duration(tc.leakedSince) * time.Hour)
			}
			b := inventory.ChooseBaseline(snaps, tc.key, leakedSince)
			switch {
			case tc.baseline < 0 && b != nil:
				t.Fatalf("baseline %s, want none", b.Path)
			case tc.baseline >= 0 && (b == nil || b.Path != paths[tc.baseline]):
				t.Fatalf("baseline %+v, want %s", b, paths[tc.baseline])
			}
			// The assessment's own snapshot, of the estate now.
			now := writeSnapshot(t, t.TempDir(), histSnap{hour: 100, key: keyN, source: inventory.SourceIncident, planted: !tc.quiet})
			a, err := reconcile.Assess(context.Background(), reconcile.AssessInput{Snapshot: now, Baseline: b, Suspect: &tc.key})
			if err != nil {
				t.Fatal(err)
			}
			if a.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (baseline %+v)", a.Verdict, tc.verdict, a.Since)
			}
			if a.Since != nil && (a.Since.Reason == "" || a.Since.PredatesLeak == (a.Since.Caveat != "")) {
				t.Errorf("the baseline does not say why it was chosen, or whether it predates the leak: %+v", a.Since)
			}
		})
	}
}

// writeV1 writes a version 1 snapshot: its header as given, a line a pool,
// and the trailer.
func writeV1(t *testing.T, f *os.File, header string, pools []string) {
	t.Helper()
	text := header
	for _, p := range pools {
		text += `{"kind":"pool","name":"` + p + `"}` + "\n"
	}
	sum := sha256.Sum256([]byte(text))
	text += fmt.Sprintf(`{"kind":"trailer","count":%d,"sha256":"%s"}`+"\n", len(pools), hex.EncodeToString(sum[:]))
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
