package sandbox

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// TestJWTAttacksOverHTTP sends forged tokens to a live sandbox: every
// forgery gets 401, and the same request with a valid token gets 200.
func TestJWTAttacksOverHTTP(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 1}})
	revoked, _ := sb.srv.CreateAPIKey(sb.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err := sb.srv.RevokeAPIKey(revoked.Name); err != nil {
		t.Fatal(err)
	}
	stranger, _ := credentials.ParsePrivateKey(mustKey(t, sb).PrivateKey) // a valid key pair the sandbox never registered
	key, _ := credentials.ParsePrivateKey(sb.key.PrivateKey)
	revokedKey, _ := credentials.ParsePrivateKey(revoked.PrivateKey)
	u, _ := url.Parse(sb.url)
	path := "/waas/pools/v1/pools"
	uri := "GET " + u.Host + path
	now := time.Now().Unix()
	claims := func(kv ...any) map[string]any {
		base := map[string]any{"iss": "coinbase-cloud", "sub": sb.key.Name, "aud": []string{"waas_pool_service"}, "nbf": now, "exp": now + 60, "uri": uri}
		return jvWith(base, kv...)
	}
	nonce := 0
	hdr := func(kid string) map[string]any {
		nonce++
		return map[string]any{"kid": kid, "typ": "JWT", "nonce": strconv.Itoa(nonce)}
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())

	cases := map[string]string{
		"alg none":         jvUnsigned(t, map[string]any{"alg": "none", "kid": sb.key.Name, "typ": "JWT"}, claims()) + ".",
		"HS256 confusion":  jvHS256(t, pubDER, claims()),
		"expired":          jvSign(t, key, hdr(sb.key.Name), claims("nbf", now-600, "exp", now-120)),
		"not yet valid":    jvSign(t, key, hdr(sb.key.Name), claims("nbf", now+300, "exp", now+360)),
		"wrong audience":   jvSign(t, key, hdr(sb.key.Name), claims("aud", []string{"waas_mpc_wallet_service"})),
		"wrong uri method": jvSign(t, key, hdr(sb.key.Name), claims("uri", "POST "+u.Host+path)),
		"wrong uri host":   jvSign(t, key, hdr(sb.key.Name), claims("uri", "GET api.developer.coinbase.com"+path)),
		"wrong uri path":   jvSign(t, key, hdr(sb.key.Name), claims("uri", "GET "+u.Host+"/waas/pools/v1/pools/x")),
		"unknown kid":      jvSign(t, key, hdr("organizations/x/apiKeys/nope"), claims("sub", "organizations/x/apiKeys/nope")),
		"foreign key":      jvSign(t, stranger, hdr(sb.key.Name), claims()),
		"revoked key":      jvSign(t, revokedKey, hdr(revoked.Name), claims("sub", revoked.Name)),
		"sub is not kid":   jvSign(t, key, hdr(sb.key.Name), claims("sub", revoked.Name)),
		"wrong issuer":     jvSign(t, key, hdr(sb.key.Name), claims("iss", "someone")),
		"garbage":          "not.a.jwt",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if code := getWithToken(t, sb.url+path, tok); code != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, want 401", code)
			}
		})
	}
	valid := jvSign(t, key, hdr(sb.key.Name), claims())
	if code := getWithToken(t, sb.url+path, valid); code != http.StatusOK {
		t.Fatalf("valid token: HTTP %d", code)
	}
	// Each token is good for one request: a token copied off the wire is useless.
	if code := getWithToken(t, sb.url+path, valid); code != http.StatusUnauthorized {
		t.Fatalf("replayed token: HTTP %d", code)
	}
	if code := getWithToken(t, sb.url+path, ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: HTTP %d", code)
	}
}

// mustKey generates a key pair outside the sandbox's registry by asking a
// second, unrelated sandbox for one.
func mustKey(t *testing.T, _ *testSandbox) waasapi.APIKey {
	t.Helper()
	other, err := New(Config{Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	k, err := other.CreateAPIKey("elsewhere", waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func getWithToken(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReplayAfterRestartRefused: with --state, a token used before a
// restart is still refused after it, whether the sandbox was stopped
// cleanly (Close) or killed after its save loop had run.
func TestReplayAfterRestartRefused(t *testing.T) {
	for _, stop := range []string{"close", "kill after a save", "kill before the save loop ran"} {
		t.Run(stop, func(t *testing.T) {
			cfg := Config{Seed: 1, StatePath: filepath.Join(t.TempDir(), "sandbox.state"), Shape: EstateShape{Pools: 1}}
			first, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = first.Close() })
			created, err := first.CreateAPIKey(first.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			key, _ := credentials.ParsePrivateKey(created.PrivateKey)
			// The same host for both runs: the token is bound to it.
			const host, path = "127.0.0.1:8088", "/waas/pools/v1/pools"
			now := time.Now().Unix()
			token := jvSign(t, key, map[string]any{"kid": created.Name, "typ": "JWT", "nonce": "n-1"},
				map[string]any{"iss": "coinbase-cloud", "sub": created.Name, "aud": []string{"waas_pool_service"}, "nbf": now, "exp": now + 60, "uri": "GET " + host + path})
			get := func(srv *Server) int {
				req := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				return rec.Code
			}
			if err := first.Save(); err != nil { // nothing left to save
				t.Fatal(err)
			}
			if code := get(first); code != http.StatusOK {
				t.Fatalf("first use: HTTP %d", code)
			}
			if !first.dirty.Load() {
				t.Fatal("a used nonce did not ask the save loop for a save")
			}
			switch stop {
			case "close":
				if err := first.Close(); err != nil {
					t.Fatal(err)
				}
			case "kill after a save":
				if err := first.Save(); err != nil { // what the save loop does; then no Close
					t.Fatal(err)
				}
			default:
				// kill -9 within a second of the use: the nonce never reached the file.
			}
			second, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			if code := get(second); code != http.StatusUnauthorized {
				t.Fatalf("replay after restart: HTTP %d, want 401", code)
			}
			// A token made now, after the restart, is this run's and works.
			now = time.Now().Unix()
			token = jvSign(t, key, map[string]any{"kid": created.Name, "typ": "JWT", "nonce": "n-2"},
				map[string]any{"iss": "coinbase-cloud", "sub": created.Name, "aud": []string{"waas_pool_service"}, "nbf": now, "exp": now + 60, "uri": "GET " + host + path})
			if code := get(second); code != http.StatusOK {
				t.Fatalf("a fresh token after the restart: HTTP %d, want 200", code)
			}
		})
	}
}
