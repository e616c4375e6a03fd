package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// The model test of the rotation engine (docs/rotation.md, "The model the tests check").
//
// Each sequence starts a sandbox, a file keyring, a state folder (journals, locks, audit log)
// and profile prod whose CURRENT key is the sandbox's first key; then rapid draws operator
// and world actions, runs each against those real stores and checks every invariant after
// every one (modelWorld.check). Rotations run through the engine API (rotation.Engine with
// a test issuer and a test sink, so that the issuer can answer anything and a crash can be
// injected at any external call); keys revoke and auth add/remove run through the CLI entry
// point, in process. At the end of a sequence the world heals (the issuer and the sinks work
// again) and the rotation in progress, if any, must be ended by --abort or --resume.

var (
	modelSequences = flag.Int("rotation.sequences", 200, "model test: random action sequences to run (make model-check runs thousands)")
)

const modelProfile = "prod"

// modelTB is what both *testing.T and *rapid.T give the world.
type modelTB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
}

// step is one action of a sequence, as data, so that a shrunk sequence can be replayed as a
// plain test.
type step struct {
	Op string // rotate | resume | abort | revoke | auth-add | auth-remove | concurrent

	// rotate, resume, abort:
	Create     string // the issuer's answer to create: new | same | other-org | fails | lost
	Sink       string // the test sink: ok | fail | hang (the command is cancelled while it hangs)
	CrashAt    int    // 0: no crash; n: the command dies at its n-th external call
	CrashAfter bool   // ... after the call had its effect, else before
	Force      bool   // abort: --abort --force, which ends even what it cannot undo
	Grace      bool   // rotate: with a grace period (the rotation stops at revoke)
	// Extra: the profile lists one more envfile sink in this run (added since the rotation
	// started, or taken out again before the next run).
	Extra bool

	Slot   string // revoke: current (--force) | pending | previous
	Second string // concurrent: the command run while a rotation holds the lock
}

func (s step) String() string {
	var b strings.Builder
	b.WriteString(s.Op)
	switch s.Op {
	case "rotate", "resume", "abort":
		fmt.Fprintf(&b, " create=%s sink=%s", s.Create, s.Sink)
		if s.CrashAt > 0 {
			fmt.Fprintf(&b, " crash=%d(after=%v)", s.CrashAt, s.CrashAfter)
		}
		if s.Grace {
			b.WriteString(" grace")
		}
		if s.Force {
			b.WriteString(" force")
		}
		if s.Extra {
			b.WriteString(" extra-sink")
		}
	case "revoke":
		b.WriteString(" " + s.Slot)
	case "concurrent":
		b.WriteString(" " + s.Second)
	}
	return b.String()
}

// seqConfig is what a sequence keeps throughout.
type seqConfig struct {
	Pools     int  // pools of the profile's organization (0 makes another organization look alike)
	NoFind    bool // the issuer cannot find keys by request (a plugin without find)
	RepeatMax bool // the issuer makes another key for a repeated request id instead of refusing
}

// modelCrash is the panic that plays a crash at an external call.
type modelCrash struct{ at string }

// modelWorld is a sequence's sandbox, stores and model.
type modelWorld struct {
	cfg       seqConfig
	srv       *sandbox.Server
	ts        *httptest.Server
	url       string
	org       string
	otherOrg  string
	dir       string
	stateDir  string
	keyring   string
	envPath   string
	extraPath string // the sink some runs list (step.Extra)
	appConfig *config.Config
	store     credentials.Store // uncounted, for the checker and the harness

	secrets map[string]string // every key ever made or stored: name -> secret

	// The issuer's own record (what a portal knows): request id -> keys it made.
	issuedMu sync.Mutex
	issued   map[string][]string

	// The test sink's content (a secret manager that can be read back).
	sinkMu   sync.Mutex
	sinkHeld string // fingerprint

	// Fault injection for the command running now.
	calls   atomic.Int64
	crashAt int64
	after   bool
	cancel  context.CancelFunc

	// The model.
	operatorRevoked map[string]bool // keys the operator revoked by name (keys revoke)
	reported        map[string]bool // keys waasctl told the operator to delete by hand
	removed         bool            // auth remove emptied the profile (the operator's choice)
	lastExit0       string          // the last command, if it exited 0 ("" otherwise)
	log             []string        // what ran, for failure messages
}

func newModelWorld(t modelTB, cfg seqConfig) *modelWorld {
	t.Helper()
	dir, err := os.MkdirTemp(modelTempRoot(), "waasctl-model-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	srv, err := sandbox.New(sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: cfg.Pools}})
	if err != nil {
		t.Fatalf("%v", err)
	}
	w := &modelWorld{
		cfg: cfg, srv: srv, ts: httptest.NewServer(srv), org: srv.DefaultOrg(), otherOrg: uuid.NewString(),
		dir: dir, stateDir: filepath.Join(dir, "state"), keyring: filepath.Join(dir, "keyring"),
		envPath: filepath.Join(dir, "proxy.env"), extraPath: filepath.Join(dir, "extra.env"), secrets: map[string]string{}, issued: map[string][]string{},
		operatorRevoked: map[string]bool{}, reported: map[string]bool{},
	}
	w.url = w.ts.URL
	for _, d := range []string{w.stateDir, w.keyring} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("%v", err)
		}
	}
	if err := os.WriteFile(w.envPath, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		t.Fatalf("%v", err)
	}
	// The CLI's keys revoke finds the state folder and the audit log here.
	os.Setenv("WAASCTL_STATE_DIR", w.stateDir)
	w.appConfig = &config.Config{Path: filepath.Join(dir, "config.yaml"), Profiles: map[string]config.Profile{
		modelProfile: {Endpoint: w.url, Issuer: &config.Issuer{Type: "sandbox"}, Sinks: []config.Sink{{Type: "envfile", Path: w.envPath}}},
	}}
	w.store = w.openStore(t)
	boot := w.makeKey(t, w.org, "bootstrap", "")
	if err := w.store.Put(context.Background(), &credentials.Item{Profile: modelProfile, Current: &credentials.StoredKey{Name: boot, PrivateKey: w.secrets[boot], AddedBy: "model"}}); err != nil {
		t.Fatalf("%v", err)
	}
	return w
}

func (w *modelWorld) close() {
	w.ts.Close()
	_ = w.srv.Close()
	_ = os.RemoveAll(w.dir)
}

func (w *modelWorld) openStore(t modelTB) credentials.Store {
	t.Helper()
	s, err := credentials.OpenStore(credentials.StoreConfig{Backend: "file", FileDir: w.keyring, Passphrase: func() (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return s
}

// makeKey creates a key at the sandbox, as the portal would.
func (w *modelWorld) makeKey(t modelTB, org, nickname, requestID string) string {
	t.Helper()
	k, err := w.srv.CreateAPIKey(org, waasapi.CreateAPIKeyRequest{Nickname: nickname, RequestID: requestID})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	w.secrets[k.Name] = k.PrivateKey
	return k.Name
}

// hit counts an external call of the running command and crashes it at the chosen one.
func (w *modelWorld) hit(what string, call func()) {
	n := w.calls.Add(1)
	if n == w.crashAt && !w.after {
		panic(modelCrash{what + " (before)"})
	}
	call()
	if n == w.crashAt && w.after {
		panic(modelCrash{what + " (after)"})
	}
}

// countingStore is the keyring as the engine sees it: every call an external call.
type countingStore struct {
	credentials.Store
	w *modelWorld
}

func (s countingStore) Get(ctx context.Context, p string) (it *credentials.Item, err error) {
	s.w.hit("keyring get", func() { it, err = s.Store.Get(ctx, p) })
	return
}

func (s countingStore) Put(ctx context.Context, it *credentials.Item) (err error) {
	s.w.hit("keyring put", func() { err = s.Store.Put(ctx, it) })
	return
}

// modelIssuer plays the key's issuer. Its answers to create are the step's; it keeps, like a
// portal, which request made which key.
type modelIssuer struct {
	w      *modelWorld
	create string
}

func (i *modelIssuer) Name() string { return "exec" }

func (i *modelIssuer) Create(ctx context.Context, requestID string) (nk *rotation.NewKey, err error) {
	w := i.w
	w.hit("issuer create", func() {
		w.issuedMu.Lock()
		made := len(w.issued[requestID]) > 0
		w.issuedMu.Unlock()
		if made && !w.cfg.RepeatMax {
			err = fmt.Errorf("%w (request %s)", rotation.ErrCreatedButLost, requestID)
			return
		}
		var name string
		switch i.create {
		case "fails":
			err = errors.New("issuer: create failed")
			return
		case "same":
			// The operator hands over a second download of the CURRENT key.
			it, gerr := w.store.Get(ctx, modelProfile)
			if gerr != nil || it.Current == nil {
				err = fmt.Errorf("issuer: %v", gerr)
				return
			}
			name = it.Current.Name
		case "other-org":
			name = w.newIssued(requestID, w.otherOrg)
		default: // new, lost
			name = w.newIssued(requestID, w.org)
		}
		if i.create == "lost" {
			err = errors.New("issuer: connection reset by peer (the key was made, the answer lost)")
			return
		}
		k, kerr := credentials.NewAPIKey(name, w.secrets[name], "issuer model")
		if kerr != nil {
			err = kerr
			return
		}
		secret, serr := k.SecretText()
		if serr != nil {
			err = serr
			return
		}
		nk = &rotation.NewKey{Key: k, Secret: secret}
	})
	return
}

func (w *modelWorld) newIssued(requestID, org string) string {
	k, err := w.srv.CreateAPIKey(org, waasapi.CreateAPIKeyRequest{Nickname: "rotation", RequestID: requestID + "-" + strconv.Itoa(len(w.issued[requestID]))})
	if err != nil {
		panic(err)
	}
	w.issuedMu.Lock()
	defer w.issuedMu.Unlock()
	w.secrets[k.Name] = k.PrivateKey
	w.issued[requestID] = append(w.issued[requestID], k.Name)
	return k.Name
}

func (i *modelIssuer) Find(ctx context.Context, requestID string) (name string, found bool, err error) {
	i.w.hit("issuer find", func() {
		if i.w.cfg.NoFind {
			// As the exec issuer says it, for a plugin without find (exit 3).
			err = fmt.Errorf("%w: check the portal for a key made by request %s and revoke it", rotation.ErrFindUnsupported, requestID)
			return
		}
		i.w.issuedMu.Lock()
		defer i.w.issuedMu.Unlock()
		if made := i.w.issued[requestID]; len(made) > 0 {
			name, found = made[len(made)-1], true
		}
	})
	return
}

func (i *modelIssuer) Revoke(ctx context.Context, name string) (err error) {
	i.w.hit("issuer revoke", func() { err = i.w.srv.RevokeAPIKey(name) })
	return
}

// modelSink is a secret manager that can be read back: ok, failing, or hanging until the
// command is cancelled (Ctrl-C, SIGTERM). gate, for the concurrency action, holds deliver
// until released.
type modelSink struct {
	w       *modelWorld
	mode    string
	entered chan struct{}
	release chan struct{}
}

func (s *modelSink) Describe() string { return "exec model-sink" }

func (s *modelSink) Deliver(ctx context.Context, d rotation.Delivery) (err error) {
	s.w.hit("sink deliver", func() {
		switch s.mode {
		case "fail":
			err = errors.New("sink: permission denied")
			return
		case "hang":
			s.w.cancel() // the operator presses Ctrl-C while the sink hangs
			<-ctx.Done()
			err = fmt.Errorf("sink stopped: %w", ctx.Err())
			return
		case "gate":
			close(s.entered)
			<-s.release
		}
		s.w.sinkMu.Lock()
		s.w.sinkHeld = d.Fingerprint
		s.w.sinkMu.Unlock()
	})
	return
}

func (s *modelSink) Holds(context.Context) (fp string, known bool, err error) {
	s.w.hit("sink holds", func() {
		s.w.sinkMu.Lock()
		fp, known = s.w.sinkHeld, true
		s.w.sinkMu.Unlock()
	})
	return
}

func (s *modelSink) Restart(context.Context) (err error) {
	s.w.hit("sink restart", func() {})
	return
}

// listPools authenticates with the key at the sandbox and returns the pools it sees.
func (w *modelWorld) listPools(ctx context.Context, name, secret string) ([]string, error) {
	c, err := sandboxtest.NewClient(w.url, waasapi.APIKey{Name: name, PrivateKey: secret}, waas.Options{})
	if err != nil {
		return nil, err
	}
	resp, err := c.ListPools(ctx, waas.PageRequest{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range resp.Pools {
		names = append(names, p.Name)
	}
	return names, nil
}

func (w *modelWorld) engine(s step, sink *modelSink) *rotation.Engine {
	audit, err := auditlog.Open(filepath.Join(w.stateDir, "audit"))
	if err != nil {
		panic(err)
	}
	e := &rotation.Engine{
		Profile: modelProfile, StateDir: w.stateDir, Store: countingStore{w.store, w},
		Issuer: &modelIssuer{w: w, create: s.Create},
		Sinks:  []rotation.Sink{&rotation.EnvfileSink{Path: w.envPath}, sink},
		Check: func(ctx context.Context, key *credentials.APIKey) (pools []string, err error) {
			w.hit("check", func() {
				secret, serr := key.SecretText()
				if serr != nil {
					err = serr
					return
				}
				pools, err = w.listPools(ctx, key.Name, secret)
			})
			return
		},
		Audit: audit, VerifyTries: 2, VerifyBackoff: time.Millisecond,
		Holder: rotation.Holder{Command: "keys rotate"},
	}
	if s.Extra {
		e.Sinks = append(e.Sinks, &rotation.EnvfileSink{Path: w.extraPath})
	}
	if s.Grace {
		e.Grace, e.GraceSet = time.Hour, true
	}
	e.ForceAbort = s.Op == "abort" && s.Force
	if s.Op == "resume" {
		// The operator finishes now: a grace chosen now shortens the recorded one.
		e.Grace, e.GraceSet = 0, true
	}
	return e
}

// runEngine runs rotate, resume or abort and returns its error (nil: exit 0) and the journal.
func (w *modelWorld) runEngine(s step, sink *modelSink) (j *rotation.Journal, err error, crashed string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.cancel = cancel
	w.calls.Store(0)
	w.crashAt, w.after = int64(s.CrashAt), s.CrashAfter
	defer func() { w.crashAt = 0 }()
	eng := w.engine(s, sink)
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(modelCrash)
			if !ok {
				panic(r)
			}
			crashed = c.at
		}
	}()
	switch s.Op {
	case "rotate":
		j, err = eng.Rotate(ctx)
	case "resume":
		j, err = eng.Resume(ctx)
	case "abort":
		j, err = eng.Abort(ctx)
	}
	return j, err, ""
}

// cli runs waasctl in process against the world's folders and returns the exit code and stderr.
func (w *modelWorld) cli(t modelTB, args ...string) (int, string) {
	t.Helper()
	ios, _, _, stderr := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Config: func() (*config.Config, error) { return w.appConfig, nil }}
	f.Prompter = prompter.New(ios)
	f.Keyring = func() (credentials.Store, error) { return w.store, nil }
	f.APIClient = func() (*waas.Client, error) { return nil, errors.New("the model test gives commands no API client") }
	code := cli.Run(context.Background(), f, args)
	return code, stderr.String()
}

func (w *modelWorld) item(t modelTB) *credentials.Item {
	t.Helper()
	it, err := w.store.Get(context.Background(), modelProfile)
	if errors.Is(err, credentials.ErrNotFound) {
		return &credentials.Item{Profile: modelProfile}
	}
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return it
}

func (w *modelWorld) journal(t modelTB) *rotation.Journal {
	t.Helper()
	j, err := rotation.LoadJournal(w.stateDir, modelProfile)
	if err != nil {
		t.Fatalf("invariant (way out): the journal cannot be loaded: %v\n%s", err, w.history())
	}
	if j != nil && j.Step.Finished() {
		return nil // archived by the next command
	}
	return j
}

func (w *modelWorld) history() string {
	return "steps so far:\n  " + strings.Join(w.log, "\n  ")
}

// apply runs one step and checks what that step itself promises.
func (w *modelWorld) apply(t modelTB, s step) {
	t.Helper()
	w.lastExit0 = ""
	before := w.item(t)
	switch s.Op {
	case "rotate", "resume", "abort":
		sink := &modelSink{w: w, mode: s.Sink}
		j, err, crashed := w.runEngine(s, sink)
		outcome := "exit 0"
		switch {
		case crashed != "":
			outcome = "crashed at " + crashed
		case err != nil:
			outcome = "error: " + err.Error()
		default:
			w.lastExit0 = s.Op
		}
		if j != nil {
			outcome += fmt.Sprintf(" [journal %s at %s]", j.ID[:8], j.Step)
		}
		// Keys the command told the operator to delete by hand are not forgotten: a key a
		// request may have made is named by that request.
		var manual *rotation.ManualRevokeError
		if errors.As(err, &manual) {
			for _, k := range manual.Keys {
				if k.Name != "" {
					w.reported[k.Name] = true
				}
				if k.RequestID != "" {
					w.issuedMu.Lock()
					for _, n := range w.issued[k.RequestID] {
						w.reported[n] = true
					}
					w.issuedMu.Unlock()
				}
			}
		}
		w.log = append(w.log, s.String()+" -> "+outcome)
		if crashed == "" && err == nil {
			w.checkFinished(t, s, j, before)
		}
	case "revoke":
		var target *credentials.StoredKey
		switch s.Slot {
		case "current":
			target = before.Current
		case "pending":
			target = before.Pending
		case "previous":
			target = before.Previous
		}
		if target == nil {
			w.log = append(w.log, s.String()+" -> nothing in that slot")
			return
		}
		args := []string{"keys", "revoke", modelProfile, "--key", target.Name, "--reason", "model test", "--yes"}
		if s.Slot == "current" {
			args = append(args, "--force")
		}
		code, stderr := w.cli(t, args...)
		w.log = append(w.log, fmt.Sprintf("%s -> exit %d %s", s, code, oneLine(stderr)))
		if code == 0 {
			w.operatorRevoked[target.Name] = true
			w.lastExit0 = s.Op
		}
	case "auth-add":
		// A new key from the portal.
		name := w.makeKey(t, w.org, "operator", "")
		data, _ := json.Marshal(map[string]string{"name": name, "privateKey": w.secrets[name]})
		file := filepath.Join(w.dir, "download.json")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatalf("%v", err)
		}
		code, stderr := w.cli(t, "auth", "add", modelProfile, "--key-file", file, "--force")
		w.log = append(w.log, fmt.Sprintf("%s -> exit %d %s", s, code, oneLine(stderr)))
		if code != 0 {
			// The operator deletes the download they could not use.
			_ = w.srv.RevokeAPIKey(name)
			return
		}
		w.lastExit0 = s.Op
		w.removed = false
		// auth add --force forgets the older PREVIOUS key only once WaaS refuses it, so nothing
		// is reported here: invariant 5 must hold without it.
	case "auth-remove":
		code, stderr := w.cli(t, "auth", "remove", modelProfile, "--yes")
		w.log = append(w.log, fmt.Sprintf("%s -> exit %d %s", s, code, oneLine(stderr)))
		if code == 0 {
			w.lastExit0 = s.Op
			w.removed = true
			if strings.Contains(stderr, "Removing revokes nothing") {
				for _, k := range []*credentials.StoredKey{before.Current, before.Pending, before.Previous} {
					if k != nil {
						w.reported[k.Name] = true
					}
				}
			}
		}
	case "concurrent":
		w.concurrent(t, s)
	default:
		t.Fatalf("unknown step %q", s.Op)
	}
}

// concurrent starts a rotation that stops inside deliver, holding the lock, runs s.Second
// meanwhile, and lets the rotation finish. The second command must be refused with the lock
// error (exit 6): two commands never change a profile at once.
func (w *modelWorld) concurrent(t modelTB, s step) {
	t.Helper()
	sink := &modelSink{w: w, mode: "gate", entered: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		j   *rotation.Journal
		err error
	}
	first := make(chan result, 1)
	go func() {
		j, err, _ := w.runEngine(step{Op: "rotate", Create: "new", Sink: "gate"}, sink)
		first <- result{j, err}
	}()
	var r result
	select {
	case r = <-first:
		// The rotation never reached deliver (a rotation in progress, a rejected key ...).
		w.log = append(w.log, fmt.Sprintf("%s -> the first rotation ended before deliver: %v", s, r.err))
		if r.err == nil {
			w.lastExit0 = "rotate"
		}
		return
	case <-sink.entered:
	}
	var second string
	locked := false
	switch s.Second {
	case "rotate", "resume", "abort":
		// Its own engine: no fault injection while two run.
		eng := w.engine(step{Op: s.Second, Create: "new"}, &modelSink{w: w, mode: "ok"})
		var err error
		switch s.Second {
		case "rotate":
			_, err = eng.Rotate(context.Background())
		case "resume":
			_, err = eng.Resume(context.Background())
		case "abort":
			_, err = eng.Abort(context.Background())
		}
		var le *rotation.LockedError
		locked = errors.As(err, &le)
		second = fmt.Sprintf("%s: %v", s.Second, err)
	default:
		var args []string
		it := w.item(t)
		switch s.Second {
		case "revoke-previous", "revoke-pending":
			k := it.Previous
			if s.Second == "revoke-pending" {
				k = it.Pending
			}
			if k == nil {
				second = s.Second + ": nothing in that slot"
				locked = true
				break
			}
			args = []string{"keys", "revoke", modelProfile, "--key", k.Name, "--reason", "model test", "--yes"}
		case "auth-add":
			name := w.makeKey(t, w.org, "operator", "")
			data, _ := json.Marshal(map[string]string{"name": name, "privateKey": w.secrets[name]})
			file := filepath.Join(w.dir, "download.json")
			_ = os.WriteFile(file, data, 0o600)
			args = []string{"auth", "add", modelProfile, "--key-file", file, "--force"}
			defer func() {
				if !locked {
					return
				}
				_ = w.srv.RevokeAPIKey(name)
			}()
		case "auth-remove":
			args = []string{"auth", "remove", modelProfile, "--yes"}
		}
		if args != nil {
			code, stderr := w.cli(t, args...)
			locked = code == cmdutil.ExitLocked
			second = fmt.Sprintf("%s: exit %d %s", s.Second, code, oneLine(stderr))
		}
	}
	close(sink.release)
	r = <-first
	w.log = append(w.log, fmt.Sprintf("%s -> while a rotation held the lock, %s; the rotation: %v", s, second, r.err))
	if !locked {
		t.Fatalf("invariant (one command at a time): %s ran while a rotation held the lock of %s\n%s", s.Second, modelProfile, w.history())
	}
	if r.err == nil {
		w.lastExit0 = "rotate"
		w.checkFinished(t, step{Op: "rotate"}, r.j, nil)
	}
}

// checkFinished checks what an engine command that returned no error promises.
// before is the keyring before the command (nil: not known).
func (w *modelWorld) checkFinished(t modelTB, s step, j *rotation.Journal, before *credentials.Item) {
	t.Helper()
	if j == nil {
		return // resume or abort with nothing in progress
	}
	it := w.item(t)
	switch j.Step {
	case rotation.StepDone:
		if it.Current == nil || it.Current.Name != j.NewKey.Name || it.Pending != nil || it.Previous != nil {
			t.Fatalf("invariant (done): rotation %s finished but the keyring holds %v, want only the new key %s as CURRENT\n%s", j.ID, it, j.NewKey.Name, w.history())
		}
		if st := w.keyState(j.OldKey.Name); st != waasapi.APIKeyRevoked {
			t.Fatalf("invariant (done): rotation %s finished but the old key %s is %s at the sandbox\n%s", j.ID, j.OldKey.Name, st, w.history())
		}
		if _, fp, err := rotation.ReadEnvKey(w.envPath); err != nil || fp != it.Current.Fingerprint {
			t.Fatalf("invariant (done): the .env holds %s (%v), not the CURRENT key\n%s", fp, err, w.history())
		}
		if _, fp, err := rotation.ReadEnvKey(w.extraPath); s.Extra && (err != nil || fp != it.Current.Fingerprint) {
			t.Fatalf("invariant (done): the sink listed in this run holds %s (%v), not the CURRENT key\n%s", fp, err, w.history())
		}
	case rotation.StepAborted:
		if j.OldKey.Name == "" {
			// Stopped before preflight read the keyring: nothing was touched.
			if before != nil && (it.Current == nil) != (before.Current == nil) || before != nil && it.Current != nil && it.Current.Name != before.Current.Name {
				t.Fatalf("invariant (aborted): rotation %s stopped before preflight, but abort changed the CURRENT key\n%s", j.ID, w.history())
			}
			return
		}
		if it.Current == nil || it.Current.Name != j.OldKey.Name || it.Pending != nil {
			t.Fatalf("invariant (aborted): rotation %s was rolled back but the keyring holds %v, want the old key %s as CURRENT\n%s", j.ID, it, j.OldKey.Name, w.history())
		}
		if j.NewKey.Name != "" && j.NewKey.Name != j.OldKey.Name {
			if st := w.keyState(j.NewKey.Name); st == waasapi.APIKeyActive {
				t.Fatalf("invariant (aborted): rotation %s was rolled back but its new key %s is still active\n%s", j.ID, j.NewKey.Name, w.history())
			}
		}
	default:
		if s.Op != "abort" && j.Step != rotation.StepRevoke {
			t.Fatalf("%s returned no error with the rotation at %s\n%s", s.Op, j.Step, w.history())
		}
	}
}

// keyState is the key's state at the sandbox's key-admin API, "" when it does not exist.
func (w *modelWorld) keyState(name string) waasapi.APIKeyState {
	for _, org := range []string{w.org, w.otherOrg} {
		for _, k := range w.srv.APIKeys(org) {
			if k.Name == name {
				return k.State
			}
		}
	}
	return ""
}

// check is the invariant check run after every step. In words (docs/rotation.md, "The model
// the tests check"):
//
//  1. Way out: the journal loads and its step is one the engine knows.
//  2. One CURRENT, at most one PENDING: the profile has a CURRENT key unless the operator removed
//     the profile; a PENDING key only while a rotation is in progress.
//  3. The CURRENT key authenticates at the sandbox, in the profile's organization, unless the
//     operator revoked it by name; and whatever the last command was, if it exited 0 it
//     authenticates (no exit 0 that leaves it not working).
//  4. The old key goes last: while a rotation has not promoted, its old key is not revoked (unless
//     by the operator), and a journal that says the old key is revoked has the new key CURRENT.
//     In the audit log, no rotation revokes before it delivered and promoted, and none both
//     revokes and aborts.
//  5. No key forgotten: every key ACTIVE at the sandbox's key-admin API (both organizations) is
//     CURRENT, PENDING or PREVIOUS, or the old or new key (or the request's key) of the
//     rotation in progress, or one waasctl told the operator to delete by hand.
//  6. One rotation at a time: no command left the profile's lock held.
//  7. No secret in the journals or the audit log.
func (w *modelWorld) check(t modelTB) {
	t.Helper()
	ctx := context.Background()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("invariant "+format+"\n%s", append(args, w.history())...)
	}
	// 1.
	j := w.journal(t)
	if j != nil && !j.Step.Valid() {
		fail("1 (way out): the journal is at step %q, which the engine does not know", j.Step)
	}
	// 2.
	it := w.item(t)
	if it.Current == nil && !w.removed {
		fail("2 (one CURRENT): profile %s has no CURRENT key (keyring: %v)", modelProfile, it)
	}
	if it.Pending != nil && j == nil {
		fail("2 (at most one PENDING, only in a rotation): PENDING %s with no rotation in progress", it.Pending.Name)
	}
	// 3.
	if it.Current != nil && !w.operatorRevoked[it.Current.Name] {
		_, err := w.listPools(ctx, it.Current.Name, it.Current.PrivateKey)
		if err != nil {
			what := "3 (CURRENT works)"
			if w.lastExit0 != "" {
				what = "3 (no exit 0 leaving CURRENT not working: " + w.lastExit0 + " exited 0)"
			}
			fail("%s: the CURRENT key %s does not authenticate: %v", what, it.Current.Name, err)
		}
		if !strings.HasPrefix(it.Current.Name, "organizations/"+w.org+"/") {
			fail("3 (CURRENT in the profile's organization): the CURRENT key %s belongs to another organization", it.Current.Name)
		}
	}
	// 4.
	if j != nil {
		promoted := slices.Index(rotation.Steps(), j.Step) >= slices.Index(rotation.Steps(), rotation.StepRevoke)
		if !promoted && j.OldKey.Name != "" && !w.operatorRevoked[j.OldKey.Name] && w.keyState(j.OldKey.Name) == waasapi.APIKeyRevoked {
			fail("4 (old key last): rotation %s at %s, and its old key %s is revoked", j.ID, j.Step, j.OldKey.Name)
		}
		if !j.RevokedAt.IsZero() && (it.Current == nil || it.Current.Name != j.NewKey.Name) {
			fail("4 (old key last): rotation %s revoked the old key but the CURRENT key is not its new one", j.ID)
		}
	}
	if bad := auditOrder(filepath.Join(w.stateDir, "audit")); bad != "" {
		fail("4 (old key last, audit log): %s", bad)
	}
	// 5.
	known := map[string]bool{}
	for _, k := range []*credentials.StoredKey{it.Current, it.Pending, it.Previous} {
		if k != nil {
			known[k.Name] = true
		}
	}
	if j != nil {
		known[j.OldKey.Name], known[j.NewKey.Name] = true, true
		// The journal records the request id: the key it made is recorded, even where the
		// issuer cannot find it (then abort or resume must say to revoke it by hand).
		if j.RequestID != "" {
			w.issuedMu.Lock()
			for _, n := range w.issued[j.RequestID] {
				known[n] = true
			}
			w.issuedMu.Unlock()
		}
		// Keys the journal already lists for deletion by hand (the operator is told when the
		// rotation ends) are recorded too, by name or by the request that may have made them.
		for _, m := range j.ManualChecks {
			if m.Name != "" {
				known[m.Name] = true
			}
			w.issuedMu.Lock()
			for _, n := range w.issued[m.RequestID] {
				known[n] = true
			}
			w.issuedMu.Unlock()
		}
	}
	for _, org := range []string{w.org, w.otherOrg} {
		for _, k := range w.srv.APIKeys(org) {
			if k.State == waasapi.APIKeyActive && !known[k.Name] && !w.reported[k.Name] {
				fail("5 (no key forgotten): %s is ACTIVE at the sandbox, and waasctl neither holds it nor said to delete it (keyring %v, journal %+v)", k.Name, it, j)
			}
		}
	}
	// 6.
	lock, err := rotation.AcquireLock(w.stateDir, modelProfile, rotation.Holder{Command: "model check"}, false)
	if err != nil {
		fail("6 (one rotation at a time): the lock is still held after the command ended: %v", err)
	}
	_ = lock.Release()
	// 7.
	w.checkNoSecrets(t)
}

// checkNoSecrets looks for every key's secret, in any encoding, in the journals and the audit log.
func (w *modelWorld) checkNoSecrets(t modelTB) {
	t.Helper()
	secrets := make([]string, 0, len(w.secrets))
	for _, s := range w.secrets {
		secrets = append(secrets, s)
	}
	guard := credentials.NewGuard(secrets...)
	for _, sub := range []string{"journals", "audit"} {
		_ = filepath.WalkDir(filepath.Join(w.stateDir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, rerr := os.ReadFile(path)
			if rerr == nil && guard.Refuses(string(data)) {
				t.Fatalf("invariant 7 (no secret): %s holds key material\n%s", path, w.history())
			}
			return nil
		})
	}
}

// auditOrder checks, per rotation, that a successful rotate.revoke comes after a successful
// rotate.deliver and rotate.promote, and that no rotation was both aborted and revoked.
func auditOrder(dir string) string {
	acts := map[string][]string{}
	for ent, err := range auditlog.Read(dir) {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return ""
			}
			return "reading the audit log: " + err.Error()
		}
		if !strings.HasPrefix(ent.Action, "rotate.") || !strings.HasPrefix(ent.Detail, "rotation ") {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(ent.Detail, "rotation "), ":")
		acts[id] = append(acts[id], ent.Action+"/"+ent.Outcome)
	}
	for id, a := range acts {
		rev := slices.Index(a, "rotate.revoke/"+auditlog.OutcomeOK)
		if rev < 0 {
			continue
		}
		if slices.Contains(a, "rotate.abort/"+auditlog.OutcomeAborted) {
			return fmt.Sprintf("rotation %s both revoked the old key and was aborted: %v", id, a)
		}
		for _, s := range []string{"deliver", "promote"} {
			if i := slices.Index(a, "rotate."+s+"/"+auditlog.OutcomeOK); i < 0 || i > rev {
				return fmt.Sprintf("rotation %s revoked the old key before rotate.%s succeeded: %v", id, s, a)
			}
		}
	}
	return ""
}

// wayOut heals the world and ends the rotation in progress: --abort, or --resume where abort
// refuses, and --abort --force as the last resort (it ends whatever it cannot undo, naming the
// keys to delete by hand). Afterwards nothing is in progress, the CURRENT key works (unless the
// operator revoked or removed it) and no key is forgotten.
func (w *modelWorld) wayOut(t modelTB) {
	t.Helper()
	for try := 0; w.journal(t) != nil; try++ {
		if try == 2 {
			t.Fatalf("invariant 1 (way out): neither --abort nor --resume ends the rotation in a healthy world\n%s", w.history())
		}
		for _, s := range []step{{Op: "abort"}, {Op: "resume"}, {Op: "abort", Force: true}} {
			if w.journal(t) == nil {
				break
			}
			s.Create, s.Sink = "new", "ok"
			w.apply(t, s)
			w.check(t)
		}
	}
	it := w.item(t)
	if it.Pending != nil {
		t.Fatalf("invariant 2: a PENDING key %s is left with no rotation in progress\n%s", it.Pending.Name, w.history())
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// drawStep draws one action.
func drawStep(t *rapid.T) step {
	op := rapid.SampledFrom([]string{"rotate", "rotate", "rotate", "resume", "resume", "abort", "abort", "revoke", "auth-add", "auth-remove", "concurrent"}).Draw(t, "op")
	s := step{Op: op}
	switch op {
	case "rotate", "resume", "abort":
		s.Create = rapid.SampledFrom([]string{"new", "new", "new", "same", "other-org", "fails", "lost"}).Draw(t, "create")
		s.Sink = rapid.SampledFrom([]string{"ok", "ok", "ok", "fail", "hang"}).Draw(t, "sink")
		if rapid.IntRange(0, 2).Draw(t, "crash?") == 0 {
			s.CrashAt = rapid.IntRange(1, 25).Draw(t, "crashAt")
			s.CrashAfter = rapid.Bool().Draw(t, "crashAfter")
		}
		if op == "rotate" {
			s.Grace = rapid.IntRange(0, 4).Draw(t, "grace?") == 0
		}
		s.Extra = rapid.IntRange(0, 3).Draw(t, "extraSink?") == 0
	case "revoke":
		s.Slot = rapid.SampledFrom([]string{"current", "pending", "previous"}).Draw(t, "slot")
	case "concurrent":
		s.Second = rapid.SampledFrom([]string{"rotate", "resume", "abort", "revoke-previous", "revoke-pending", "auth-add", "auth-remove"}).Draw(t, "second")
	}
	return s
}

// TestRotationModel drives random sequences of operator and world actions against the sandbox
// and the real stores and checks the invariants after every step. -rotation.sequences=N sets
// how many (make model-check runs thousands).
func TestRotationModel(t *testing.T) {
	setRapidDefault(t, "rapid.checks", strconv.Itoa(*modelSequences))
	setRapidDefault(t, "rapid.steps", "12")
	setRapidDefault(t, "rapid.nofailfile", "true")
	t.Setenv("WAASCTL_STATE_DIR", "")
	start := time.Now()
	rapid.Check(t, func(rt *rapid.T) {
		cfg := seqConfig{
			Pools:     rapid.SampledFrom([]int{0, 2}).Draw(rt, "pools"),
			NoFind:    rapid.IntRange(0, 3).Draw(rt, "noFind?") == 0,
			RepeatMax: rapid.IntRange(0, 3).Draw(rt, "repeatCreates?") == 0,
		}
		w := newModelWorld(rt, cfg)
		defer w.close()
		w.log = append(w.log, fmt.Sprintf("sequence %+v", cfg))
		rt.Repeat(map[string]func(*rapid.T){
			"": func(rt *rapid.T) { w.check(rt) },
			"step": func(rt *rapid.T) {
				s := drawStep(rt)
				w.apply(rt, s)
			},
		})
		w.wayOut(rt)
	})
	t.Logf("%d sequences in %s", *modelSequences, time.Since(start).Round(time.Millisecond))
}

// setRapidDefault sets one of rapid's flags unless the command line set it.
func setRapidDefault(t *testing.T, name, value string) {
	t.Helper()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if set {
		return
	}
	old := flag.Lookup(name).Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// replay runs a fixed sequence as a plain test: the shrunk sequences of the failures the model
// found are kept as regression tests this way.
func replay(t *testing.T, cfg seqConfig, steps ...step) {
	t.Helper()
	t.Setenv("WAASCTL_STATE_DIR", "")
	w := newModelWorld(t, cfg)
	defer w.close()
	w.check(t)
	for _, s := range steps {
		w.apply(t, s)
		w.check(t)
	}
	w.wayOut(t)
}

// modelTempRoot is where sequences keep their folders: a memory file system where there is
// one, since every journal save and audit entry is fsynced and a sequence makes hundreds.
func modelTempRoot() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "waasctl-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return ""
}

// Regression tests: the shrunk sequences of the failures the model found, replayed.

func TestModelRegressionSameKeyAsCurrent(t *testing.T) {
	replay(t, seqConfig{Pools: 2}, step{Op: "rotate", Create: "same", Sink: "ok"})
}

func TestModelRegressionOtherOrganizationKeyPromoted(t *testing.T) {
	replay(t, seqConfig{Pools: 0}, step{Op: "rotate", Create: "other-org", Sink: "ok"})
}

func TestModelRegressionLostCreateWithoutFind(t *testing.T) {
	replay(t, seqConfig{Pools: 2, NoFind: true}, step{Op: "rotate", Create: "lost", Sink: "ok"})
}

func TestModelRegressionRevokeDuringRotationTakesNoLock(t *testing.T) {
	replay(t, seqConfig{Pools: 2}, step{Op: "concurrent", Second: "revoke-pending"})
}

func TestModelRegressionAuthAddDuringHalfStartedRotation(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "rotate", Create: "fails", Sink: "ok"},
		step{Op: "auth-add"},
		step{Op: "resume", Create: "new", Sink: "ok"})
}

func TestModelRegressionAuthRemoveDuringRotation(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "rotate", Create: "new", Sink: "fail"},
		step{Op: "auth-remove"})
}

func TestModelRegressionAuthRemoveWhileRotationHoldsLock(t *testing.T) {
	replay(t, seqConfig{Pools: 2}, step{Op: "concurrent", Second: "auth-remove"})
}

func TestModelRegressionPreflightFailureLeavesJournal(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "auth-remove"},
		step{Op: "rotate", Create: "new", Sink: "ok"})
}

func TestModelRegressionRotationDropsOlderPrevious(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "auth-add"},
		step{Op: "rotate", Create: "new", Sink: "ok"})
}

func TestModelRegressionResumeAfterPartialAbort(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "rotate", Create: "new", Sink: "ok", CrashAt: 14, CrashAfter: true}, // crashes at promote
		step{Op: "abort", Create: "new", Sink: "hang"},
		step{Op: "resume", Create: "new", Sink: "ok"})
}

// A sink added to the profile while the rotation waits out its grace period: --resume revoked
// the old key and exited 0 with that sink never given the new one.
func TestModelRegressionSinkAddedDuringGrace(t *testing.T) {
	replay(t, seqConfig{Pools: 2},
		step{Op: "rotate", Create: "new", Sink: "ok", Grace: true},
		step{Op: "resume", Create: "new", Sink: "ok", Extra: true})
}
