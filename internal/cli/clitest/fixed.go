package clitest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// FixedEndpoint is the endpoint NewFixed's client names, whatever port its sandbox listens on.
const FixedEndpoint = "https://waas-sandbox.test"

// NewFixed is New with nothing left that changes from run to run: the sandbox runs on cfg's
// clock; the client signs with FixedKey(1)'s key, registered in the sandbox's organization under
// FixedKey(1)'s ID (Env.Key has that name, without the private key), and names FixedEndpoint,
// its requests carried to the sandbox's real address. Snapshots, reports and headers that
// record the endpoint and the key that took them print the same on every run.
func NewFixed(t *testing.T, cfg sandbox.Config) *Env {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close() })

	fixed := FixedKey(t, 1, FixedNow, "")
	id := fixed.Name[len(fixed.Name)-36:]
	signer, err := credentials.ParsePrivateKey(fixed.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	view, err := srv.AddAPIKey(srv.DefaultOrg(), id, signer.Public(), "golden")
	if err != nil {
		t.Fatal(err)
	}
	s, err := waas.NewSigner(view.Name, signer, waas.FormCDP)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = cfg.Now
	target, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	client, err := waas.New(waas.Options{
		Endpoint: FixedEndpoint, Signer: s, Concurrency: 4, PageSize: 3, Backoff: time.Millisecond,
		HTTPClient: &http.Client{Transport: redirectTo{target, http.DefaultTransport}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Config:    func() (*config.Config, error) { return &config.Config{}, nil },
		Profile:   "default",
		APIClient: func() (*waas.Client, error) { return client, nil },
	}
	return &Env{Factory: f, Stdout: stdout, Stderr: stderr, Sandbox: srv, URL: ts.URL, Key: waasapi.APIKey{Name: view.Name, Fingerprint: view.Fingerprint, Algorithm: view.Algorithm}}
}

// redirectTo sends every request to target's scheme and host, keeping its Host header (the
// endpoint's host, which the signed token names).
type redirectTo struct {
	target *url.URL
	next   http.RoundTripper
}

func (r redirectTo) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Host = req.URL.Host
	out.URL.Scheme, out.URL.Host = r.target.Scheme, r.target.Host
	return r.next.RoundTrip(out)
}
