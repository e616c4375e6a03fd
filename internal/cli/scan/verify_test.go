package scan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

const verifyKeyName = "organizations/0b1e3c5a-1111-4222-8333-944455556666/apiKeys/7c2d9e4f-aaaa-4bbb-8ccc-dddd11112222"

// testVerifier verifies against srv with a short per-key deadline.
func testVerifier(t *testing.T, srv *httptest.Server, perKey time.Duration) *verifier {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	v := newVerifier(&cmdutil.Factory{IOStreams: ios, Endpoint: srv.URL, NoAdapt: true})
	v.perKey = perKey
	return v
}

func TestVerifyCountsOnlyTheAPIsOwnAnswers(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string // prefix
	}{
		{"the API's not found", jsonAnswer(404, `{"code":5,"message":"pool not found","details":[]}`), "authenticates"},
		{"the API's unauthenticated", jsonAnswer(401, `{"code":16,"message":"invalid token"}`), "rejected"},
		{"a bare 404 (wrong server)", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "unknown: "},
		{"a 404 with another code", jsonAnswer(404, `{"code":3,"message":"x"}`), "unknown: "},
		{"a bare 401 (a proxy)", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, "unknown: "},
		{"403 permission denied", jsonAnswer(403, `{"code":7,"message":"denied"}`), "unknown: "},
		{"a pool that cannot exist", jsonAnswer(200, `{"name":"pools/x"}`), "unknown: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			if got := testVerifier(t, srv, 5*time.Second).verify(t.Context(), verifyKeyName, key); !strings.HasPrefix(got, c.want) {
				t.Fatalf("verified %q, want %q", got, c.want)
			}
		})
	}
}

// A hostile server cannot hold the scan up or flood it: each check ends by its deadline with
// "unknown", a redirect is not followed.
func TestVerifyHostileServers(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var requests atomic.Int64
	cases := []struct {
		name    string
		handler http.HandlerFunc
		maxReqs int64
	}{
		{"never answers", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 0},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			io.WriteString(w, `{"code":`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 0},
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			chunk := []byte(strings.Repeat("x", 64<<10))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, 0},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.String(), http.StatusFound) }, 1},
		{"500 forever", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requests.Store(0)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1); c.handler(w, r) }))
			defer srv.Close()
			start := time.Now()
			got := testVerifier(t, srv, 500*time.Millisecond).verify(t.Context(), verifyKeyName, key)
			if !strings.HasPrefix(got, "unknown: ") {
				t.Fatalf("verified %q, want unknown", got)
			}
			// The deadline is 0.5 s; 5 s leaves room for a loaded machine, not for a hang.
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %s", d)
			}
			if c.maxReqs > 0 && requests.Load() > c.maxReqs {
				t.Fatalf("%d requests: the redirect was followed", requests.Load())
			}
		})
	}
}

// Once the budget of the whole --verify is spent, no more requests are made.
func TestVerifyBudget(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1); w.WriteHeader(500) }))
	defer srv.Close()
	v := testVerifier(t, srv, time.Second)
	v.budget = 0
	if got := v.verify(t.Context(), verifyKeyName, key); !strings.HasPrefix(got, "unknown: not checked") || requests.Load() != 0 {
		t.Fatalf("verified %q after %d requests, want unknown and none", got, requests.Load())
	}
}
