package main

import (
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
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Team mode end to end: two hosts (their own HOME, config and state folders, file keyrings, age
// identities and host names) share one PostgreSQL team store (scripts/with-postgres.sh) and
// rotate one profile of an in-process sandbox, whose key-admin API and the shared envfile sink
// are checked after every step. The sandbox can hold a chosen request, so that a host is killed,
// frozen or raced at a known point of its rotation (events, not sleeps).

type teamHost struct {
	name string // WAASCTL_HOST_NAME
	env  []string
}

type teamRig struct {
	t       *testing.T
	bin     string
	dir     string
	dsn     string
	srv     *sandbox.Server
	org     string
	url     string
	envPath string
	a, b    *teamHost
	secrets []string // lines of keys the sink was given, for noKeyInStateRows
	// hold, when set, is asked about every request before it is served; a request it
	// matches waits until released.
	hold atomic.Pointer[holdPoint]
}

// holdPoint holds the first request match accepts until release is closed, then serves it and
// closes served.
type holdPoint struct {
	match    func(*http.Request) bool
	once     sync.Once
	reached  chan struct{}
	release  chan struct{}
	served   chan struct{}
	released sync.Once
}

// holdAt holds the first request match accepts. The returned point's reached is closed when it
// arrives; Release lets it be served and waits until it was.
func (r *teamRig) holdAt(match func(*http.Request) bool) *holdPoint {
	p := &holdPoint{match: match, reached: make(chan struct{}), release: make(chan struct{}), served: make(chan struct{})}
	r.hold.Store(p)
	// A test that fails while a request is held must not leave the server waiting on it.
	r.t.Cleanup(func() { p.released.Do(func() { close(p.release) }) })
	return p
}

// Release lets the held request be served and waits until it was (a request whose client is
// gone, too: the sandbox may still act on it, as a server does).
func (p *holdPoint) Release(t *testing.T) {
	t.Helper()
	p.released.Do(func() { close(p.release) })
	select {
	case <-p.reached:
	default:
		return // nothing was held
	}
	select {
	case <-p.served:
	case <-time.After(30 * time.Second):
		t.Fatal("the held request was not served within 30 s of its release")
	}
}

func newTeamRig(t *testing.T) *teamRig {
	t.Helper()
	dsn := teamtest.NewDatabase(t) // skips without a server (fails under WAASCTL_REQUIRE_POSTGRES=1)
	dir := t.TempDir()
	r := &teamRig{t: t, bin: waasctlBinary(t), dir: dir, dsn: dsn}
	srv, err := sandbox.New(sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 2, WalletsPerPool: 1, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	if err != nil {
		t.Fatal(err)
	}
	r.srv, r.org = srv, srv.DefaultOrg()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if p := r.hold.Load(); p != nil && p.match(req) {
			held := false
			p.once.Do(func() { held = true })
			if held {
				close(p.reached)
				<-p.release
				srv.ServeHTTP(w, req)
				close(p.served)
				return
			}
		}
		srv.ServeHTTP(w, req)
	}))
	t.Cleanup(hs.Close)
	r.url = hs.URL

	key, err := srv.CreateAPIKey(r.org, waasapi.CreateAPIKeyRequest{Nickname: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{"name": key.Name, "privateKey": key.PrivateKey})
	keyFile := filepath.Join(dir, "key.json")
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// One config.yaml for both hosts, as a team keeps it in its ops repository; the sink is the
	// middle tier's env file.
	r.envPath = filepath.Join(dir, "proxy.env")
	if err := os.WriteFile(r.envPath, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("profiles:\n  prod:\n    endpoint: %s\n    issuer: {type: sandbox}\n    sinks:\n      - {type: envfile, path: %s}\n", r.url, r.envPath)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	host := func(name string) *teamHost {
		hd := filepath.Join(dir, name)
		for _, d := range []string{"home", "config", "state", "keyring", "tmp"} {
			if err := os.MkdirAll(filepath.Join(hd, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		return &teamHost{name: name, env: []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + filepath.Join(hd, "home"),
			"XDG_CONFIG_HOME=" + filepath.Join(hd, "config"),
			"XDG_STATE_HOME=" + filepath.Join(hd, "state"),
			"TMPDIR=" + filepath.Join(hd, "tmp"),
			"WAASCTL_CONFIG=" + cfgPath,
			"WAASCTL_KEYRING_BACKEND=file",
			"WAASCTL_KEYRING_DIR=" + filepath.Join(hd, "keyring"),
			"WAASCTL_KEYRING_PASSPHRASE=pw-" + name,
			"WAASCTL_STATE_DSN=" + dsn,
			team.HostNameEnv + "=" + name,
		}}
	}
	r.a, r.b = host("host-a"), host("host-b")
	pubA := strings.TrimSpace(r.mustRun(r.a, "team", "identity", "new").stdout)
	pubB := strings.TrimSpace(r.mustRun(r.b, "team", "identity", "new").stdout)
	r.mustRun(r.a, "team", "init", "--recipient", "a="+pubA, "--recipient", "b="+pubB)
	r.mustRun(r.a, "auth", "add", "prod", "--key-file", keyFile)
	return r
}

func (r *teamRig) command(ctx context.Context, h *teamHost, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = h.env
	return cmd
}

// started is a waasctl running in the background.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr strings.Builder
	done           chan struct{}
	err            error
}

func (r *teamRig) start(h *teamHost, args ...string) *started {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s := &started{cmd: r.command(ctx, h, args...), done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		cancel()
		r.t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		cancel()
		close(s.done)
	}()
	r.t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// wait waits for the process to end and returns its exit code (-1: killed by a signal).
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("waasctl did not end within 90 s:\n--- stderr:\n%s", s.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return 0
}

// reach waits for p to be reached, failing if the process ends first.
func (r *teamRig) reach(p *holdPoint, s *started, what string) {
	r.t.Helper()
	select {
	case <-p.reached:
	case <-s.done:
		r.t.Fatalf("the rotation ended (%v) before %s:\n--- stderr:\n%s", s.err, what, s.stderr.String())
	case <-time.After(60 * time.Second):
		r.t.Fatalf("the rotation did not reach %s within 60 s:\n--- stderr:\n%s", what, s.stderr.String())
	}
}

func (r *teamRig) run(h *teamHost, args ...string) runResult {
	r.t.Helper()
	s := r.start(h, args...)
	start := time.Now()
	code := s.wait(r.t)
	return runResult{code: code, stdout: s.stdout.String(), stderr: s.stderr.String(), dur: time.Since(start)}
}

func (r *teamRig) mustRun(h *teamHost, args ...string) runResult {
	r.t.Helper()
	res := r.run(h, args...)
	if res.code != 0 {
		r.t.Fatalf("%s: waasctl %s: %s", h.name, strings.Join(args, " "), res)
	}
	return res
}

func (r *teamRig) store() *team.Store {
	r.t.Helper()
	s, err := team.Open(context.Background(), r.dsn)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(s.Close)
	return s
}

// current is the profile's CURRENT key as host h sees it (keys status), failing if a PENDING
// or PREVIOUS key or a rotation in progress is left.
func (r *teamRig) current(h *teamHost) rotation.KeyRef {
	r.t.Helper()
	res := r.mustRun(h, "keys", "status", "prod", "-o", "json")
	var slots []struct {
		Slot, Key, Fingerprint, Rotation string
	}
	if err := json.Unmarshal([]byte(res.stdout), &slots); err != nil {
		r.t.Fatalf("keys status -o json: %v\n%s", err, res.stdout)
	}
	if len(slots) != 1 || slots[0].Slot != "current" || slots[0].Rotation != "" {
		r.t.Fatalf("%s: keys status after the rotation: %s", h.name, res.stdout)
	}
	return rotation.KeyRef{Name: slots[0].Key, Fingerprint: slots[0].Fingerprint}
}

// settled checks what every finished or rolled back rotation leaves, from both hosts: one
// CURRENT key, the only ACTIVE key at the sandbox's key-admin API, held by the sink and usable
// from both hosts; no journal left in the team store; an audit table that verifies. Before the
// first rotation (initial) nothing was delivered to the sink yet.
func (r *teamRig) settled(initial ...bool) rotation.KeyRef {
	r.t.Helper()
	cur := r.current(r.a)
	if other := r.current(r.b); other != cur {
		r.t.Fatalf("the hosts see different CURRENT keys: %v and %v", cur, other)
	}
	var active []string
	for _, k := range r.srv.APIKeys(r.org) {
		if k.State == waasapi.APIKeyActive {
			active = append(active, k.Name)
		}
	}
	if !slices.Equal(active, []string{cur.Name}) {
		r.t.Fatalf("ACTIVE keys at the sandbox %v, want only the CURRENT %s", active, cur.Name)
	}
	name, fp, err := rotation.ReadEnvKey(r.envPath)
	if len(initial) == 0 && (err != nil || name != cur.Name || fp != cur.Fingerprint) {
		r.t.Fatalf("the sink holds %s (%s, %v), want the CURRENT %s", name, fp, err, cur.Name)
	}
	for _, h := range []*teamHost{r.a, r.b} {
		r.mustRun(h, "pools", "list", "--profile", "prod")
	}
	s := r.store()
	if rots, err := s.Rotations(context.Background()); err != nil || len(rots) != 0 {
		r.t.Fatalf("journals left in the team store: %+v, %v", rots, err)
	}
	if rep, err := s.VerifyAudit(context.Background()); err != nil || !rep.OK {
		r.t.Fatalf("the team audit table does not verify: %+v, %v", rep, err)
	}
	return cur
}

// isCreate matches the issuer's create call; isRevoke its revocation of a key.
func isCreate(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/apiKeys")
}

func isRevoke(req *http.Request) bool {
	return req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/apiKeys/")
}

// afterCreate matches the n-th pools request after a create: verify checks the current key (1),
// then the new one (2).
func afterCreate(n int32) func(*http.Request) bool {
	var created atomic.Bool
	var seen atomic.Int32
	return func(req *http.Request) bool {
		if isCreate(req) {
			created.Store(true)
			return false
		}
		return created.Load() && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/pools") && seen.Add(1) == n
	}
}

// (b) A rotation killed with SIGKILL on host A at a known point is finished by --resume, or
// rolled back by --abort, on host B; each time exactly one ACTIVE key remains, the one the sink
// and both hosts hold.
func TestTeamRotationKilledOnOneHostIsRecoveredOnTheOther(t *testing.T) {
	r := newTeamRig(t)
	before := r.settled(true)
	for _, round := range []struct {
		name     string
		at       func(*http.Request) bool
		recovery string
	}{
		{"killed at create, resumed", isCreate, "--resume"},
		{"killed at verify, aborted", afterCreate(1), "--abort"},
		{"killed at revoke, resumed", isRevoke, "--resume"},
		{"killed at create, aborted", isCreate, "--abort"},
	} {
		p := r.holdAt(round.at)
		a := r.start(r.a, "keys", "rotate", "prod", "--yes")
		r.reach(p, a, round.name)
		if err := a.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if code := a.wait(t); code != -1 {
			t.Fatalf("%s: host A exited %d before the kill landed:\n%s", round.name, code, a.stderr.String())
		}
		p.Release(t) // the server still acts on the request of a dead client
		r.hold.Store(nil)
		rec := r.run(r.b, "keys", "rotate", "prod", round.recovery, "--yes")
		if rec.code != 0 {
			t.Fatalf("%s: host B's keys rotate %s: %s\n--- host A's stderr:\n%s", round.name, round.recovery, rec, a.stderr.String())
		}
		after := r.settled()
		switch round.recovery {
		case "--resume":
			if after == before || !strings.Contains(rec.stderr, "done") {
				t.Fatalf("%s: the CURRENT key is still %s after --resume on B:\n%s", round.name, before.Name, rec)
			}
		case "--abort":
			if after != before || !strings.Contains(rec.stderr, "aborted") {
				t.Fatalf("%s: the CURRENT key is %s after --abort on B, want %s back:\n%s", round.name, after.Name, before.Name, rec)
			}
		}
		t.Logf("%s: CURRENT %s -> %s", round.name, rotation.MaskKeyName(before.Name), rotation.MaskKeyName(after.Name))
		before = after
		r.noteSinkKey()
	}
	r.noKeyInStateRows()
}

// noteSinkKey remembers the key the sink holds now, for noKeyInStateRows.
func (r *teamRig) noteSinkKey() {
	r.t.Helper()
	data, err := os.ReadFile(r.envPath)
	if err != nil {
		r.t.Fatal(err)
	}
	k, err := credentials.ParseKeyInput(data, "sink")
	if err != nil {
		r.t.Fatal(err)
	}
	secret, err := k.SecretText()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, line := range strings.Split(secret, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			r.secrets = append(r.secrets, line)
		}
	}
}

// noKeyInStateRows checks that no journal (in progress or archived), audit row or lock row in the
// team store holds a key the sink was given or looks like a PEM private key, and that the hosts
// kept no journal of their own: team mode writes rotations' state to the store only.
func (r *teamRig) noKeyInStateRows() {
	r.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		r.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT body FROM waasctl.journals UNION ALL SELECT body FROM waasctl.journal_archive
		UNION ALL SELECT line FROM waasctl.audit_log UNION ALL SELECT row_to_json(h)::text FROM waasctl.lock_holders h`)
	if err != nil {
		r.t.Fatal(err)
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		r.t.Fatal(err)
	}
	if len(texts) < 10 || len(r.secrets) == 0 {
		r.t.Fatalf("%d rows, %d key lines: nothing to check", len(texts), len(r.secrets))
	}
	for _, text := range texts {
		if strings.Contains(text, "PRIVATE KEY") {
			r.t.Fatalf("a team store row holds a PEM private key")
		}
		for _, n := range r.secrets {
			if strings.Contains(text, n) {
				r.t.Fatalf("a team store row holds a key the sink was given")
			}
		}
	}
	for _, h := range []*teamHost{r.a, r.b} {
		if m, _ := filepath.Glob(filepath.Join(r.dir, h.name, "state", "waasctl", "journals", "*")); len(m) > 0 {
			r.t.Fatalf("%s kept journals of its own in team mode: %v", h.name, m)
		}
	}
}

// (c) Two hosts rotate at once: exactly one proceeds, the other exits 6 naming the first host.
func TestTeamConcurrentRotationsOneExits6NamingTheHost(t *testing.T) {
	r := newTeamRig(t)
	before := r.settled(true)
	p := r.holdAt(isCreate) // A holds the lock, at create, until B has tried
	a := r.start(r.a, "keys", "rotate", "prod", "--yes")
	r.reach(p, a, "create")
	b := r.run(r.b, "keys", "rotate", "prod", "--yes")
	// auth remove takes the same lock; keys status names its holder and the rotation's step.
	rm := r.run(r.b, "auth", "remove", "prod", "--yes")
	status := r.run(r.b, "keys", "status", "prod")
	p.Release(t)
	if b.code != 6 || !strings.Contains(b.stderr, "@host-a") || strings.Count(strings.TrimSpace(b.stderr), "\n") != 0 {
		t.Fatalf("host B, while A rotates: %s\nwant exit 6 and one line naming host-a", b)
	}
	if rm.code != 6 || !strings.Contains(rm.stderr, "@host-a") {
		t.Fatalf("auth remove on host B, while A rotates: %s\nwant exit 6 naming host-a", rm)
	}
	if status.code != 0 || !strings.Contains(status.stdout, "in the team store") || !regexp.MustCompile(`lock held by \S+@host-a \(pid \d+, keys rotate, step create\)`).MatchString(status.stdout) {
		t.Fatalf("keys status on host B, while A rotates: %s\nwant the rotation at create, its lock held by host-a", status)
	}
	if code := a.wait(t); code != 0 {
		t.Fatalf("host A: exit %d:\n%s", code, a.stderr.String())
	}
	if after := r.settled(); after == before {
		t.Fatal("host A's rotation did not change the CURRENT key")
	}
}

// (d) A holder frozen with SIGSTOP whose database session is then ended (as idle_session_timeout
// or unanswered keepalives end it) loses the lock; host B takes the rotation over and finishes
// it. Thawed, A makes no further change at all (no issuer call, delivery, keyring write, journal
// save or audit row) and exits 6 saying another host took over.
func TestTeamFrozenHolderIsFencedAfterItsSessionEnds(t *testing.T) {
	r := newTeamRig(t)
	r.settled(true)
	// A has stored PENDING, saved its journal at verify and is checking the new key: once
	// thawed, its next step would be an audit entry and a journal save, then a delivery.
	p := r.holdAt(afterCreate(2))
	a := r.start(r.a, "keys", "rotate", "prod", "--yes")
	r.reach(p, a, "verify")
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var ended bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend(backend_pid, 10000) FROM waasctl.lock_holders WHERE profile = 'prod' AND host = 'host-a'`).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending host A's lock session: %v, %v", ended, err)
	}
	b := r.run(r.b, "keys", "rotate", "prod", "--resume", "--yes")
	if b.code != 0 || !strings.Contains(b.stderr, "done") {
		t.Fatalf("host B's --resume after A's session ended: %s", b)
	}
	after := r.settled()
	env, err := os.ReadFile(r.envPath)
	if err != nil {
		t.Fatal(err)
	}
	keysBefore := r.srv.APIKeys(r.org)
	var lastB int64
	if err := admin.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM waasctl.audit_log`).Scan(&lastB); err != nil {
		t.Fatal(err)
	}

	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	p.Release(t)
	code := a.wait(t)
	stderr := a.stderr.String()
	if code != 6 || !strings.Contains(stderr, "rotation of profile prod lost its lock") || !strings.Contains(stderr, "stopped without any further change") {
		t.Fatalf("host A, thawed after B took over: exit %d, want 6 saying another host took over:\n%s", code, stderr)
	}
	if again := r.settled(); again != after {
		t.Fatalf("the CURRENT key changed after A was thawed: %v, was %v", again, after)
	}
	if now, _ := os.ReadFile(r.envPath); string(now) != string(env) {
		t.Fatal("host A wrote to the sink after it was fenced")
	}
	keysAfter := r.srv.APIKeys(r.org)
	if len(keysAfter) != len(keysBefore) {
		t.Fatalf("host A made keys after it was fenced: %d keys, were %d", len(keysAfter), len(keysBefore))
	}
	for i := range keysAfter {
		if keysAfter[i].State != keysBefore[i].State {
			t.Fatalf("host A changed key %s after it was fenced", keysAfter[i].Name)
		}
	}
	var lateA int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM waasctl.audit_log WHERE seq > $1`, lastB).Scan(&lateA); err != nil {
		t.Fatal(err)
	}
	if lateA != 0 {
		t.Fatalf("host A appended %d audit rows after it was fenced", lateA)
	}
	var hostsSeen []string
	rows, err := admin.Query(ctx, `SELECT DISTINCT host FROM waasctl.audit_log ORDER BY host`)
	if err != nil {
		t.Fatal(err)
	}
	hostsSeen, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(hostsSeen, []string{"host-a", "host-b"}) {
		t.Fatalf("audit rows name hosts %v (%v), want host-a and host-b", hostsSeen, err)
	}
}

var (
	teamKillSeed   = flag.Uint64("team.seed", 1, "TestTeamRotationRandomKillsAlternatingHosts: the seed of its kill points and recoveries (printed by every run)")
	teamKillRounds = flag.Int("team.rounds", 8, "TestTeamRotationRandomKillsAlternatingHosts: rounds to run")
)

// TestTeamRotationRandomKillsAlternatingHosts: a rotation is killed with SIGKILL on one host at
// a request drawn at random (any of the first 24 it sends: preflight, create, verify, the
// promotion snapshot, revoke, its confirmation), then resumed or aborted (drawn too) on the
// other host, the hosts swapping roles each round. After every round exactly one ACTIVE key is
// left at the key-admin API, the one both hosts use and, once any key was delivered, the one
// the sink holds; no journal is left; the audit table verifies; no state row holds a key.
// -team.seed replays a run, -team.rounds runs more.
func TestTeamRotationRandomKillsAlternatingHosts(t *testing.T) {
	r := newTeamRig(t)
	seed := *teamKillSeed
	t.Logf("kill points and recoveries from -team.seed=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.settled(true)
	delivered := false // the sink holds a key once any rotation delivered one
	hosts := []*teamHost{r.a, r.b}
	for round := range *teamKillRounds {
		killer, other := hosts[round%2], hosts[1-round%2]
		nth := int32(1 + rng.IntN(24))
		recovery := []string{"--resume", "--abort"}[rng.IntN(2)]
		what := fmt.Sprintf("round %d: %s killed at its request %d, %s on %s", round, killer.name, nth, recovery, other.name)
		var seen atomic.Int32
		p := r.holdAt(func(*http.Request) bool { return seen.Add(1) == nth })
		s := r.start(killer, "keys", "rotate", "prod", "--yes")
		select {
		case <-p.reached:
			if err := s.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			if code := s.wait(t); code != -1 {
				t.Fatalf("%s: exited %d before the kill landed:\n%s", what, code, s.stderr.String())
			}
			p.Release(t) // the server still acts on the request of a dead client
		case <-s.done:
			// The rotation needed fewer requests than nth: it ran to the end.
			if code := s.wait(t); code != 0 {
				t.Fatalf("%s: the whole rotation exited %d:\n%s", what, code, s.stderr.String())
			}
			what += " (finished first)"
		}
		r.hold.Store(nil)
		rec := r.run(other, "keys", "rotate", "prod", recovery, "--yes")
		if rec.code != 0 && recovery == "--abort" && strings.Contains(rec.stderr, "--resume") {
			// An abort is refused once the old key's revocation was asked for: resume instead,
			// as its message says.
			what += ", abort refused, resumed"
			rec = r.run(other, "keys", "rotate", "prod", "--resume", "--yes")
		}
		if rec.code != 0 {
			t.Fatalf("%s: %s\n--- the killed host's stderr:\n%s", what, rec, s.stderr.String())
		}
		if name, _, err := rotation.ReadEnvKey(r.envPath); err == nil && name != "" {
			delivered = true
		}
		var cur rotation.KeyRef
		if delivered {
			cur = r.settled()
		} else {
			cur = r.settled(true)
		}
		t.Logf("%s: CURRENT %s", what, rotation.MaskKeyName(cur.Name))
		r.noteSinkKeyIfAny()
	}
	r.noKeyInStateRows()
}

// noteSinkKeyIfAny is noteSinkKey once the sink holds a key.
func (r *teamRig) noteSinkKeyIfAny() {
	r.t.Helper()
	if name, _, err := rotation.ReadEnvKey(r.envPath); err == nil && name != "" {
		r.noteSinkKey()
	}
}
