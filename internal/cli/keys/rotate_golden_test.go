package keys

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// goldenKeysEnv is a seeded sandbox and a keyring whose profile prod holds FixedKey(1) as
// CURRENT (and FixedKey(2) as PREVIOUS if withPrevious), both registered at the sandbox, with an envfile sink,
// run in a folder of its own with a relative state folder: what a rotation or a revocation
// prints is the same on every run once crypto/rand is seeded (the sandbox mints the new key's
// ID and key pair from it).
type goldenKeysEnv struct {
	f     *cmdutil.Factory
	ios   *iostreams.IOStreams
	out   interface{ String() string }
	err   interface{ String() string }
	store credentials.Store
	srv   *sandbox.Server
}

func newGoldenKeysEnv(t *testing.T, terminal, withPrevious bool) *goldenKeysEnv {
	t.Helper()
	cryptotest.SetGlobalRandom(t, 1)
	t.Chdir(t.TempDir())
	t.Setenv("WAASCTL_STATE_DIR", "state")
	cfg := clitest.SeededEstate()
	// The wall clock: the commands sign their tokens with it (cmdutil.ClientForKey has no clock to
	// inject), and nothing the sandbox stamps with it is printed.
	cfg.Now = nil
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	store := credentials.NewMemoryStore()
	item := &credentials.Item{Profile: "prod"}
	slots := []**credentials.StoredKey{&item.Current}
	if withPrevious {
		slots = append(slots, &item.Previous)
	}
	for i, slot := range slots {
		k := clitest.FixedKey(t, byte(i+1), clitest.FixedNow, "")
		signer, err := credentials.ParsePrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		view, err := srv.AddAPIKey(srv.DefaultOrg(), k.Name[len(k.Name)-36:], signer.Public(), "golden")
		if err != nil {
			t.Fatal(err)
		}
		k.Name = view.Name // FixedKey's organization is not the seeded sandbox's
		*slot = k
	}
	if err := store.Put(testctx.New(t), item); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("app.env", []byte("OTHER=kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, stderr := iostreams.Test()
	if terminal {
		ios.SetStdoutTTY(true)
		ios.SetTerminalWidth(120)
	}
	conf := &config.Config{Path: "config.yaml", Profiles: map[string]config.Profile{"prod": {
		Endpoint: ts.URL,
		Issuer:   &config.Issuer{Type: "sandbox"},
		Sinks:    []config.Sink{{Type: "envfile", Path: "app.env"}},
	}}}
	f := &cmdutil.Factory{
		IOStreams: ios, Profile: "prod",
		Config:  func() (*config.Config, error) { return conf, nil },
		Keyring: func() (credentials.Store, error) { return store, nil },
	}
	return &goldenKeysEnv{f: f, ios: ios, out: stdout, err: stderr, store: store, srv: srv}
}

// TestKeysRotateGolden: a full rotation (--yes, no grace) against the seeded sandbox with an
// envfile sink: each step's line on stderr, nothing on stdout.
func TestKeysRotateGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{"rotate_tty", true}, {"rotate_nontty", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGoldenKeysEnv(t, tc.terminal, false)
			cmd := NewCmdRotate(e.f, func(ctx context.Context, opts *RotateOptions) error {
				opts.Now = func() time.Time { return clitest.FixedNow }
				return rotateRun(ctx, opts)
			})
			env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
			stdout, stderr, err := env.Run(t, cmd, "prod", "--yes")
			if err != nil {
				t.Fatalf("err %v, stderr %s", err, stderr)
			}
			// What the lines say happened: the keyring's new CURRENT key is in the envfile.
			it, err := e.store.Get(testctx.New(t), "prod")
			if err != nil {
				t.Fatal(err)
			}
			envfile, err := os.ReadFile("app.env")
			if err != nil || !strings.Contains(string(envfile), it.Current.Name) || !strings.Contains(stderr, it.Current.Name) {
				t.Fatalf("app.env (%v) or the output does not hold the new CURRENT key %s", err, it.Current.Name)
			}
			clitest.Golden(t, tc.name+".golden", stdout)
			clitest.Golden(t, tc.name+".stderr.golden", stderr)
		})
	}
}

// TestKeysRotateDryRunGolden: --dry-run's plan, on stdout (for a reviewer to read or a script to
// keep), on a terminal and piped; nothing is created, so nothing else is printed.
func TestKeysRotateDryRunGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{"rotate_dry_run_tty", true}, {"rotate_dry_run_nontty", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGoldenKeysEnv(t, tc.terminal, false)
			env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
			before := len(e.srv.APIKeys(e.srv.DefaultOrg()))
			stdout, stderr, err := env.Run(t, NewCmdRotate(e.f, nil), "prod", "--dry-run")
			if err != nil {
				t.Fatalf("err %v, stderr %s", err, stderr)
			}
			if n := len(e.srv.APIKeys(e.srv.DefaultOrg())); n != before {
				t.Fatalf("--dry-run made %d keys at the sandbox", n-before)
			}
			clitest.Golden(t, tc.name+".golden", stdout)
			clitest.Golden(t, tc.name+".stderr.golden", stderr)
		})
	}
}

// TestKeysRotateGraceStopGolden: a rotation with --grace 24h promotes the new key, delivers it,
// and stops (exit 5) before revoking the old one, saying when to resume; keys status an hour
// later shows the wait and the command that ends it.
func TestKeysRotateGraceStopGolden(t *testing.T) {
	e := newGoldenKeysEnv(t, false, false)
	before, err := e.store.Get(testctx.New(t), "prod")
	if err != nil {
		t.Fatal(err)
	}
	oldKey := before.Current.Name
	cmd := NewCmdRotate(e.f, func(ctx context.Context, opts *RotateOptions) error {
		opts.Now = func() time.Time { return clitest.FixedNow }
		return rotateRun(ctx, opts)
	})
	env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
	stdout, stderr, err := env.Run(t, cmd, "prod", "--yes", "--grace", "24h")
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || exit.Code != cmdutil.ExitIncomplete {
		t.Fatalf("err %v, want exit %d (resumable); stderr %s", err, cmdutil.ExitIncomplete, stderr)
	}
	// What the lines say: the new key is CURRENT and delivered, the old one still valid.
	it, gerr := e.store.Get(testctx.New(t), "prod")
	if gerr != nil || it.Previous == nil || it.Previous.Name != oldKey {
		t.Fatalf("keyring prod: %+v (%v), want the old key %s kept as PREVIOUS", it, gerr, oldKey)
	}
	for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
		if k.Name == oldKey && k.State == waasapi.APIKeyRevoked {
			t.Fatalf("the old key %s was revoked before the grace period ended", oldKey)
		}
	}
	clitest.Golden(t, "rotate_grace_stop_nontty.golden", stdout)
	clitest.Golden(t, "rotate_grace_stop_nontty.stderr.golden", stderr+"error: "+err.Error()+"\n")

	ios, _, statusOut, statusErr := iostreams.Test()
	status := &StatusOptions{IO: ios, Keyring: e.f.Keyring, StateDir: config.StateDir,
		Output: func() cmdutil.OutputFormat { return "" }, Now: func() time.Time { return clitest.FixedNow.Add(time.Hour) },
		Location: time.UTC, Profiles: []string{"prod"}}
	if err := statusRun(testctx.New(t), status); err != nil || statusErr.Len() != 0 {
		t.Fatalf("keys status: err %v, stderr %q", err, statusErr)
	}
	clitest.Golden(t, "status_grace_nontty.golden", statusOut.String())

	// A day and an hour later the grace period is over: --resume revokes the old key.
	resume := NewCmdRotate(e.f, func(ctx context.Context, opts *RotateOptions) error {
		opts.Now = func() time.Time { return clitest.FixedNow.Add(25 * time.Hour) }
		return rotateRun(ctx, opts)
	})
	stdout, stderr, err = env.Run(t, resume, "prod", "--resume")
	if err != nil {
		t.Fatalf("--resume: err %v, stderr %s", err, stderr)
	}
	revoked := false
	for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
		revoked = revoked || k.Name == oldKey && k.State == waasapi.APIKeyRevoked
	}
	if !revoked {
		t.Fatalf("--resume after the grace period left the old key %s unrevoked", oldKey)
	}
	clitest.Golden(t, "rotate_resume_nontty.golden", stdout)
	clitest.Golden(t, "rotate_resume_nontty.stderr.golden", withoutRotationID(stderr))
}

// withoutRotationID is out with every rotation's id written ID, the one field golden files
// normalise: a rotation's id is a UUIDv7, stamped with the wall clock.
func withoutRotationID(out string) string {
	return regexp.MustCompile(`rotation [0-9a-f-]{36} `).ReplaceAllString(out, "rotation ID ")
}

// TestKeysRotateAbortGolden: a rotation stopped at observe (the sink's restart command fails:
// exit 5, the old key still current), then --abort: the sink gets the old key back, is
// restarted, and the new key is revoked at WaaS. Then the same with the envfile sink of the other tests, which cannot
// take the old key back (it is Ed25519; the reference proxy's .env holds P-256 keys only): the
// abort stops, saying why, and the new key is not revoked.
func TestKeysRotateAbortGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sink   config.Sink
		undone bool
	}{
		// The restart fails once (the rotation stops), then works (the abort restarts the sink).
		{"rotate_abort", config.Sink{Type: "exec", Command: []string{"sh", "-c", "cat > sink.json"},
			Restart: []string{"sh", "-c", "test -e restarted-once || { touch restarted-once; exit 1; }"}}, true},
		{"rotate_abort_refused", config.Sink{Type: "envfile", Path: "app.env", Restart: []string{"false"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGoldenKeysEnv(t, false, false)
			conf, err := e.f.Config()
			if err != nil {
				t.Fatal(err)
			}
			prod := conf.Profiles["prod"]
			prod.Sinks = []config.Sink{tc.sink}
			conf.Profiles["prod"] = prod
			before, err := e.store.Get(testctx.New(t), "prod")
			if err != nil {
				t.Fatal(err)
			}
			env := &clitest.Env{Factory: e.f, Stdout: e.out, Stderr: e.err}
			_, stderr, err := env.Run(t, NewCmdRotate(e.f, nil), "prod", "--yes")
			var exit *cmdutil.ExitError
			if !errors.As(err, &exit) || exit.Code != cmdutil.ExitIncomplete {
				t.Fatalf("err %v, want exit %d; stderr %s", err, cmdutil.ExitIncomplete, stderr)
			}
			clitest.Golden(t, tc.name+"_restart_failed_nontty.stderr.golden", withoutRotationID(stderr+"error: "+err.Error()+"\n"))

			stdout, stderr, err := env.Run(t, NewCmdRotate(e.f, nil), "prod", "--abort", "--yes")
			if (err == nil) != tc.undone {
				t.Fatalf("--abort: err %v, want an error: %v; stderr %s", err, !tc.undone, stderr)
			}
			after, gerr := e.store.Get(testctx.New(t), "prod")
			if gerr != nil || after.Current.Name != before.Current.Name {
				t.Fatalf("after --abort the keyring holds %+v (%v), want the old key CURRENT", after, gerr)
			}
			revoked := 0
			for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
				if k.State == waasapi.APIKeyRevoked {
					revoked++
					if k.Name == before.Current.Name {
						t.Fatal("--abort revoked the old key")
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.undone]; revoked != want {
				t.Fatalf("%d keys revoked, want %d", revoked, want)
			}
			if err != nil {
				stderr += "error: " + err.Error() + "\n"
			}
			clitest.Golden(t, tc.name+"_nontty.golden", stdout)
			clitest.Golden(t, tc.name+"_nontty.stderr.golden", withoutRotationID(stderr))
		})
	}
}
