package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/inventory"
	"github.com/waasctl/waasctl/internal/reconcile"
)

// A ledger value with a "|" or a newline stays inside its table cell.
func TestMarkdownTablesHoldOddValues(t *testing.T) {
	a := &reconcile.Assessment{
		Verdict: reconcile.VerdictFindings, Ledger: "csv ledger.csv",
		Now: inventory.SnapshotSummary{SnapshotMeta: inventory.SnapshotMeta{Time: time.Now()}},
		MissingResources: []reconcile.MissingResource{{
			Kind: reconcile.Wallet, Name: "pools/p/mpcWallets/w", Owner: "acme | evil\nrow", Where: "line 3",
		}},
	}
	var b strings.Builder
	if err := writeMarkdown(&b, "prod", a); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "| wallet | `pools/p/mpcWallets/w`") {
			continue
		}
		if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 6 {
			t.Fatalf("row %q has %d separators, want 6", line, cells)
		}
		if !strings.Contains(line, `acme \| evil row`) {
			t.Fatalf("owner not escaped in %q", line)
		}
		return
	}
	t.Fatalf("no missing-resource row in:\n%s", b.String())
}

// The baseline's age reads as people say it, never as Go's 72h0m0s.
func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		40 * time.Second:              "40s",
		12 * time.Minute:              "12m",
		7*time.Hour + 59*time.Minute:  "7h",
		47 * time.Hour:                "47h",
		72 * time.Hour:                "3d",
		72*time.Hour + 30*time.Minute: "3d",
		53 * time.Hour:                "2d 5h",
	} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}
