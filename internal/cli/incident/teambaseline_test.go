package incident

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

func snapshotHeader(at, endpoint, profile string) string {
	return `{"kind":"header","version":2,"time":"` + at + `","endpoint":"` + endpoint + `","organization":"o","profile":"` + profile + `","keyName":"organizations/o/apiKeys/k","keyFingerprint":"SHA256:k"}`
}

// The team store's snapshots of this estate join this host's as candidates, by their stored
// headers, except those this host has or of another estate; a chosen one too big to be kept
// in the store stops the assessment, saying which host and path hold it.
func TestTeamSnapshotsAsBaselines(t *testing.T) {
	t.Parallel()
	s, err := team.Open(t.Context(), teamtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Migrate(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	s.Host = "ci-runner"
	ctx := t.Context()
	put := func(name, header string) {
		t.Helper()
		at, _ := time.Parse(time.RFC3339, strings.Split(strings.Split(header, `"time":"`)[1], `"`)[0])
		if _, err := s.PutSnapshot(ctx, team.SnapshotInfo{Name: name, Profile: "prod", TakenAt: at, Path: "/ci/" + name}, []byte(header+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	put("prod-a.jsonl", snapshotHeader("2026-11-01T00:00:00Z", "https://e", "prod"))
	put("prod-b.jsonl", snapshotHeader("2026-11-02T00:00:00Z", "https://other", "prod")) // another estate
	put("prod-local.jsonl", snapshotHeader("2026-11-03T00:00:00Z", "https://e", "prod")) // this host has it
	if _, err := s.IndexSnapshot(ctx, team.SnapshotInfo{Name: "prod-big.jsonl", Profile: "prod", TakenAt: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC),
		Path: "/ci/prod-big.jsonl", Size: 9 << 20, SHA256: strings.Repeat("0", 64), Header: snapshotHeader("2026-11-04T00:00:00Z", "https://e", "prod")}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "snapshots")
	local := []inventory.SnapshotFile{{Path: filepath.Join(dir, "prod-local.jsonl"), SnapshotMeta: inventory.SnapshotMeta{Time: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}}}
	snaps, shared, err := withTeamSnapshots(ctx, s, dir, local, inventory.SnapshotMeta{Profile: "prod", Endpoint: "https://e", Organization: "o"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sf := range snaps {
		names = append(names, filepath.Base(sf.Path))
	}
	if strings.Join(names, " ") != "prod-a.jsonl prod-local.jsonl prod-big.jsonl" || len(shared) != 2 {
		t.Fatalf("candidates %v, from the store %d", names, len(shared))
	}
	b := &inventory.Baseline{SnapshotFile: snaps[0], Reason: "the newest"}
	if err := fetchBaseline(ctx, s, dir, shared[snaps[0].Path], b); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(b.Path); err != nil || !strings.HasPrefix(string(data), `{"kind":"header"`) || !strings.HasSuffix(b.Reason, "(from the team store: taken on host ci-runner)") {
		t.Fatalf("fetched baseline %s: %v, reason %q", b.Path, err, b.Reason)
	}
	big := &inventory.Baseline{SnapshotFile: snaps[2]}
	if err := fetchBaseline(ctx, s, dir, shared[snaps[2].Path], big); err == nil || !strings.Contains(err.Error(), "it is on host ci-runner at /ci/prod-big.jsonl; copy it to this host and pass it with --since FILE") {
		t.Fatalf("an index-only baseline: %v", err)
	}
}
