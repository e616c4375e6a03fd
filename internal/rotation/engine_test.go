package rotation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// rig is a sandbox, a keyring seeded with its key as CURRENT, an envfile sink and an engine.
type rig struct {
	t      *testing.T
	sb     *sandboxtest.Sandbox
	store  credentials.Store
	env    *EnvfileSink
	e      *Engine
	oldKey string // the bootstrap key's name
	noEnv  bool   // settled: the .env was never written

	mu      sync.Mutex
	clients map[string]*waas.Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 2}})
}

func newRigWith(t *testing.T, cfg sandbox.Config) *rig {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	store := credentials.NewMemoryStore()
	ctx := testctx.New(t)
	if err := store.Put(ctx, &credentials.Item{Profile: "prod", Current: &credentials.StoredKey{Name: sb.Key.Name, PrivateKey: sb.Key.PrivateKey}}); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, sb: sb, store: store, env: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, oldKey: sb.Key.Name}
	r.e = &Engine{
		Profile: "prod", StateDir: t.TempDir(), Store: store,
		Issuer: &currentIssuer{r: r}, Sinks: []Sink{r.env}, Check: r.check,
		VerifyTries: 3, VerifyBackoff: time.Millisecond,
	}
	return r
}

// client signs with key at the rig's sandbox. Clients are kept, one per key, so that a test
// polling a key does not open a connection per poll.
func (r *rig) client(name, secret string) *waas.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clients[name+"\x00"+secret]; c != nil {
		return c
	}
	c := sandboxtest.ClientFor(r.t, r.sb.URL, waasapi.APIKey{Name: name, PrivateKey: secret}, waas.Options{})
	if r.clients == nil {
		r.clients = map[string]*waas.Client{}
	}
	r.clients[name+"\x00"+secret] = c
	return c
}

func (r *rig) check(ctx context.Context, key *credentials.APIKey) ([]string, error) {
	secret, err := key.SecretText()
	if err != nil {
		return nil, err
	}
	resp, err := r.client(key.Name, secret).ListPools(ctx, waas.PageRequest{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range resp.Pools {
		names = append(names, p.Name)
	}
	return names, nil
}

func (r *rig) item() *credentials.Item {
	r.t.Helper()
	it, err := r.store.Get(testctx.New(r.t), "prod")
	if err != nil {
		r.t.Fatal(err)
	}
	return it
}

// currentClient signs with the keyring's CURRENT key, as the CLI's issuer would.
func (r *rig) currentClient() *waas.Client {
	it, err := r.store.Get(testctx.New(r.t), "prod")
	if err != nil {
		r.t.Fatal(err)
	}
	return r.client(it.Current.Name, it.Current.PrivateKey)
}

// authenticates reports whether the stored key works; a 401 is false, any other error fails.
func (r *rig) authenticates(k *credentials.StoredKey) bool {
	r.t.Helper()
	_, err := r.client(k.Name, k.PrivateKey).ListPools(testctx.New(r.t), waas.PageRequest{})
	if err != nil && waas.HTTPCode(err) != 401 {
		r.t.Fatalf("checking %s: %v", k, err)
	}
	return err == nil
}

// keys lists the sandbox's keys by state.
func (r *rig) keys() (active, revoked []string) {
	r.t.Helper()
	resp, err := r.currentClient().ListAPIKeys(testctx.New(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	for _, k := range resp.APIKeys {
		if k.State == waasapi.APIKeyActive {
			active = append(active, k.Name)
		} else {
			revoked = append(revoked, k.Name)
		}
	}
	return active, revoked
}

// settled checks the state a finished or rolled back rotation leaves: one CURRENT key, which
// works, is the only ACTIVE key at the sandbox and is in the .env; no PENDING, no PREVIOUS,
// no journal in progress.
func (r *rig) settled() *credentials.Item {
	r.t.Helper()
	it := r.item()
	if it.Pending != nil || it.Previous != nil {
		r.t.Fatalf("keyring after the rotation: %v", it)
	}
	if !r.authenticates(it.Current) {
		r.t.Fatalf("the CURRENT key %v is rejected", it.Current)
	}
	if active, _ := r.keys(); !slices.Equal(active, []string{it.Current.Name}) {
		r.t.Fatalf("ACTIVE keys at the sandbox %v, want only the CURRENT %s", active, it.Current.Name)
	}
	if _, fp, err := ReadEnvKey(r.env.Path); r.noEnv && (err != nil || fp != "") {
		r.t.Fatalf(".env written: %s %v", fp, err)
	} else if !r.noEnv && (err != nil || fp != it.Current.Fingerprint) {
		r.t.Fatalf(".env holds %s (%v), want %s", fp, err, it.Current.Fingerprint)
	}
	if j, err := LoadJournal(r.e.StateDir, "prod"); err != nil || j != nil {
		r.t.Fatalf("journal left: %v %v", j, err)
	}
	return it
}

// currentIssuer is a SandboxIssuer whose client signs with the keyring's CURRENT key at each
// call, so that it keeps working after promote and after the old key is revoked.
type currentIssuer struct{ r *rig }

func (c *currentIssuer) iss() *SandboxIssuer { return &SandboxIssuer{Client: c.r.currentClient()} }
func (c *currentIssuer) Name() string        { return "sandbox" }
func (c *currentIssuer) Create(ctx context.Context, id string) (*NewKey, error) {
	return c.iss().Create(ctx, id)
}
func (c *currentIssuer) Find(ctx context.Context, id string) (string, bool, error) {
	return c.iss().Find(ctx, id)
}
func (c *currentIssuer) Revoke(ctx context.Context, name string) error {
	return c.iss().Revoke(ctx, name)
}

func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, "PRIVATE KEY") || strings.Contains(msg, "\n") || credentials.LooksSecret(msg) {
		t.Fatalf("error holds a secret or several lines: %q", msg)
	}
}

func TestEngineHappyPath(t *testing.T) {
	r := newRig(t)
	audit, err := auditlog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.e.Audit = audit
	var lines []string
	r.e.Report = func(s Step, msg string) { lines = append(lines, string(s)+": "+msg) }
	old := r.item().Current
	ctx := testctx.New(t)

	j, err := r.e.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if j.Step != StepDone || j.RevokedAt.IsZero() || j.OldKey.Fingerprint != old.Fingerprint {
		t.Fatalf("journal %+v", j)
	}
	it := r.settled()
	if it.Current.Fingerprint == old.Fingerprint || it.Current.Name != j.NewKey.Name {
		t.Fatalf("CURRENT %v, old %v", it.Current, old)
	}
	if r.authenticates(old) {
		t.Fatal("the old key still authenticates")
	}
	active, revoked := r.keys()
	if len(active) != 1 || !slices.Equal(revoked, []string{old.Name}) {
		t.Fatalf("sandbox keys: active %v revoked %v", active, revoked)
	}
	hist, _ := filepath.Glob(filepath.Join(r.e.StateDir, "journals", "history", "prod-*.json"))
	if len(hist) != 1 {
		t.Fatalf("archived journals %v", hist)
	}
	data, _ := os.ReadFile(filepath.Join(audit.Dir(), auditlog.FileName))
	for _, step := range []string{"rotate.preflight", "rotate.create", "rotate.verify", "rotate.deliver", "rotate.observe", "rotate.promote", "rotate.revoke", "rotate.done"} {
		if !strings.Contains(string(data), `"action":"`+step+`"`) {
			t.Errorf("no audit entry %s", step)
		}
	}
	if strings.Contains(string(data), "PRIVATE KEY") {
		t.Fatal("a secret reached the audit log")
	}
	for _, l := range lines {
		if strings.Contains(l, "PRIVATE KEY") {
			t.Fatalf("report line %q", l)
		}
	}
	// Nothing in progress now.
	if j, err := r.e.Resume(ctx); j != nil || err != nil {
		t.Fatalf("resume with nothing in progress: %v %v", j, err)
	}
	if j, err := r.e.Abort(ctx); j != nil || err != nil {
		t.Fatalf("abort with nothing in progress: %v %v", j, err)
	}
	// And a second rotation works from the first one's key.
	if _, err := r.e.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
}

func TestEngineGracePeriod(t *testing.T) {
	r := newRig(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	r.e.Grace = time.Hour
	old := r.item().Current
	ctx := testctx.New(t)

	_, err := r.e.Rotate(ctx)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("rotate within the grace: %v", err)
	}
	noSecret(t, err)
	it := r.item()
	if it.Current.Fingerprint == old.Fingerprint || it.Previous == nil || it.Previous.Fingerprint != old.Fingerprint || it.Pending != nil {
		t.Fatalf("after promote: %v", it)
	}
	if !r.authenticates(old) || !r.authenticates(it.Current) {
		t.Fatal("both keys should work during the grace period")
	}
	if _, err := r.e.Rotate(ctx); err == nil || !strings.Contains(err.Error(), "resume or abort it") {
		t.Fatalf("a second rotate: %v", err)
	}
	now = now.Add(30 * time.Minute)
	if _, err := r.e.Resume(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("resume within the grace: %v", err)
	}
	if !r.authenticates(old) {
		t.Fatal("the old key was revoked within the grace period")
	}
	now = now.Add(31 * time.Minute)
	if _, err := r.e.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
	if r.authenticates(old) {
		t.Fatal("the old key still authenticates")
	}
}

// keys rotate --wait: the revoke step waits out the grace period in the foreground, on the
// clock it is given, and then revokes; the old key works until the wait is over, and an
// interrupted wait leaves the rotation resumable.
func TestEngineWaitsOutTheGrace(t *testing.T) {
	r := newRig(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	r.e.Grace = time.Hour
	old := r.item().Current
	var waited []time.Time
	r.e.WaitUntil = func(ctx context.Context, until time.Time, what string) error {
		if !r.authenticates(old) {
			t.Error("the old key was revoked before the wait")
		}
		waited = append(waited, until)
		now = until
		return nil
	}
	if _, err := r.e.Rotate(context.Background()); err != nil {
		t.Fatalf("rotate --wait: %v", err)
	}
	if len(waited) != 1 || !waited[0].Equal(time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("waited until %v, want once until the grace's end", waited)
	}
	r.settled()
	if r.authenticates(old) {
		t.Fatal("the old key still authenticates after the wait")
	}

	// Ctrl-C during the wait: interrupted at revoke, the old key still valid, resumable.
	r = newRig(t)
	now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	r.e.Grace = time.Hour
	old = r.item().Current
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.e.WaitUntil = func(ctx context.Context, until time.Time, what string) error {
		cancel()
		return ctx.Err()
	}
	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, context.Canceled) || j == nil || j.Step != StepRevoke || !r.authenticates(old) {
		t.Fatalf("interrupted wait: %v, journal %+v", err, j)
	}
}

// flakySink fails while fail is set.
type flakySink struct {
	Sink
	fail bool
}

func (f *flakySink) Deliver(ctx context.Context, d Delivery) error {
	if f.fail {
		return errors.New("vault is down")
	}
	return f.Sink.Deliver(ctx, d)
}

func TestEngineFailingSink(t *testing.T) {
	r := newRig(t)
	other := &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true}
	r.e.Sinks = append(r.e.Sinks, other)
	old := r.item().Current
	ctx := testctx.New(t)

	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "vault is down") {
		t.Fatalf("rotate: %v", err)
	}
	noSecret(t, err)
	if j.Step != StepDeliver {
		t.Fatalf("stopped at %s", j.Step)
	}
	it := r.item()
	if it.Current.Fingerprint != old.Fingerprint || it.Pending == nil || !r.authenticates(old) {
		t.Fatalf("after the failed delivery: %v", it)
	}
	other.fail = false
	if _, err := r.e.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	it = r.settled()
	if _, fp, _ := ReadEnvKey(other.Sink.(*EnvfileSink).Path); fp != it.Current.Fingerprint {
		t.Fatal("the second sink lacks the new key")
	}
}

func TestEngineAbortBeforePromote(t *testing.T) {
	r := newRig(t)
	r.e.Sinks = append(r.e.Sinks, &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true})
	old := r.item().Current
	// The .env starts with the old key, as a proxy in service would have it.
	if _, err := WriteEnvKey(r.env.Path, old.Name, old.PrivateKey); err != nil {
		t.Fatal(err)
	}
	ctx := testctx.New(t)
	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	newKey := r.item().Pending
	if _, fp, _ := ReadEnvKey(r.env.Path); fp != newKey.Fingerprint {
		t.Fatal("the first sink should hold the new key before the abort")
	}
	if j, err = r.e.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if j.Step != StepAborted {
		t.Fatalf("step %s", j.Step)
	}
	it := r.settled() // the .env is back to the old key
	if it.Current.Fingerprint != old.Fingerprint {
		t.Fatalf("CURRENT %v", it.Current)
	}
	if r.authenticates(newKey) {
		t.Fatal("the new key was not revoked")
	}
}

func TestEngineAbortAfterPromote(t *testing.T) {
	r := newRig(t)
	r.e.Grace = time.Hour
	old := r.item().Current
	ctx := testctx.New(t)
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	newKey := r.item().Current
	if _, err := r.e.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	it := r.settled()
	if it.Current.Fingerprint != old.Fingerprint || r.authenticates(newKey) {
		t.Fatalf("after the abort: %v", it)
	}
}

func TestEngineAbortRefusedAfterRevoke(t *testing.T) {
	r := newRig(t)
	ctx := testctx.New(t)
	// Stop right after the old key's revocation by failing the keyring write that follows.
	r.e.Store = &failPut{Store: r.store, after: 2}
	if _, err := r.e.Rotate(ctx); err == nil {
		t.Fatal("no error")
	}
	r.e.Store = r.store
	if _, err := r.e.Abort(ctx); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("abort after revoke: %v", err)
	}
	if _, err := r.e.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
}

// failPut lets after Puts through, then fails.
type failPut struct {
	credentials.Store
	after int
}

func (f *failPut) Put(ctx context.Context, it *credentials.Item) error {
	if f.after <= 0 {
		return errors.New("keyring locked")
	}
	f.after--
	return f.Store.Put(ctx, it)
}

func TestEngineRefusesAnotherProjectsKey(t *testing.T) {
	r := newRig(t)
	check := r.e.Check
	r.e.Check = func(ctx context.Context, k *credentials.APIKey) ([]string, error) {
		pools, err := check(ctx, k)
		if k.Name != r.oldKey {
			pools = []string{"pools/elsewhere"}
		}
		return pools, err
	}
	ctx := testctx.New(t)
	_, err := r.e.Rotate(ctx)
	if err == nil || !strings.Contains(err.Error(), "the new key sees different pools: a key of another project?") {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := r.e.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	r.noEnv = true
	r.settled()
}

func TestEngineLocked(t *testing.T) {
	r := newRig(t)
	l, err := AcquireLock(r.e.StateDir, "prod", Holder{Command: "keys rotate"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var le *LockedError
	if _, err := r.e.Rotate(testctx.New(t)); !errors.As(err, &le) {
		t.Fatalf("rotate under a held lock: %v", err)
	}
	if _, err := r.e.Resume(testctx.New(t)); !errors.As(err, &le) {
		t.Fatalf("resume under a held lock: %v", err)
	}
}

// A sink that deliver would refuse stops the rotation at preflight, before a key is created.
func TestEnginePreflightRefusesASymlinkedEnvfile(t *testing.T) {
	r := newRig(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, r.env.Path); err != nil {
		t.Fatal(err)
	}
	j, err := r.e.Rotate(testctx.New(t))
	if err == nil || !strings.Contains(err.Error(), r.env.Path) || !strings.Contains(err.Error(), "follow_symlinks") {
		t.Fatalf("err = %v", err)
	}
	if j != nil && j.NewKey.Name != "" {
		t.Fatalf("a key was created: %+v", j.NewKey)
	}
	if it := r.item(); it.Pending != nil {
		t.Fatalf("PENDING %v", it.Pending)
	}
	if active, _ := r.keys(); len(active) != 1 {
		t.Fatalf("ACTIVE keys %v", active)
	}
	if got, _ := os.ReadFile(victim); string(got) != "A=1\n" {
		t.Fatalf("the victim now holds %q", got)
	}
}

func TestEnginePlanTouchesNothing(t *testing.T) {
	r := newRig(t)
	plan := r.e.Plan()
	if len(plan) < 8 || !strings.Contains(strings.Join(plan, "\n"), "envfile") {
		t.Fatalf("plan %q", plan)
	}
	if entries, _ := os.ReadDir(r.e.StateDir); len(entries) != 0 {
		t.Fatalf("plan wrote %v", entries)
	}
}

// crash simulates kill -9 at the nth call the engine makes to the outside world (keyring,
// issuer, sink, check), before the call or, with after, once it is made and its answer lost.
type crash struct{}

type crasher struct {
	n, at int
	after bool
}

func (c *crasher) call(f func() error) error {
	c.n++
	if c.n == c.at && !c.after {
		panic(crash{})
	}
	err := f()
	if c.n == c.at && c.after {
		panic(crash{})
	}
	return err
}

type crashStore struct {
	credentials.Store
	c *crasher
}

func (s crashStore) Get(ctx context.Context, p string) (it *credentials.Item, err error) {
	err = s.c.call(func() error { it, err = s.Store.Get(ctx, p); return err })
	return it, err
}

func (s crashStore) Put(ctx context.Context, it *credentials.Item) error {
	return s.c.call(func() error { return s.Store.Put(ctx, it) })
}

type crashIssuer struct {
	Issuer
	c *crasher
}

func (i crashIssuer) Create(ctx context.Context, id string) (nk *NewKey, err error) {
	err = i.c.call(func() error { nk, err = i.Issuer.Create(ctx, id); return err })
	return nk, err
}

func (i crashIssuer) Find(ctx context.Context, id string) (name string, found bool, err error) {
	err = i.c.call(func() error { name, found, err = i.Issuer.Find(ctx, id); return err })
	return name, found, err
}

func (i crashIssuer) Revoke(ctx context.Context, name string) error {
	return i.c.call(func() error { return i.Issuer.Revoke(ctx, name) })
}

type crashSink struct {
	Sink
	c *crasher
}

func (s crashSink) Deliver(ctx context.Context, d Delivery) error {
	return s.c.call(func() error { return s.Sink.Deliver(ctx, d) })
}

func (s crashSink) Holds(ctx context.Context) (fp string, known bool, err error) {
	err = s.c.call(func() error { fp, known, err = s.Sink.Holds(ctx); return err })
	return fp, known, err
}

func (s crashSink) Restart(ctx context.Context) error {
	return s.c.call(func() error { return s.Sink.Restart(ctx) })
}

// crashingRun runs f and reports whether it crashed.
func crashingRun(f func()) (crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(crash); !ok {
				panic(v)
			}
			crashed = true
		}
	}()
	f()
	return false
}

func TestEngineCrashResume(t *testing.T) {
	for _, tc := range []struct {
		after, abort bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		after := tc.after
		t.Run(fmt.Sprintf("after=%v,abort=%v", tc.after, tc.abort), func(t *testing.T) {
			r := newRig(t)
			ctx := testctx.New(t)
			clean := *r.e
			for at := 1; ; at++ {
				if at > 200 {
					t.Fatal("the rotation never finished")
				}
				c := &crasher{at: at, after: after}
				e := clean
				e.Store = crashStore{r.store, c}
				e.Issuer = crashIssuer{clean.Issuer, c}
				e.Sinks = []Sink{crashSink{r.env, c}}
				e.Check = func(ctx context.Context, k *credentials.APIKey) (pools []string, err error) {
					err = c.call(func() error { pools, err = clean.Check(ctx, k); return err })
					return pools, err
				}
				var err error
				if !crashingRun(func() { _, err = e.Rotate(ctx) }) {
					if err != nil {
						t.Fatalf("crash point %d: a run without a crash failed: %v", at, err)
					}
					r.settled()
					t.Logf("%d crash points", at-1)
					return // every call of a whole rotation has had its crash
				}
				// At the crash: exactly one CURRENT key, and it works.
				it := r.item()
				if !r.authenticates(it.Current) {
					t.Fatalf("crash point %d: the CURRENT key is rejected", at)
				}
				if tc.abort {
					_, err := clean.Abort(ctx)
					if err != nil && strings.Contains(err.Error(), "cannot be aborted, only finished") {
						_, err = clean.Resume(ctx)
					}
					if err != nil {
						t.Fatalf("crash point %d: abort: %v", at, err)
					}
					// The .env holds the CURRENT key, or nothing if the new one never reached it.
					if _, fp, _ := ReadEnvKey(r.env.Path); fp == "" {
						r.noEnv = true
					}
					r.settled()
					r.noEnv = false
					continue
				}
				j, err := clean.Resume(ctx)
				if err != nil {
					t.Fatalf("crash point %d: resume: %v", at, err)
				}
				if j == nil {
					// A crash in preflight, before the journal is written, leaves nothing to
					// resume: the rotation never started.
					r.noEnv = true
				}
				r.settled()
				r.noEnv = false
			}
		})
	}
}

// lostIssuer loses the answer of the first Create, after the sandbox made the key.
type lostIssuer struct {
	Issuer
	lost bool
}

func (l *lostIssuer) Create(ctx context.Context, id string) (*NewKey, error) {
	nk, err := l.Issuer.Create(ctx, id)
	if err == nil && !l.lost {
		l.lost = true
		return nil, errors.New("connection reset by peer")
	}
	return nk, err
}

func TestEngineLostCreateAnswer(t *testing.T) {
	r := newRig(t)
	r.e.Issuer = &lostIssuer{Issuer: r.e.Issuer}
	ctx := testctx.New(t)
	j, err := r.e.Rotate(ctx)
	if err == nil || j.Step != StepCreate || j.RequestID == "" {
		t.Fatalf("rotate: %v at %v", err, j)
	}
	lostID := j.RequestID
	orphan, found, err := (&currentIssuer{r: r}).Find(ctx, lostID)
	if err != nil || !found {
		t.Fatalf("the orphan key: %v %v", found, err)
	}
	if active, _ := r.keys(); len(active) != 2 {
		t.Fatalf("active keys %v", active)
	}
	if j, err = r.e.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if j.RequestID == lostID || j.NewKey.Name == orphan {
		t.Fatalf("the lost request's key was reused: %+v", j)
	}
	r.settled()
	_, revoked := r.keys()
	if !slices.Contains(revoked, orphan) {
		t.Fatalf("the orphan %s was not revoked: %v", orphan, revoked)
	}
}

func TestEngineAbortAfterLostCreate(t *testing.T) {
	// With --force too: force changes what happens when the search fails, not when it works.
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprintf("force=%v", force), func(t *testing.T) {
			r := newRig(t)
			r.e.Issuer = &lostIssuer{Issuer: r.e.Issuer}
			ctx := testctx.New(t)
			j, err := r.e.Rotate(ctx)
			if err == nil || j == nil || j.RequestID == "" || j.NewKey.Name != "" {
				t.Fatalf("rotate: %v %+v; want it stopped in create with a request and no key name", err, j)
			}
			orphan, found, err := (&currentIssuer{r: r}).Find(ctx, j.RequestID)
			if err != nil || !found {
				t.Fatalf("the orphan key: %v %v", found, err)
			}
			r.e.ForceAbort = force
			if j, err = r.e.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			if len(j.ManualChecks) > 0 {
				t.Fatalf("left for a check by hand: %+v; the search found the key", j.ManualChecks)
			}
			r.noEnv = true
			if it := r.settled(); it.Current.Name != r.oldKey {
				t.Fatalf("after the abort: %v", it)
			}
			// The key the lost answer would have named is found by its request and revoked: an
			// abort must not leave a valid key that no keyring holds.
			if _, revoked := r.keys(); !slices.Contains(revoked, orphan) {
				t.Fatalf("the orphan %s was not revoked by the abort: %v", orphan, revoked)
			}
		})
	}
}
