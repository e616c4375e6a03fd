package clitest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
)

// update rewrites golden files with what the commands print now: go test ./internal/cli/... -update.
// Review the diff before committing it; that review is the test.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the output of this run")

// testdata is the package's testdata folder, found before any test runs: a test that changes
// folder (t.Chdir, to print relative paths) still reads and writes the package's golden files.
var testdata = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()

// FixedNow is the sandbox's clock in golden tests, so that times in the output do not change.
var FixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// SeededEstate is the sandbox golden tests print from: small enough to read in a golden file,
// with every kind of resource, on a clock that does not move.
func SeededEstate() sandbox.Config {
	return sandbox.Config{
		Seed:  7,
		Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 2, AddressesPerWallet: 1, OperationsPerGroup: 1},
		Now:   func() time.Time { return FixedNow },
	}
}

// Terminal makes the env's stdout a terminal of a fixed width, as a person at a shell sees it;
// without it stdout is a pipe, as a script sees it.
func (e *Env) Terminal() *Env {
	e.Factory.IOStreams.SetStdoutTTY(true)
	e.Factory.IOStreams.SetTerminalWidth(120)
	return e
}

// Output sets the -o format the env's commands print in ("" for the default).
func (e *Env) Output(format cmdutil.OutputFormat) *Env {
	e.Factory.Output = format
	return e
}

// Run executes cmd with args as a user would and returns what it printed. A command that would
// hang fails the test after 30 s.
func (e *Env) Run(t *testing.T, cmd *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	before, beforeErr := len(e.Stdout.String()), len(e.Stderr.String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if args == nil {
		args = []string{} // nil would make cobra read the test binary's own os.Args
	}
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{}) // cobra's own usage text; the command's output goes to IOStreams
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(ctx)
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after 30 s", cmd.Name(), strings.Join(args, " "))
	}
	return e.Stdout.String()[before:], e.Stderr.String()[beforeErr:], err
}

// Golden compares got with the file testdata/NAME (exactly, byte for byte) and fails with both
// when they differ; with -update it writes got there instead.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	// A golden file is committed: output that holds private key material never becomes one.
	if credentials.LooksSecret(got) {
		t.Fatalf("the output for %s holds private key material; it must print only names and fingerprints", name)
	}
	path := filepath.Join(testdata, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it from this output:)\n%s", err, got)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it; review the diff):\n--- got:\n%s--- want:\n%s", path, got, want)
	}
}

// GoldenTerminalAndPiped runs the command newCmd builds, with args, against a sandbox with cfg
// twice: stdout a terminal (subtest tty) and a pipe (subtest nontty), as gh's TestRepoList_tty and
// _nontty do, and compares each output with testdata/NAME_tty.golden and NAME_nontty.golden. The
// command must succeed and print nothing on stderr.
func GoldenTerminalAndPiped(t *testing.T, name string, cfg sandbox.Config, newCmd func(*cmdutil.Factory) *cobra.Command, args func(*Env) []string) {
	t.Helper()
	for _, terminal := range []bool{true, false} {
		suffix := "nontty"
		if terminal {
			suffix = "tty"
		}
		t.Run(suffix, func(t *testing.T) {
			env := New(t, cfg)
			if terminal {
				env.Terminal()
			}
			var argv []string
			if args != nil {
				argv = args(env)
			}
			stdout, stderr, err := env.Run(t, newCmd(env.Factory), argv...)
			if err != nil || stderr != "" {
				t.Fatalf("%s: err %v, stderr %q", strings.Join(argv, " "), err, stderr)
			}
			Golden(t, name+"_"+suffix+".golden", stdout)
		})
	}
}

// ParseFlags runs the command newCmd builds with args, its run function replaced, and returns
// the options the run function would have been given, or the error that stopped it first. No
// request reaches WaaS (the test fails if one does).
func ParseFlags[O any](t *testing.T, env *Env, newCmd func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	var got *O
	before := totalRequests(env)
	_, _, err := env.Run(t, newCmd(env.Factory, func(_ context.Context, o *O) error { got = o; return nil }), args...)
	if n := totalRequests(env) - before; n != 0 {
		t.Errorf("%q: parsing the flags sent %d requests to WaaS", args, n)
	}
	if err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatalf("%q: the run function was not called, and no error", args)
	}
	return got, nil
}

func totalRequests(env *Env) int {
	n := 0
	for _, c := range env.Sandbox.RequestCounts() {
		n += c
	}
	return n
}
