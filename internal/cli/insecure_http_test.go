package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// apiEnv is a factory whose API client is built the real way (newAPIClient)
// from a key in the environment, and whose every TCP connection, whatever
// host it is for, goes to a loopback fake WaaS: a test can name a
// non-loopback endpoint without sending a byte anywhere but loopback.
type apiEnv struct {
	f              *cmdutil.Factory
	stdout, stderr interface{ String() string }
	dials          atomic.Int32
	requests       atomic.Int32
}

func newAPIEnv(t *testing.T, profiles map[string]config.Profile, handler http.HandlerFunc) *apiEnv {
	t.Helper()
	e := &apiEnv{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	orig := http.DefaultTransport
	http.DefaultTransport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		e.dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	t.Cleanup(func() { http.DefaultTransport = orig })

	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := credentials.EncodeSEC1PEM(k)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		credentials.EnvKeyName:       "organizations/5c3c0c44-cf54-467e-923a-2a0fa82add2d/apiKeys/628263b6-d714-4160-8846-96e0296f8c40",
		credentials.EnvKeyPrivateKey: pemKey,
	}
	ios, _, out, errOut := iostreams.Test()
	e.f = &cmdutil.Factory{
		IOStreams: ios,
		Config:    func() (*config.Config, error) { return &config.Config{Profiles: profiles}, nil },
	}
	e.f.APIClient = func() (*waas.Client, error) {
		return newAPIClient(testctx.New(t), e.f, func(k string) string { return env[k] })
	}
	e.stdout, e.stderr = out, errOut
	return e
}

func listPoolsOK(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"pools": []}`)) }

// TestCleartextEndpointRefused: a plain-HTTP endpoint that is not loopback
// is a usage error, said in one line, before any connection is made.
func TestCleartextEndpointRefused(t *testing.T) {
	for name, args := range map[string][]string{
		"flag":    {"--endpoint", "http://example.invalid", "pools", "list"},
		"profile": {"--profile", "lab", "pools", "list"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newAPIEnv(t, map[string]config.Profile{"lab": {Endpoint: "http://example.invalid:8080"}}, listPoolsOK)
			code := Run(testctx.New(t), e.f, args)
			if code != cmdutil.ExitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, cmdutil.ExitUsage, e.stderr)
			}
			want := "is not HTTPS; the API key's JWT would travel in clear: use https://, or --insecure-http if you really mean it\n"
			if got := e.stderr.String(); !strings.HasPrefix(got, "error: endpoint http://example.invalid") || !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 1 {
				t.Errorf("stderr %q", got)
			}
			if n := e.dials.Load(); n != 0 {
				t.Errorf("%d connections made", n)
			}
		})
	}
}

// TestInsecureHTTPAllowsWithWarning: --insecure-http, or insecure_http in the
// profile, lets the same endpoint through, with one warning on stderr.
func TestInsecureHTTPAllowsWithWarning(t *testing.T) {
	for name, tc := range map[string]struct {
		profile config.Profile
		args    []string
	}{
		"flag":    {config.Profile{}, []string{"--insecure-http", "--endpoint", "http://example.invalid", "pools", "list"}},
		"profile": {config.Profile{Endpoint: "http://example.invalid", InsecureHTTP: true}, []string{"--profile", "lab", "pools", "list"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newAPIEnv(t, map[string]config.Profile{"lab": tc.profile}, listPoolsOK)
			if code := Run(testctx.New(t), e.f, tc.args); code != cmdutil.ExitOK {
				t.Fatalf("exit %d; stderr %q", code, e.stderr)
			}
			got := e.stderr.String()
			if strings.Count(got, "WARNING: endpoint http://example.invalid is not HTTPS") != 1 || !strings.HasPrefix(got, "WARNING") {
				t.Errorf("stderr %q, want one warning", got)
			}
			if e.requests.Load() != 1 {
				t.Errorf("%d requests reached the fake, want 1", e.requests.Load())
			}
		})
	}
}

// TestHostileErrorPrintedOnOneLine: a server's error message with escape
// sequences, line breaks and bidi overrides is printed as one inert line.
func TestHostileErrorPrintedOnOneLine(t *testing.T) {
	e := newAPIEnv(t, nil, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code": 7, "message": "denied\u001b[2J\r\nerror: forged line\u202e\u2066\u009b"}`))
	})
	code := Run(testctx.New(t), e.f, []string{"--endpoint", "http://127.0.0.1:1", "pools", "list"})
	if code == cmdutil.ExitOK {
		t.Fatal("exit 0")
	}
	got := e.stderr.String()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("stderr is not one line: %q", got)
	}
	for _, r := range strings.TrimSuffix(got, "\n") {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u202e' || r == '\u2066' {
			t.Fatalf("stderr keeps %U: %q", r, got)
		}
	}
	if !strings.Contains(got, "forged line") {
		t.Fatalf("stderr lost the message: %q", got)
	}
}
