package inventory

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

func TestNewCmdSnapshot(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	got, err := clitest.ParseFlags(t, env, NewCmdSnapshot, "--out", "a.jsonl")
	if err != nil || got.Out != "a.jsonl" {
		t.Fatalf("--out a.jsonl: options %+v, err %v", got, err)
	}
	if got, err = clitest.ParseFlags(t, env, NewCmdSnapshot); err != nil || got.Out != "" {
		t.Fatalf("no flags: options %+v, err %v", got, err)
	}
	if _, err := clitest.ParseFlags(t, env, NewCmdSnapshot, "extra"); err == nil {
		t.Error("an argument was accepted")
	}
}

func TestNewCmdDiff(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	got, err := clitest.ParseFlags(t, env, NewCmdDiff, "a.jsonl", "b.jsonl")
	if err != nil || got.A != "a.jsonl" || got.B != "b.jsonl" {
		t.Fatalf("options %+v, err %v", got, err)
	}
	for _, args := range [][]string{nil, {"a.jsonl"}, {"a", "b", "c"}} {
		if _, err := clitest.ParseFlags(t, env, NewCmdDiff, args...); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
}

// snapshotsAroundANewPool takes a snapshot of the seeded estate, creates pools/sneaky, and takes
// another: the diff between them is one added pool.
func snapshotsAroundANewPool(t *testing.T, env *clitest.Env) (a, b string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	if _, _, err := env.Run(t, NewCmdSnapshot(env.Factory, nil), "--out", a); err != nil {
		t.Fatal(err)
	}
	c, err := env.Factory.APIClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePool(t.Context(), "Sneaky", "sneaky"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Run(t, NewCmdSnapshot(env.Factory, nil), "--out", b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestInventoryDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"diff_tty", true, ""},
		{"diff_nontty", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.New(t, clitest.SeededEstate())
			a, b := snapshotsAroundANewPool(t, env)
			if tc.terminal {
				env.Terminal()
			}
			env.Output(tc.format)
			stdout, stderr, err := env.Run(t, NewCmdDiff(env.Factory, nil), a, b)
			// Findings: exit 3, the summary on stderr.
			var ee *cmdutil.ExitError
			if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFindings {
				t.Fatalf("err %v, want exit %d (findings)", err, cmdutil.ExitFindings)
			}
			clitest.Golden(t, tc.name+".golden", stdout)
			clitest.Golden(t, tc.name+".stderr.golden", stderr)

			// The same snapshot against itself: no findings, nothing printed.
			stdout, stderr, err = env.Run(t, NewCmdDiff(env.Factory, nil), a, a)
			if err != nil || stdout != "" || stderr != "" {
				t.Errorf("a snapshot against itself: err %v, stdout %q, stderr %q", err, stdout, stderr)
			}
		})
	}
}

// -o json: the changes by kind, exactly; the two snapshots' headers carry times, the sandbox's
// port and a random key, so only their counts are compared.
func TestInventoryDiffJSON(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate()).Output(cmdutil.OutputJSON)
	a, b := snapshotsAroundANewPool(t, env)
	stdout, _, err := env.Run(t, NewCmdDiff(env.Factory, nil), a, b)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFindings {
		t.Fatalf("err %v, want exit %d (findings)", err, cmdutil.ExitFindings)
	}
	var got struct {
		From, To struct{ Count int }
		Kinds    []struct {
			Kind           string
			Added, Removed []string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	kinds, _ := json.Marshal(got.Kinds)
	want := `[{"Kind":"pool","Added":["pools/sneaky"],"Removed":[]},{"Kind":"wallet","Added":[],"Removed":[]},{"Kind":"deviceGroup","Added":[],"Removed":[]},{"Kind":"operation","Added":[],"Removed":[]},{"Kind":"address","Added":[],"Removed":[]}]`
	if string(kinds) != want || got.From.Count != 18 || got.To.Count != 19 {
		t.Errorf("kinds %s, counts %d -> %d; want %s, 18 -> 19", kinds, got.From.Count, got.To.Count, want)
	}
}
