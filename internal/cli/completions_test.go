package cli

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
)

// noPrompter fails the test if anything asks a question: completion never prompts.
type noPrompter struct{ t *testing.T }

func (p noPrompter) Secret(m string) (string, error) {
	p.t.Errorf("prompted for a secret: %s", m)
	return "", errors.New("no")
}
func (p noPrompter) Input(m string) (string, error) {
	p.t.Errorf("prompted: %s", m)
	return "", errors.New("no")
}
func (p noPrompter) Confirm(m string, _ bool) (bool, error) {
	p.t.Errorf("asked: %s", m)
	return false, errors.New("no")
}

// completionEnv is a config file and a file keyring, as a user's machine has them, on a
// terminal (so that anything that could prompt would).
type completionEnv struct {
	t          *testing.T
	dir        string
	cfgPath    string
	passphrase string // WAASCTL_KEYRING_PASSPHRASE as the completing shell has it
}

func newCompletionEnv(t *testing.T, config string) *completionEnv {
	t.Helper()
	dir := t.TempDir()
	e := &completionEnv{t: t, dir: dir, cfgPath: filepath.Join(dir, "config.yaml")}
	if err := os.WriteFile(e.cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WAASCTL_STATE_DIR", filepath.Join(dir, "state"))
	return e
}

func (e *completionEnv) store() credentials.Store {
	s, err := credentials.OpenStore(credentials.StoreConfig{Backend: "file", FileDir: filepath.Join(e.dir, "keyring"), Passphrase: func() (string, error) { return "pw", nil }})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// complete runs `waasctl __complete args...` as the shell scripts do and returns the candidates
// (without descriptions).
func (e *completionEnv) complete(args ...string) []string {
	e.t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	ios.SetStdinTTY(true)
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	ctx := context.Background()
	getenv := func(k string) string {
		switch k {
		case "WAASCTL_KEYRING_PASSPHRASE":
			return e.passphrase
		case "WAASCTL_KEYRING_DIR":
			return filepath.Join(e.dir, "keyring")
		}
		return ""
	}
	f := &cmdutil.Factory{IOStreams: ios, Prompter: noPrompter{e.t},
		Config: sync.OnceValues(func() (*config.Config, error) { return config.LoadFile(e.cfgPath) })}
	f.Keyring = sync.OnceValues(func() (credentials.Store, error) { return openKeyring(f, getenv) })
	f.APIClient = func() (*waas.Client, error) { return newAPIClient(ctx, f, getenv) }
	t0 := time.Now()
	code := Run(ctx, f, append([]string{"__complete", "--keyring-backend", "file"}, args...))
	if code != 0 {
		e.t.Fatalf("__complete %v: exit %d: %s", args, code, stderr.String())
	}
	if d := time.Since(t0); d > cmdutil.CompletionTimeout+2*time.Second {
		e.t.Errorf("__complete %v took %v", args, d)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue // the directive
		}
		name, _, _ := strings.Cut(line, "\t")
		out = append(out, name)
	}
	return out
}

func TestCompleteProfilesFromConfigAndKeyring(t *testing.T) {
	e := newCompletionEnv(t, "profiles:\n  prod: {endpoint: https://x.example}\n  staging: {}\n")
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 1})
	if err := e.store().Put(context.Background(), &credentials.Item{Profile: "keyonly", Current: &credentials.StoredKey{Name: sb.Key.Name, PrivateKey: sb.Key.PrivateKey}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"keyonly", "prod", "staging"}
	for _, args := range [][]string{
		{"--profile", ""},
		{"keys", "rotate", ""},
		{"keys", "status", "prod", ""}, // PROFILE...: the others
		{"config", "validate", ""},
	} {
		got := e.complete(args...)
		if args[1] == "status" {
			want := []string{"keyonly", "staging"}
			if !slices.Equal(got, want) {
				t.Errorf("%v: %v, want %v", args, got, want)
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", args, got, want)
		}
	}
	if got := e.complete("--profile", "st"); !slices.Equal(got, []string{"staging"}) {
		t.Errorf("prefix: %v", got)
	}
	// One PROFILE only: nothing after it.
	if got := e.complete("keys", "rotate", "prod", ""); len(got) != 0 {
		t.Errorf("second PROFILE offered: %v", got)
	}
}

func TestCompleteFixedValues(t *testing.T) {
	e := newCompletionEnv(t, "")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"keys", "rotate", "--issuer", ""}, []string{"sandbox", "manual", "exec"}},
		{[]string{"keys", "revoke", "--issuer", "ma"}, []string{"manual"}},
		{[]string{"-o", ""}, cmdutil.OutputFormatNames()},
		{[]string{"--keyring-backend", "fi"}, []string{"file"}},
	} {
		got := e.complete(c.args...)
		if c.args[0] == "-o" || c.args[0] == "--keyring-backend" {
			// cobra filters nothing for us here; what matters is that the wanted values are there.
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("%v: %v lacks %s", c.args, got, w)
				}
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
}

func TestCompletePoolsOnlyWithAWorkingKeyAndNoPrompt(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 1}})
	e := newCompletionEnv(t, "profiles:\n  prod: {endpoint: "+sb.URL+"}\n  dead: {endpoint: http://127.0.0.1:1}\n")
	for _, p := range []string{"prod", "dead"} {
		if err := e.store().Put(context.Background(), &credentials.Item{Profile: p, Current: &credentials.StoredKey{Name: sb.Key.Name, PrivateKey: sb.Key.PrivateKey}}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for p, err := range sb.Client(t, waas.Options{}).Pools(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p.Name)
	}
	if len(want) != 3 {
		t.Fatalf("sandbox pools: %v", want)
	}
	// The keyring needs its passphrase and the shell has none: no pools, and no prompt
	// (noPrompter fails the test), although a terminal is there to ask on.
	if got := e.complete("--profile", "prod", "pools", "get", ""); len(got) != 0 {
		t.Fatalf("without the passphrase: %v", got)
	}
	e.passphrase = "pw"
	for _, args := range [][]string{
		{"--profile", "prod", "pools", "get", ""},
		{"--profile", "prod", "wallets", "list", "--pool", ""},
	} {
		if got := e.complete(args...); !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", args, got, want)
		}
	}
	if got := e.complete("--profile", "prod", "pools", "get", want[1]); !slices.Equal(got, want[1:2]) {
		t.Errorf("prefix: %v", got)
	}
	// A profile whose endpoint does not answer offers nothing, within the bound.
	if got := e.complete("--profile", "dead", "pools", "get", ""); len(got) != 0 {
		t.Errorf("dead endpoint: %v", got)
	}
}

// An API that never answers does not hold the shell for longer than CompletionTimeout.
func TestCompletePoolsGivesUpOnAHungAPI(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	old := cmdutil.CompletionTimeout
	cmdutil.CompletionTimeout = 300 * time.Millisecond
	t.Cleanup(func() { cmdutil.CompletionTimeout = old })
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 1})
	e := newCompletionEnv(t, "profiles:\n  prod: {endpoint: "+hung.URL+"}\n")
	e.passphrase = "pw"
	if err := e.store().Put(context.Background(), &credentials.Item{Profile: "prod", Current: &credentials.StoredKey{Name: sb.Key.Name, PrivateKey: sb.Key.PrivateKey}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if got := e.complete("--profile", "prod", "pools", "get", ""); len(got) != 0 {
		t.Fatalf("%v", got)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("took %v with a %v bound", d, cmdutil.CompletionTimeout)
	}
}

func TestCompleteSnapshotsForSince(t *testing.T) {
	e := newCompletionEnv(t, "profiles:\n  prod: {}\n")
	dir := filepath.Join(e.dir, "state", "snapshots")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"prod-20261201T000000Z.jsonl", "prod-20261202T000000Z.jsonl", "dev-20261202T000000Z.jsonl"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := e.complete("incident", "assess", "prod", "--since", "")
	want := []string{filepath.Join(dir, "prod-20261202T000000Z.jsonl"), filepath.Join(dir, "prod-20261201T000000Z.jsonl")}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v (newest first, this profile's)", got, want)
	}
	// inventory diff A B: every profile's, for both files.
	got = e.complete("inventory", "diff", want[1], "")
	if len(got) != 3 || got[0] != filepath.Join(dir, "prod-20261202T000000Z.jsonl") {
		t.Fatalf("inventory diff: %v", got)
	}
}
