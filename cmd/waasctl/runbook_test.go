package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// runbookMarker marks a ```sh block of a doc as runnable as written: the HTML comment
// <!-- test: runbook --> (or <!-- test: runbook exit=N --> for a block that documents exit N)
// on a line of its own before the block. Blocks without it are illustrative.
var runbookMarker = regexp.MustCompile(`^<!-- test: runbook(?: exit=(\d+))? -->$`)

// runbookBlock is one marked block.
type runbookBlock struct {
	line    int    // of the opening fence, for messages
	heading string // the nearest heading above it
	script  string
	exit    int // the exit status the block documents
}

// runbookBlocks reads the marked blocks of the doc at path.
func runbookBlocks(t *testing.T, path string) []runbookBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []runbookBlock
		heading string
		marked  *runbookBlock // a marker seen, its block not yet opened
		open    *runbookBlock // inside a marked block
		indent  string        // of the open block's fence
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case open != nil:
			if trimmed == "```" {
				blocks = append(blocks, *open)
				open = nil
				continue
			}
			open.script += strings.TrimPrefix(line, indent) + "\n"
		case marked != nil:
			if trimmed == "" {
				continue
			}
			if trimmed != "```sh" {
				t.Fatalf("%s:%d: a runbook marker must be followed by a ```sh block, not %q", path, n, trimmed)
			}
			marked.line, marked.heading = n, heading
			open, marked = marked, nil
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
		case runbookMarker.MatchString(trimmed):
			b := &runbookBlock{}
			if m := runbookMarker.FindStringSubmatch(trimmed); m[1] != "" {
				b.exit, _ = strconv.Atoi(m[1])
			}
			marked = b
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if marked != nil || open != nil {
		t.Fatalf("%s: a runbook block is not closed", path)
	}
	return blocks
}

// runbookEnv is profile prod on the sandbox as the docs assume it: a file keyring, the sandbox
// issuer, an envfile sink, and a CSV ledger of the middle tier in the profile's config.
type runbookEnv struct {
	*crashEnv
	keyFile string
	path    string // PATH, with waasctl first
}

func newRunbookEnv(t *testing.T) *runbookEnv {
	t.Helper()
	e := &runbookEnv{crashEnv: newCrashEnv(t, 0), keyFile: ""}
	e.keyFile = filepath.Join(e.dir, "key.json")
	var ledger bytes.Buffer
	if err := sandboxtest.WriteLedgerCSV(&ledger, e.srv.Inventory()); err != nil {
		t.Fatal(err)
	}
	ledgerPath := filepath.Join(e.dir, "ledger.csv")
	if err := os.WriteFile(ledgerPath, ledger.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("profiles:\n  prod:\n    endpoint: %s\n    issuer: {type: sandbox}\n    sinks:\n      - {type: envfile, path: %s}\n    ledger: {dsn: %s}\n",
		e.url, e.envPath, ledgerPath)
	if err := os.WriteFile(filepath.Join(e.dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.path = filepath.Dir(e.bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	return e
}

// plant plays the attacker with the profile's key as it was when it leaked (key.json).
func (e *runbookEnv) plant(t *testing.T, spec sandboxtest.PlantSpec) sandboxtest.Planted {
	t.Helper()
	var kf waasapi.APIKey
	data, err := os.ReadFile(e.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	planted, err := sandboxtest.Plant(ctx, e.url, kf, spec)
	if err != nil {
		t.Fatal(err)
	}
	return planted
}

// runBlock runs b with bash under set -euo pipefail in the env's folder and fails the test unless
// it exits as documented.
func (e *runbookEnv) runBlock(t *testing.T, doc string, b runbookBlock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+b.script)
	cmd.Dir = e.dir
	cmd.Env = []string{"PATH=" + e.path}
	for _, kv := range e.env {
		if !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s:%d: %v", doc, b.line, err)
		}
		code = ee.ExitCode()
	}
	if code != b.exit {
		t.Fatalf("%s:%d (%s) exited %d, want %d:\n%s--- stdout:\n%s--- stderr:\n%s", doc, b.line, b.heading, code, b.exit, b.script, stdout.String(), stderr.String())
	}
	t.Logf("%s:%d (%s): exit %d", doc, b.line, b.heading, code)
}

// TestRunbooks runs the marked blocks of docs/incident-response.md and docs/rotation.md as
// written, in order, against the sandbox, with the test binary as waasctl on PATH: the runbook a
// responder follows literally must work, and every marked block must exit as documented.
func TestRunbooks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the docs' runbooks against a sandbox")
	}
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the runbooks need %s: install it (scripts/install-test-deps.sh does)", tool)
		}
	}

	t.Run("incident-response", func(t *testing.T) {
		doc := filepath.Join("..", "..", "docs", "incident-response.md")
		blocks := runbookBlocks(t, doc)
		if len(blocks) < 5 {
			t.Fatalf("%s has %d runnable blocks; the runbook's steps should be marked", doc, len(blocks))
		}
		e := newRunbookEnv(t)
		var planted sandboxtest.Planted
		for _, b := range blocks {
			// The leak: after the baseline of step 0, before the responder acts.
			if strings.HasPrefix(b.heading, "1.") && planted.Operations == nil {
				planted = e.plant(t, sandboxtest.PlantSpec{Wallets: 1, Signatures: 1})
			}
			e.runBlock(t, doc, b)
		}
		if planted.Operations == nil {
			t.Fatal("no block under step 1: the leak was never planted")
		}
		// What the runbook produced is what the responder needs.
		deny, err := os.ReadFile(filepath.Join(e.dir, "deny-list.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(deny)); len(got) != 1 || got[0] != planted.Operations[0] {
			t.Fatalf("deny-list.txt holds %q, want the planted signing request %s", got, planted.Operations[0])
		}
		report, err := os.ReadFile(filepath.Join(e.dir, "incident-prod.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(planted.Operations, planted.Wallets...) {
			if !strings.Contains(string(report), name) {
				t.Errorf("incident-prod.md does not report %s", name)
			}
		}
		if strings.Contains(string(report), "Verdict: CLEAN") || strings.Contains(string(report), "Verdict: clean") {
			t.Fatalf("the assessment after a leak says clean:\n%s", report)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		doc := filepath.Join("..", "..", "docs", "rotation.md")
		blocks := runbookBlocks(t, doc)
		if len(blocks) == 0 {
			t.Fatalf("%s has no runnable blocks", doc)
		}
		e := newRunbookEnv(t)
		for _, b := range blocks {
			e.runBlock(t, doc, b)
		}
	})
}
