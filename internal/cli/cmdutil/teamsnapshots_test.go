package cmdutil_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

const header = `{"kind":"header","version":2,"time":"2026-12-01T00:00:00Z","endpoint":"https://e","organization":"o","profile":"prod","keyName":"organizations/o/apiKeys/k","keyFingerprint":"SHA256:k"}`

// writeSnapshot writes a header and n bytes (at least) of pool records to a file.
func writeSnapshot(t *testing.T, n int) (string, []byte) {
	t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"kind":"pool","name":"pools/%08d-0000-4000-8000-000000000000"}`+"\n", i)
	}
	path := filepath.Join(t.TempDir(), "estate.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, []byte(b.String())
}

// A snapshot up to the limit is stored whole and comes back byte for byte on another host; a
// larger one is indexed with its true size, hash, header, host and path, and fetching it says
// where it is; one holding a key is refused.
func TestShareAndFetchSnapshots(t *testing.T) {
	t.Parallel()
	dsn := teamtest.NewDatabase(t)
	open := func(host string) *team.Store {
		s, err := team.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		s.Host = host
		return s
	}
	a, b := open("host-a"), open("host-b")
	if _, _, err := a.Migrate(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	small, content := writeSnapshot(t, 1<<20)
	info, err := cmdutil.ShareSnapshot(ctx, a, small)
	if err != nil || !info.HasContent || info.Name != "prod-20261201T000000.000Z.jsonl" || info.Path != small || info.Size != int64(len(content)) {
		t.Fatalf("ShareSnapshot(1 MiB) = %+v, %v", info, err)
	}
	dir := filepath.Join(t.TempDir(), "snapshots")
	got, err := cmdutil.FetchSnapshot(ctx, b, dir, info.Name)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(got); string(data) != string(content) || got != filepath.Join(dir, info.Name) {
		t.Fatalf("FetchSnapshot wrote %s, %d bytes", got, len(data))
	}
	if fi, _ := os.Stat(got); fi.Mode().Perm() != 0o600 {
		t.Fatalf("fetched snapshot mode %v", fi.Mode())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("snapshot folder mode %v", fi.Mode())
	}
	// Fetched again: kept. A different local file of that name: never replaced.
	if again, err := cmdutil.FetchSnapshot(ctx, b, dir, info.Name); err != nil || again != got {
		t.Fatalf("FetchSnapshot again: %s, %v", again, err)
	}
	if err := os.WriteFile(got, []byte(header+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cmdutil.FetchSnapshot(ctx, b, dir, info.Name); err == nil || !strings.Contains(err.Error(), "already has a different snapshot of that name") {
		t.Fatalf("FetchSnapshot over a different local file: %v", err)
	}
	if data, _ := os.ReadFile(got); string(data) != header+"\n" {
		t.Fatal("a local snapshot was replaced from the team store")
	}

	big, content := writeSnapshot(t, team.MaxSnapshotContent+1)
	info, err = cmdutil.ShareSnapshot(ctx, a, big)
	sum := sha256.Sum256(content)
	if err != nil || info.HasContent || info.Size != int64(len(content)) || info.SHA256 != hex.EncodeToString(sum[:]) || info.Header != header {
		t.Fatalf("ShareSnapshot(over the limit) = %+v, %v", info, err)
	}
	list, err := b.Snapshots(ctx, "prod")
	if err != nil || len(list) != 1 || list[0].HasContent || list[0].Host != "host-a" || list[0].Path != big || list[0].Header != header {
		t.Fatalf("Snapshots on host B = %+v, %v", list, err)
	}
	if note := cmdutil.SharedSnapshotNote(a, info, true); !strings.Contains(note, "over the store's 8 MiB limit, so its content stays on this host at "+big) {
		t.Fatalf("note %q", note)
	}
	if _, err := cmdutil.FetchSnapshot(ctx, b, dir, info.Name); err == nil || !strings.Contains(err.Error(), "on host host-a at "+big) {
		t.Fatalf("FetchSnapshot of an index-only snapshot: %v", err)
	}
	if _, err := cmdutil.FetchSnapshot(ctx, b, dir, "../x"); err == nil {
		t.Fatal("FetchSnapshot of a path")
	}

	leaky := filepath.Join(t.TempDir(), "leaky.jsonl")
	k := storetest.Key(t, 1, "k")
	if err := os.WriteFile(leaky, []byte(strings.Replace(header, "2026-12-01", "2026-12-02", 1)+"\n"+`{"kind":"pool","name":"`+strings.ReplaceAll(k.PrivateKey, "\n", `\n`)+`"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cmdutil.ShareSnapshot(ctx, a, leaky); !errors.Is(err, team.ErrSnapshotSecret) {
		t.Fatalf("a snapshot holding a key: %v", err)
	}
}
