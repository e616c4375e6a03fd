package inventory

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// takeSnapshot runs `inventory snapshot` on env's client at time at, into the state folder
// "state" (relative: the test runs in its own folder), and returns its path and output.
func takeSnapshot(t *testing.T, env *clitest.Env, at time.Time, terminal bool, format cmdutil.OutputFormat) (path, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	if terminal {
		ios.SetStdoutTTY(true)
		ios.SetTerminalWidth(120)
	}
	opts := &SnapshotOptions{
		IO:        ios,
		APIClient: func() (*waas.Client, error) { return env.Factory.APIClient() },
		Output:    func() cmdutil.OutputFormat { return format },
		Profile:   func() string { return "default" },
		StateDir:  func() (string, error) { return "state", nil },
		Now:       func() time.Time { return at },
	}
	if err := snapshotRun(testctx.New(t), opts); err != nil {
		t.Fatal(err)
	}
	path = "state/snapshots/default-" + at.UTC().Format("20060102T150405.000Z") + ".jsonl"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot at %s: %v", path, err)
	}
	return path, out.String(), errOut.String()
}

// TestInventorySnapshotGolden: the summary on stderr (the only output without -o), -o json's
// result, and the snapshot file itself, of the seeded estate taken with clitest.NewFixed's key
// and endpoint on a fixed clock.
func TestInventorySnapshotGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"snapshot_tty", true, ""},
		{"snapshot_nontty", false, ""},
		{"snapshot_json", false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			env := clitest.NewFixed(t, clitest.SeededEstate())
			path, stdout, stderr := takeSnapshot(t, env, clitest.FixedNow, tc.terminal, tc.format)
			clitest.Golden(t, tc.name+".golden", stdout)
			clitest.Golden(t, tc.name+".stderr.golden", stderr)
			if tc.name == "snapshot_nontty" {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				clitest.Golden(t, "snapshot_file.golden", string(data))
			}
		})
	}
}

// TestInventoryDiffJSONGolden: -o json whole, headers included, now that both snapshots are
// taken on a fixed clock with a fixed key and endpoint: the seeded estate an hour apart, with
// pools/sneaky created in between.
func TestInventoryDiffJSONGolden(t *testing.T) {
	t.Chdir(t.TempDir())
	env := clitest.NewFixed(t, clitest.SeededEstate())
	a, _, _ := takeSnapshot(t, env, clitest.FixedNow.Add(-time.Hour), false, "")
	c, err := env.Factory.APIClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePool(testctx.New(t), "Sneaky", "sneaky"); err != nil {
		t.Fatal(err)
	}
	b, _, _ := takeSnapshot(t, env, clitest.FixedNow, false, "")
	ios, _, stdout, stderr := iostreams.Test()
	err = diffRun(testctx.New(t), &DiffOptions{IO: ios, Output: func() cmdutil.OutputFormat { return cmdutil.OutputJSON }, A: a, B: b})
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFindings {
		t.Fatalf("err %v, want exit %d (findings)", err, cmdutil.ExitFindings)
	}
	clitest.Golden(t, "diff_json.golden", stdout.String())
	clitest.Golden(t, "diff_json.stderr.golden", stderr.String())
}
