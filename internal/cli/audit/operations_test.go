package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
)

// watchedOutput is stdout for a command that keeps printing: a test waits
// on it for a line instead of sleeping.
type watchedOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *watchedOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(w.String(), s) {
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("%q never appeared in:\n%s", s, w.String())
		}
	}
}

func ledgerCSV(t *testing.T, env *clitest.Env) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.csv")
	var buf bytes.Buffer
	if err := sandboxtest.WriteLedgerCSV(&buf, env.Sandbox.Inventory()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func operationsOptions(env *clitest.Env, ledger string, out cmdutil.OutputFormat) *OperationsOptions {
	f := env.Factory
	return &OperationsOptions{
		IO: f.IOStreams, APIClient: f.APIClient, Config: f.Config, Now: time.Now,
		Output:  func() cmdutil.OutputFormat { return out },
		Profile: func() string { return "default" },
		Ledger:  cmdutil.LedgerFlags{Source: ledger},
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *cmdutil.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	t.Fatalf("not an exit error: %v", err)
	return -1
}

func TestAuditOperationsJSONAndExitCode(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 7, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 3, OperationsPerGroup: 1}})
	ledger := ledgerCSV(t, env)
	opts := operationsOptions(env, ledger, cmdutil.OutputJSON)
	if code := exitCode(t, operationsRun(testctx.New(t), opts)); code != 0 {
		t.Fatalf("a ledger that knows everything: exit %d; stderr %s", code, env.Stderr.String())
	}
	planted, err := sandboxtest.Plant(testctx.New(t), env.URL, env.Key, sandboxtest.PlantSpec{Signatures: 2})
	if err != nil {
		t.Fatal(err)
	}
	before := len(env.Stdout.String())
	if code := exitCode(t, operationsRun(testctx.New(t), opts)); code != cmdutil.ExitFindings {
		t.Fatalf("after planting: exit %d, want 3", code)
	}
	var rep reconcile.OperationsReport
	if err := json.Unmarshal([]byte(env.Stdout.String()[before:]), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Unknown) != 2 || rep.Pending != 8 || rep.Known != 6 || rep.Unknown[0].Operation != planted.Operations[0] && rep.Unknown[0].Operation != planted.Operations[1] {
		t.Fatalf("report %+v, planted %v", rep, planted.Operations)
	}
	if !strings.Contains(env.Stderr.String(), "8 pending operations in 6 device groups (all pools): 6 known, 2 unknown") {
		t.Errorf("summary: %s", env.Stderr.String())
	}
}

// TestWatchPrintsOnlyNewFindings: the first round prints what it finds; a
// later round prints only an operation planted since; Ctrl-C ends it.
func TestWatchPrintsOnlyNewFindings(t *testing.T) {
	env := clitest.New(t, sandbox.Config{Seed: 8, Shape: sandbox.EstateShape{Pools: 1, WalletsPerPool: 4, OperationsPerGroup: 1}})
	opts := operationsOptions(env, ledgerCSV(t, env), cmdutil.OutputJSON)
	out := &watchedOutput{changed: make(chan struct{}, 1)}
	opts.IO.Out = out
	opts.Watch = 20 * time.Millisecond

	ctx := testctx.New(t)
	first, err := sandboxtest.Plant(ctx, env.URL, env.Key, sandboxtest.PlantSpec{Signatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- operationsRun(ctx, opts) }()
	out.waitFor(t, first.Operations[0])

	second, err := sandboxtest.Plant(testctx.New(t), env.URL, env.Key, sandboxtest.PlantSpec{Signatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, second.Operations[0])
	cancel()
	if code := exitCode(t, <-done); code != cmdutil.ExitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want 130", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || strings.Count(out.String(), first.Operations[0]) != 1 {
		t.Fatalf("want one JSON line per finding, each once:\n%s", out.String())
	}
	for _, l := range lines {
		var u reconcile.UnknownOperation
		if err := json.Unmarshal([]byte(l), &u); err != nil || u.Kind != "CreateSignature" {
			t.Errorf("line %q: %v", l, err)
		}
	}
}
