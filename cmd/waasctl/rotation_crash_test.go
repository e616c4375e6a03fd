package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// The crash harness runs waasctl in separate processes against an in-process sandbox, kills
// rotations with SIGKILL at points swept across a rotation's duration, recovers them with
// --resume or --abort and checks the rotation invariants (docs/architecture.md) after each.

var (
	crashBinOnce sync.Once
	crashBin     string
	crashBinErr  error
)

// waasctlBinary returns this test binary under the name "waasctl", in a temp folder that
// outlives the tests that use it: run so, it is waasctl (TestMain hands it to main, as for the
// scripts), with the file keyring's test cost. A binary built with go build would derive every
// keyring item's key at the product's cost, several times per rotation and recovery.
func waasctlBinary(t *testing.T) string {
	t.Helper()
	crashBinOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			crashBinErr = err
			return
		}
		dir, err := os.MkdirTemp("", "waasctl-crash-bin-")
		if err != nil {
			crashBinErr = err
			return
		}
		bin := filepath.Join(dir, "waasctl")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if err := os.Symlink(self, bin); err != nil {
			// Windows without the symlink privilege: a copy does as well.
			data, err := os.ReadFile(self)
			if err == nil {
				err = os.WriteFile(bin, data, 0o700)
			}
			if err != nil {
				crashBinErr = fmt.Errorf("the test binary as waasctl: %v", err)
				return
			}
		}
		crashBin = bin
	})
	if crashBinErr != nil {
		t.Fatal(crashBinErr)
	}
	return crashBin
}

type crashEnv struct {
	t          *testing.T
	bin        string
	dir        string
	env        []string
	srv        *sandbox.Server
	org        string
	url        string
	keyringDir string
	stateDir   string
	envPath    string
	bootstrap  string // the first key's name
	// intercept, when set, sees every request to the sandbox before it is served; it may block.
	intercept atomic.Pointer[func(*http.Request)]
}

type runResult struct {
	code   int
	stdout string
	stderr string
	dur    time.Duration
}

func (r runResult) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout:\n%s--- stderr:\n%s", r.code, r.dur.Round(time.Millisecond), r.stdout, r.stderr)
}

// newCrashEnv starts a sandbox with the given latency and sets up profile prod in a file
// keyring, with issuer sandbox and an envfile sink.
func newCrashEnv(t *testing.T, latency time.Duration) *crashEnv {
	t.Helper()
	bin := waasctlBinary(t)
	dir := t.TempDir()
	e := &crashEnv{t: t, bin: bin, dir: dir}

	srv, err := sandbox.New(sandbox.Config{Seed: 1, Latency: latency, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 1, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.org = srv, srv.DefaultOrg()
	// Served through a hook, so that a test can hold a request at a chosen point (see
	// TestConcurrentRotationsOneExits6).
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook := e.intercept.Load(); hook != nil {
			(*hook)(r)
		}
		srv.ServeHTTP(w, r)
	}))
	e.url = hs.URL
	t.Cleanup(hs.Close)

	key, err := srv.CreateAPIKey(e.org, waasapi.CreateAPIKeyRequest{Nickname: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	e.bootstrap = key.Name
	data, _ := json.Marshal(map[string]string{"name": key.Name, "privateKey": key.PrivateKey})
	keyFile := filepath.Join(dir, "key.json")
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, d := range []string{"home", "config", "state", "keyring", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.keyringDir = filepath.Join(dir, "keyring")
	e.stateDir = filepath.Join(dir, "state", "waasctl")
	e.envPath = filepath.Join(dir, "proxy.env")
	if err := os.WriteFile(e.envPath, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("profiles:\n  prod:\n    endpoint: %s\n    issuer: {type: sandbox}\n    sinks:\n      - {type: envfile, path: %s}\n", e.url, e.envPath)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"WAASCTL_CONFIG=" + cfgPath,
		"WAASCTL_KEYRING_BACKEND=file",
		"WAASCTL_KEYRING_DIR=" + e.keyringDir,
		"WAASCTL_KEYRING_PASSPHRASE=pw",
	}
	e.mustRun("--endpoint", e.url, "auth", "add", "prod", "--key-file", keyFile)
	return e
}

func (e *crashEnv) command(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = e.dir
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func (e *crashEnv) run(args ...string) runResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := e.command(ctx, args...)
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), dur: time.Since(start)}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			// Errorf, not Fatalf: run is called from goroutines too.
			e.t.Errorf("waasctl %s: %v", strings.Join(args, " "), err)
			res.code = -2
			return res
		}
		res.code = ee.ExitCode()
	}
	return res
}

func (e *crashEnv) mustRun(args ...string) runResult {
	e.t.Helper()
	res := e.run(args...)
	if res.code != 0 {
		e.t.Fatalf("waasctl %s: %s", strings.Join(args, " "), res)
	}
	return res
}

func (e *crashEnv) store() credentials.Store {
	e.t.Helper()
	s, err := credentials.OpenStore(credentials.StoreConfig{
		Backend: "file", FileDir: e.keyringDir,
		Passphrase: func() (string, error) { return "pw", nil },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *crashEnv) item() *credentials.Item {
	e.t.Helper()
	it, err := e.store().Get(context.Background(), "prod")
	if err != nil {
		e.t.Fatalf("keyring: %v", err)
	}
	return it
}

// checkInvariants returns the violated invariants after a rotation was recovered; none: nil.
func (e *crashEnv) checkInvariants() []string {
	e.t.Helper()
	var bad []string
	ctx := context.Background()
	st := e.store()

	// 1. Exactly one CURRENT key, and it authenticates.
	profiles, err := st.Profiles(ctx)
	if err != nil {
		return append(bad, "keyring profiles: "+err.Error())
	}
	if len(profiles) != 1 || profiles[0] != "prod" {
		bad = append(bad, fmt.Sprintf("keyring profiles %v, want [prod]", profiles))
	}
	it, err := st.Get(ctx, "prod")
	if err != nil {
		return append(bad, "keyring: "+err.Error())
	}
	if it.Current == nil {
		return append(bad, "no CURRENT key in the keyring")
	}
	if r := e.run("--profile", "prod", "pools", "list"); r.code != 0 {
		bad = append(bad, "the CURRENT key does not authenticate: pools list: "+r.String())
	}
	// 3. (keyring part) No PENDING, no PREVIOUS left.
	if it.Pending != nil {
		bad = append(bad, "a PENDING key is left in the keyring: "+it.Pending.Name)
	}
	if it.Previous != nil {
		bad = append(bad, "a PREVIOUS key is left in the keyring: "+it.Previous.Name)
	}

	// 2. Exactly one ACTIVE key at WaaS, the CURRENT one: no orphan.
	var active []string
	for _, k := range e.srv.APIKeys(e.org) {
		if k.State == waasapi.APIKeyActive {
			active = append(active, k.Name)
		}
	}
	if len(active) != 1 || active[0] != it.Current.Name {
		bad = append(bad, fmt.Sprintf("active keys at the sandbox %v, want only the CURRENT %s", active, it.Current.Name))
	}

	// 3. No rotation in progress.
	if _, err := os.Stat(filepath.Join(e.stateDir, "journals", "prod.json")); err == nil {
		bad = append(bad, "the rotation journal was not archived")
	}
	j, err := rotation.LoadJournal(e.stateDir, "prod")
	if err != nil {
		bad = append(bad, "loading the journal: "+err.Error())
	} else if j != nil && !j.Step.Finished() {
		bad = append(bad, fmt.Sprintf("rotation %s still in progress at %s", j.ID, j.Step))
	}
	status := e.run("keys", "status")
	if status.code != 0 {
		bad = append(bad, "keys status: "+status.String())
	} else {
		for _, w := range []string{"pending", "previous", "journal"} {
			if strings.Contains(status.stdout, w) {
				bad = append(bad, "keys status shows "+w+": "+status.stdout)
			}
		}
	}

	// 4. The audit log verifies: `log verify` exits 0 (a kill between an entry and its
	// checkpoint leaves the head one behind, which verifies with a note and is repaired by the
	// next entry).
	auditDir := filepath.Join(e.stateDir, "audit")
	rep, verr := auditlog.Verify(auditDir)
	r := e.run("log", "verify")
	if verr != nil || !rep.OK || r.code != 0 || !strings.Contains(r.stdout, "OK") {
		bad = append(bad, fmt.Sprintf("log verify: %s\nauditlog.Verify: %+v %v %v", r, rep, rep.Problem, verr))
	}

	// 5. No old key revoked before the new one was delivered and promoted.
	bad = append(bad, e.checkAuditOrder(auditDir)...)

	// 6. The .env holds the CURRENT key.
	name, fp, err := rotation.ReadEnvKey(e.envPath)
	switch {
	case err != nil:
		bad = append(bad, "reading the .env: "+err.Error())
	case name != it.Current.Name || fp != it.Current.Fingerprint:
		bad = append(bad, fmt.Sprintf(".env holds %s (%s), the CURRENT key is %s (%s)", name, credentials.ShortFingerprint(fp), it.Current.Name, credentials.ShortFingerprint(it.Current.Fingerprint)))
	}
	return bad
}

// checkAuditOrder checks, per rotation, that a successful rotate.revoke comes after the
// successful rotate.deliver and rotate.promote, and that no aborted rotation revoked its old key.
func (e *crashEnv) checkAuditOrder(dir string) []string {
	var bad []string
	type rot struct {
		actions []string
	}
	rots := map[string]*rot{}
	var order []string
	for ent, err := range auditlog.Read(dir) {
		if err != nil {
			return append(bad, "reading the audit log: "+err.Error())
		}
		if !strings.HasPrefix(ent.Action, "rotate.") {
			continue
		}
		id, _, ok := strings.Cut(strings.TrimPrefix(ent.Detail, "rotation "), ":")
		if !ok || !strings.HasPrefix(ent.Detail, "rotation ") {
			bad = append(bad, fmt.Sprintf("audit entry %d (%s) names no rotation: %q", ent.Seq, ent.Action, ent.Detail))
			continue
		}
		r := rots[id]
		if r == nil {
			r = &rot{}
			rots[id] = r
			order = append(order, id)
		}
		r.actions = append(r.actions, ent.Action+"/"+ent.Outcome)
	}
	for _, id := range order {
		acts := rots[id].actions
		idx := func(a string) int {
			for i, x := range acts {
				if x == a {
					return i
				}
			}
			return -1
		}
		rev := idx("rotate.revoke/" + auditlog.OutcomeOK)
		if rev < 0 {
			continue
		}
		if idx("rotate.abort/"+auditlog.OutcomeAborted) >= 0 {
			bad = append(bad, fmt.Sprintf("rotation %s: both aborted and revoked the old key: %v", id, acts))
		}
		// The archived journal is the engine's own record: every sink got the new key before
		// the old one was revoked.
		jbad := e.checkArchivedJournal(id)
		bad = append(bad, jbad...)
		var gaps []string
		for _, step := range []string{"deliver", "promote"} {
			if i := idx("rotate." + step + "/" + auditlog.OutcomeOK); i < 0 {
				gaps = append(gaps, fmt.Sprintf("rotation %s: rotate.revoke without an earlier rotate.%s: %v", id, step, acts))
			} else if i > rev {
				bad = append(bad, fmt.Sprintf("rotation %s: rotate.revoke before rotate.%s: %v", id, step, acts))
			}
		}
		// Every step's entry is written before the journal moves past it, so none may be
		// missing.
		bad = append(bad, gaps...)
	}
	return bad
}

// checkArchivedJournal checks the archived journal of a finished rotation: done, the old key
// revoked, and every sink given the new key before that.
func (e *crashEnv) checkArchivedJournal(id string) []string {
	paths, _ := filepath.Glob(filepath.Join(e.stateDir, "journals", "history", "prod-*-"+id+".json"))
	if len(paths) != 1 {
		return []string{fmt.Sprintf("rotation %s: %d archived journals, want 1", id, len(paths))}
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		return []string{err.Error()}
	}
	var j rotation.Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return []string{fmt.Sprintf("rotation %s: journal: %v", id, err)}
	}
	var bad []string
	if j.Step != rotation.StepDone || j.RevokedAt.IsZero() {
		bad = append(bad, fmt.Sprintf("rotation %s: revoked per the audit log, but its journal is at %s, revoked at %v", id, j.Step, j.RevokedAt))
	}
	if len(j.Sinks) != 1 {
		bad = append(bad, fmt.Sprintf("rotation %s: the journal records %d sinks, want 1", id, len(j.Sinks)))
	}
	for _, r := range j.Sinks {
		if r.DeliveredFingerprint != j.NewKey.Fingerprint || r.At.IsZero() || r.At.After(j.RevokedAt) {
			bad = append(bad, fmt.Sprintf("rotation %s: sink %s got %s at %v; the new key is %s, the old one revoked at %v", id, r.Name, r.DeliveredFingerprint, r.At, j.NewKey.Fingerprint, j.RevokedAt))
		}
	}
	return bad
}

// crashSeed replays TestRotationSurvivesSIGKILL's kill points; 0 draws a seed from the clock.
var crashSeed = flag.Uint64("crash.seed", 0, "TestRotationSurvivesSIGKILL: the seed of the kill points' jitter (0: from the clock; printed by every run)")

// TestRotationSurvivesSIGKILL kills `keys rotate` with SIGKILL at points across a rotation,
// recovers with --resume (even iterations) or --abort (odd ones) and checks the invariants.
func TestRotationSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Log("-short: fewer iterations")
	}
	n := 12
	if testing.Short() {
		n = 4
	}
	// WAASCTL_CRASH_ITERATIONS=N sweeps more finely, to hunt for a rare window.
	if v := os.Getenv("WAASCTL_CRASH_ITERATIONS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("WAASCTL_CRASH_ITERATIONS=%q: want a positive number", v)
		}
	}
	e := newCrashEnv(t, 30*time.Millisecond)

	// One plain rotation first: the setup works, and it gives the duration to sweep.
	plain := e.run("keys", "rotate", "prod", "--yes")
	if plain.code != 0 {
		t.Fatalf("plain rotation: %s", plain)
	}
	if bad := e.checkInvariants(); len(bad) > 0 {
		t.Fatalf("after the plain rotation:\n  %s\nrotation output: %s", strings.Join(bad, "\n  "), plain)
	}
	if e.item().Current.Name == e.bootstrap {
		t.Fatalf("the plain rotation did not change the CURRENT key")
	}
	full := plain.dur
	t.Logf("a full rotation takes %s", full.Round(time.Millisecond))

	// The kill points are the sweep plus jitter from a seed, printed so that a failure can be
	// replayed with the same points (scaled to this machine's rotation duration).
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("jitter seed %d", seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay these kill points: go test ./cmd/waasctl -run 'TestRotationSurvivesSIGKILL$' -crash.seed=%d (WAASCTL_CRASH_ITERATIONS=%d)", seed, n)
		}
	})
	killed := 0
	for i := range n {
		before := e.item().Current
		delay := full*time.Duration(i)/time.Duration(n) + time.Duration(rng.Int64N(int64(full/time.Duration(2*n))+1))
		recovery := "--resume"
		if i%2 == 1 {
			recovery = "--abort"
		}

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd, stdout, stderr := e.command(ctx, "keys", "rotate", "prod", "--yes")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var landed bool
		var waitErr error
		select {
		case waitErr = <-exited:
		case <-time.After(delay):
			landed = cmd.Process.Kill() == nil
			waitErr = <-exited
		}
		cancel()
		elapsed := time.Since(start)
		var ee *exec.ExitError
		if landed && errors.As(waitErr, &ee) && ee.ExitCode() == -1 {
			killed++
		} else {
			landed = false
		}
		killOut := fmt.Sprintf("killed rotation (after %s, killed=%v, %v):\n--- stdout:\n%s--- stderr:\n%s", elapsed.Round(time.Millisecond), landed, waitErr, stdout, stderr)
		if !landed && waitErr != nil {
			t.Errorf("iteration %d: the rotation exited on its own with an error: %s", i, killOut)
			continue
		}

		// Where the kill left the rotation, for the log.
		at := "no rotation in progress"
		if j, err := rotation.LoadJournal(e.stateDir, "prod"); err != nil {
			at = "journal unreadable: " + err.Error()
		} else if j != nil {
			at = "journal at " + string(j.Step)
		}

		rec := e.run("keys", "rotate", "prod", recovery, "--yes")
		recOut := fmt.Sprintf("keys rotate prod %s --yes: %s", recovery, rec)
		if rec.code != 0 && recovery == "--abort" && strings.Contains(rec.stderr, "only finished") {
			// Killed after the old key was revoked: abort refuses, as documented; finish it.
			res := e.run("keys", "rotate", "prod", "--resume", "--yes")
			recOut += fmt.Sprintf("\nabort refused (old key already revoked); keys rotate prod --resume --yes: %s", res)
			rec = res
		}
		logf := func() {
			t.Logf("iteration %d: kill delay %s, %s\n%s\n%s", i, delay.Round(time.Millisecond), at, killOut, recOut)
		}
		if rec.code != 0 {
			logf()
			t.Errorf("iteration %d (kill delay %s): recovery with %s exited %d", i, delay.Round(time.Millisecond), recovery, rec.code)
			continue
		}
		bad := e.checkInvariants()
		after := e.item().Current
		aborted := strings.Contains(rec.stderr, "aborted:")
		resumed := strings.Contains(rec.stderr, "done:")
		switch {
		case aborted && after.Fingerprint != before.Fingerprint:
			bad = append(bad, fmt.Sprintf("6. after abort the CURRENT key is %s, want the original %s", after.Name, before.Name))
		case resumed && after.Fingerprint == before.Fingerprint:
			bad = append(bad, "after resume the CURRENT key is still the original "+before.Name)
		}
		if after.Fingerprint != before.Fingerprint {
			for _, k := range e.srv.APIKeys(e.org) {
				if k.Name == before.Name && k.State != waasapi.APIKeyRevoked {
					bad = append(bad, "the replaced key "+before.Name+" is not revoked")
				}
			}
		}
		what := "nothing in progress"
		switch {
		case aborted:
			what = "rolled back"
		case resumed:
			what = "finished"
		}
		t.Logf("iteration %d: kill at %s (landed=%v, %s), %s: %s", i, delay.Round(time.Millisecond), landed, at, recovery, what)
		if len(bad) > 0 {
			logf()
			t.Errorf("iteration %d (kill delay %s, %s): invariants violated:\n  %s", i, delay.Round(time.Millisecond), recovery, strings.Join(bad, "\n  "))
			t.FailNow() // later iterations start from a broken state
		}
	}
	// A last plain rotation: it must work after all that, and its appends repair a head left
	// one behind by the last kill.
	if last := e.run("keys", "rotate", "prod", "--yes"); last.code != 0 {
		t.Fatalf("the final plain rotation: %s", last)
	}
	if bad := e.checkInvariants(); len(bad) > 0 {
		t.Fatalf("after the final plain rotation:\n  %s", strings.Join(bad, "\n  "))
	}
	t.Logf("%d of %d kills landed before the process exited on its own", killed, n)
	if killed == 0 {
		t.Errorf("no kill landed inside a rotation; the sweep is miscalibrated")
	}
}

// TestConcurrentRotationsOneExits6 starts a rotation of one profile while another holds it: the
// second must exit 6 naming the holder of the lock, and the first must then finish. The overlap is
// made certain, not hoped for: the first rotation is held at its CreateAPIKey call (after it has
// taken the lock) until the second has exited.
func TestConcurrentRotationsOneExits6(t *testing.T) {
	e := newCrashEnv(t, 0)
	held := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	hook := func(r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/apiKeys") {
			return
		}
		once.Do(func() {
			close(held)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
	}
	e.intercept.Store(&hook)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, firstOut, firstErr := e.command(ctx, "keys", "rotate", "prod", "--yes")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Wait() }()
	select {
	case <-held:
	case err := <-firstDone:
		t.Fatalf("the first rotation ended (%v) before creating its new key:\n--- stdout:\n%s--- stderr:\n%s", err, firstOut, firstErr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the first rotation did not reach CreateAPIKey in 30 s:\n--- stderr:\n%s", firstErr)
	}

	second := e.run("keys", "rotate", "prod", "--yes")
	close(release)
	if second.code != 6 || !strings.Contains(second.stderr, "is being rotated by") {
		t.Errorf("the second rotation, while the first holds the lock: %s\nwant exit 6 naming the holder", second)
	}
	select {
	case err := <-firstDone:
		if err != nil {
			t.Fatalf("the first rotation, once released: %v\n--- stdout:\n%s--- stderr:\n%s", err, firstOut, firstErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the first rotation did not finish within 30 s of being released:\n--- stderr:\n%s", firstErr)
	}
	if bad := e.checkInvariants(); len(bad) > 0 {
		t.Fatalf("invariants violated after the concurrent rotations:\n  %s", strings.Join(bad, "\n  "))
	}
	if e.item().Current.Name == e.bootstrap {
		t.Fatalf("the first rotation did not change the CURRENT key")
	}
}
