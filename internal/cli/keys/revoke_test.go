package keys

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// revokeEnv is profile prod with the sandbox issuer, a current and a previous key, and a
// record of every request path the sandbox was sent.
type revokeEnv struct {
	srv      *sandbox.Server
	store    credentials.Store
	current  waasapi.APIKey
	previous waasapi.APIKey
	opts     *RevokeOptions

	mu    sync.Mutex
	paths []string
}

func newRevokeEnv(t *testing.T) *revokeEnv {
	t.Helper()
	return newRevokeEnvWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 1}})
}

func newRevokeEnvWith(t *testing.T, sbCfg sandbox.Config) *revokeEnv {
	t.Helper()
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	srv, err := sandbox.New(sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &revokeEnv{srv: srv, store: credentials.NewMemoryStore()}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	stored := func(k waasapi.APIKey) *credentials.StoredKey {
		key, err := credentials.NewAPIKey(k.Name, k.PrivateKey, "test")
		if err != nil {
			t.Fatal(err)
		}
		return &credentials.StoredKey{Name: k.Name, PrivateKey: k.PrivateKey, Fingerprint: key.Fingerprint, Algorithm: key.Algorithm(), AddedAt: time.Now()}
	}
	for _, k := range []*waasapi.APIKey{&e.current, &e.previous} {
		if *k, err = srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.Put(testctx.New(t), &credentials.Item{Profile: "prod", Current: stored(e.current), Previous: stored(e.previous)}); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	cfg := &config.Config{Profiles: map[string]config.Profile{"prod": {Endpoint: ts.URL, Issuer: &config.Issuer{Type: "sandbox"}}}}
	f := &cmdutil.Factory{
		IOStreams: ios, Profile: "prod",
		Config:  func() (*config.Config, error) { return cfg, nil },
		Keyring: func() (credentials.Store, error) { return e.store, nil },
	}
	e.opts = &RevokeOptions{IO: ios, Factory: f, Profile: "prod", Reason: "test", Yes: true}
	return e
}

func (e *revokeEnv) state(t *testing.T, name string) waasapi.APIKeyState {
	t.Helper()
	for _, k := range e.srv.APIKeys(e.srv.DefaultOrg()) {
		if k.Name == name {
			return k.State
		}
	}
	t.Fatalf("no key %s at the sandbox", name)
	return ""
}

// A fingerprint that no slot holds used to be sent to WaaS as a key name.
func TestRevokeUnknownFingerprintIsRefusedBeforeWaaS(t *testing.T) {
	for _, want := range []string{"SHA256:AAAAAAAAAAAA", "SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg", "not-a-key-name"} {
		t.Run(want, func(t *testing.T) {
			e := newRevokeEnv(t)
			e.opts.Key = want
			err := revokeRun(testctx.New(t), e.opts)
			var fe *cmdutil.FlagError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a usage error (exit 2)", err)
			}
			if strings.HasPrefix(want, "SHA256:") && !strings.Contains(err.Error(), "no key of profile \"prod\" has the fingerprint") {
				t.Fatalf("err = %v", err)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.paths) > 0 {
				t.Fatalf("the sandbox was asked %q", e.paths)
			}
		})
	}
}

// The short fingerprint `keys status` shows, and the full one, name the previous key.
func TestRevokeByFingerprint(t *testing.T) {
	for _, short := range []bool{true, false} {
		t.Run(map[bool]string{true: "short", false: "full"}[short], func(t *testing.T) {
			e := newRevokeEnv(t)
			item, _ := e.store.Get(testctx.New(t), "prod")
			e.opts.Key = item.Previous.Fingerprint
			if short {
				e.opts.Key = credentials.ShortFingerprint(e.opts.Key)
			}
			if err := revokeRun(testctx.New(t), e.opts); err != nil {
				t.Fatal(err)
			}
			if got := e.state(t, e.previous.Name); got != waasapi.APIKeyRevoked {
				t.Fatalf("previous key is %s", got)
			}
			if got := e.state(t, e.current.Name); got != waasapi.APIKeyActive {
				t.Fatalf("current key is %s", got)
			}
			item, _ = e.store.Get(testctx.New(t), "prod")
			if item.Previous != nil || item.Current == nil {
				t.Fatalf("keyring after: current %v, previous %v", item.Current != nil, item.Previous != nil)
			}
		})
	}
}
