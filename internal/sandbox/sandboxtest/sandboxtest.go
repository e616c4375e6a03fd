// Package sandboxtest starts sandboxes for tests in other packages and
// builds clients that sign with their keys.
package sandboxtest

import (
	"crypto/ed25519"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Sandbox is a running sandbox and a key of its seeded organization.
type Sandbox struct {
	*sandbox.Server
	URL string
	Key waasapi.APIKey // with its private key
	// now is the sandbox's clock (Config.Now); its clients sign with it, so that a sandbox on a
	// fixed clock accepts their tokens.
	now func() time.Time
}

// Start runs a sandbox with cfg on loopback for the rest of the test.
func Start(t testing.TB, cfg sandbox.Config) *Sandbox {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close() })
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &Sandbox{Server: srv, URL: ts.URL, Key: key, now: cfg.Now}
}

// Client returns a client for the sandbox's key; opts.Endpoint and
// opts.Signer are filled in, and retries back off briefly unless opts says
// otherwise.
func (s *Sandbox) Client(t testing.TB, opts waas.Options) *waas.Client {
	t.Helper()
	c, err := newClient(s.URL, s.Key, opts, s.now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ClientFor returns a client at baseURL signing with key.
func ClientFor(t testing.TB, baseURL string, key waasapi.APIKey, opts waas.Options) *waas.Client {
	t.Helper()
	c, err := NewClient(baseURL, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewClient is ClientFor for callers without a testing.TB, such as
// testscript commands.
func NewClient(baseURL string, key waasapi.APIKey, opts waas.Options) (*waas.Client, error) {
	return newClient(baseURL, key, opts, nil)
}

// newClient signs with the clock now (nil: the real one).
func newClient(baseURL string, key waasapi.APIKey, opts waas.Options, now func() time.Time) (*waas.Client, error) {
	k, err := credentials.ParsePrivateKey(key.PrivateKey)
	if err != nil {
		return nil, err
	}
	form := waas.FormWaaS
	if _, ok := k.(ed25519.PrivateKey); ok || key.Algorithm == "Ed25519" {
		form = waas.FormCDP
	}
	if opts.Signer, err = waas.NewSigner(key.Name, k, form); err != nil {
		return nil, err
	}
	opts.Signer.Now = now
	opts.Endpoint = baseURL
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	return waas.New(opts)
}
