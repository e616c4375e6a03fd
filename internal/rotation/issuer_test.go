package rotation

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

func TestSandboxIssuer(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 1}})
	iss := &SandboxIssuer{Client: sb.Client(t, waas.Options{})}
	ctx := testctx.New(t)

	nk, err := iss.Create(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nk.Secret, "-----BEGIN EC PRIVATE KEY-----") || nk.Key.Fingerprint == "" {
		t.Fatalf("new key %v", nk.Key)
	}
	newClient := sandboxtest.ClientFor(t, sb.URL, waasapi.APIKey{Name: nk.Key.Name, PrivateKey: nk.Secret}, waas.Options{})
	if _, err := newClient.ListPools(ctx, waas.PageRequest{}); err != nil {
		t.Fatalf("the new key does not authenticate: %v", err)
	}
	// A repeated request (its answer lost) creates nothing, and says so.
	if _, err := iss.Create(ctx, "req-1"); !errors.Is(err, ErrCreatedButLost) {
		t.Fatalf("repeat: %v", err)
	}
	name, found, err := iss.Find(ctx, "req-1")
	if err != nil || !found || name != nk.Key.Name {
		t.Fatalf("find: %q %v %v", name, found, err)
	}
	if _, found, _ := iss.Find(ctx, "req-never"); found {
		t.Fatal("found a key no request made")
	}
	if err := iss.Revoke(ctx, nk.Key.Name); err != nil {
		t.Fatal(err)
	}
	if err := iss.Revoke(ctx, nk.Key.Name); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if _, err := newClient.ListPools(ctx, waas.PageRequest{}); waas.HTTPCode(err) != 401 {
		t.Fatalf("revoked key: %v", err)
	}
}

// plugin writes an exec issuer plugin that serves keyFile on create,
// remembers revocations in revoked.txt, and finds by request ID.
func plugin(t *testing.T, dir, keyFile string) []string {
	t.Helper()
	script := filepath.Join(dir, "issuer.sh")
	body := `#!/bin/sh
case "$1" in
create) echo "$WAASCTL_REQUEST_ID" > "` + dir + `/request.txt"; cat "` + keyFile + `" ;;
find) if [ "$(cat "` + dir + `/request.txt" 2>/dev/null)" = "$2" ]; then printf '{"name":"%s"}\n' organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/eaa97cc6-c220-4937-871a-51d1271749ba; fi ;;
revoke) echo "$2" >> "` + dir + `/revoked.txt" ;;
*) exit 3 ;;
esac
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{"sh", script}
}

func TestExecIssuer(t *testing.T) {
	dir := t.TempDir()
	k, _ := credentials.ParseKeyInput(mustKeyJSON(t, "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/eaa97cc6-c220-4937-871a-51d1271749ba"), "test")
	secret, _ := k.SecretText()
	keyFile := filepath.Join(dir, "key.json")
	data, _ := json.Marshal(map[string]string{"name": k.Name, "privateKey": secret})
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	iss := &ExecIssuer{Command: plugin(t, dir, keyFile), Stderr: &stderr}
	ctx := testctx.New(t)
	nk, err := iss.Create(ctx, "req-9")
	if err != nil || nk.Key.Fingerprint != k.Fingerprint {
		t.Fatalf("create: %v %v", nk, err)
	}
	if name, found, err := iss.Find(ctx, "req-9"); err != nil || !found || name != k.Name {
		t.Fatalf("find: %q %v %v", name, found, err)
	}
	if _, found, err := iss.Find(ctx, "req-other"); err != nil || found {
		t.Fatalf("find other: %v %v", found, err)
	}
	if err := iss.Revoke(ctx, k.Name); err != nil {
		t.Fatal(err)
	}
	revoked, _ := os.ReadFile(filepath.Join(dir, "revoked.txt"))
	if strings.TrimSpace(string(revoked)) != k.Name {
		t.Fatalf("revoked %q", revoked)
	}
	// A plugin that fails, or prints something else, is an error that
	// never quotes its output.
	bad := &ExecIssuer{Command: []string{"sh", "-c", `echo '{"name":"9b3f1c2e-5d4a-4e6f-8a7b-0c1d2e3f4a5b","privateKey":"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"}'`}}
	if _, err := bad.Create(ctx, "r"); err == nil || strings.Contains(err.Error(), "AAAA") {
		t.Fatalf("bad plugin: %v", err)
	}
	failing := &ExecIssuer{Command: []string{"sh", "-c", "exit 7"}, Stderr: &stderr}
	if err := failing.Revoke(ctx, "x"); err == nil || !strings.Contains(err.Error(), "exited 7") {
		t.Fatalf("failing plugin: %v", err)
	}
}

func TestManualIssuerWaitsForTheDeletion(t *testing.T) {
	calls := 0
	var said []string
	m := &ManualIssuer{
		Instruct: func(msg string) { said = append(said, msg) },
		Obtain: func(context.Context) ([]byte, string, error) {
			return mustKeyJSON(t, "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/1597716d-c4fe-456b-8e6b-e4e1dd688843"), "file new.json", nil
		},
		Rejected: func(context.Context, string) (bool, error) {
			calls++
			return calls >= 3, nil // deleted on the third look
		},
		PollEvery: time.Millisecond, Timeout: 10 * time.Second,
	}
	ctx := testctx.New(t)
	nk, err := m.Create(ctx, "")
	if err != nil || nk.Key.Name != "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/1597716d-c4fe-456b-8e6b-e4e1dd688843" {
		t.Fatalf("%v %v", nk, err)
	}
	if err := m.Revoke(ctx, "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/c56a41d7-f37d-4e0f-83ce-6e3247941afe"); err != nil || calls != 3 {
		t.Fatalf("revoke: %v after %d looks", err, calls)
	}
	if len(said) != 2 || !strings.Contains(said[1], "Delete the API key organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/c56a41d7-f37d-4e0f-83ce-6e3247941afe") {
		t.Fatalf("instructions %q", said)
	}
	m.Rejected = func(context.Context, string) (bool, error) { return false, nil }
	m.Timeout = 20 * time.Millisecond
	if err := m.Revoke(ctx, "k"); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "still authenticates") {
		t.Fatalf("a key never deleted: %v", err)
	}
}

func TestExecSinkGetsTheKeyOnStdinOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "delivered.json")
	argvFile := filepath.Join(dir, "argv.txt")
	s := &ExecSink{Command: []string{"sh", "-c", `echo "$0 $@" > ` + argvFile + `; cat > ` + out, "sink"}, Stderr: &bytes.Buffer{}}
	d := Delivery{Profile: "p", Name: "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022", PrivateKey: "-----BEGIN EC PRIVATE KEY-----\nSECRETLINE\n-----END EC PRIVATE KEY-----\n", Fingerprint: "SHA256:x"}
	if err := s.Deliver(testctx.New(t), d); err != nil {
		t.Fatal(err)
	}
	var got Delivery
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &got); err != nil || got != d {
		t.Fatalf("delivered %s: %v", data, err)
	}
	argv, _ := os.ReadFile(argvFile)
	if strings.Contains(string(argv), "SECRETLINE") {
		t.Fatalf("the key reached argv: %s", argv)
	}
	if _, known, _ := s.Holds(testctx.New(t)); known {
		t.Fatal("an exec sink cannot be read back")
	}
	fail := &ExecSink{Command: []string{"sh", "-c", "exit 2"}, Stderr: &bytes.Buffer{}}
	if err := fail.Deliver(testctx.New(t), d); err == nil || strings.Contains(err.Error(), "SECRETLINE") {
		t.Fatalf("failed delivery: %v", err)
	}
}

func mustKeyJSON(t *testing.T, name string) []byte {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	k, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`{"name":%q,"privateKey":%q}`, name, k.PrivateKey))
}

func TestEnvfileSinkDeliversIdempotently(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("HTTP_ADDRESS=0.0.0.0:8091\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, _ := credentials.ParseKeyInput(mustKeyJSON(t, "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022"), "test")
	secret, _ := k.SecretText()
	s := &EnvfileSink{Path: path}
	if fp, known, err := s.Holds(testctx.New(t)); err == nil && known && fp == k.Fingerprint {
		t.Fatal("holds the key before delivery")
	}
	for range 2 {
		if err := s.Deliver(testctx.New(t), Delivery{Name: k.Name, PrivateKey: secret, Fingerprint: k.Fingerprint}); err != nil {
			t.Fatal(err)
		}
	}
	fp, known, err := s.Holds(testctx.New(t))
	if err != nil || !known || fp != k.Fingerprint {
		t.Fatalf("holds %q %v %v", fp, known, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "HTTP_ADDRESS=0.0.0.0:8091\n") || strings.Count(string(data), credentials.EnvOfficialName+"=") != 1 {
		t.Fatalf(".env after two deliveries:\n%s", data)
	}
}

// The plugin gets the user's environment, never the
// keyring's passphrase or key variables.
func TestExecIssuerPluginGetsNoSecretVariables(t *testing.T) {
	t.Setenv("WAASCTL_KEYRING_PASSPHRASE", "canary-passphrase")
	t.Setenv("WAASCTL_API_KEY_PRIVATE_KEY", "canary-key")
	t.Setenv("PORTAL_TOKEN", "the plugin's own")
	envFile := filepath.Join(t.TempDir(), "env")
	iss := &ExecIssuer{Command: []string{"sh", "-c", `env > "$0"`, envFile}}
	if _, _, err := iss.Find(t.Context(), "token-1"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := string(data)
	if strings.Contains(env, "canary") {
		t.Errorf("the plugin's environment holds a secret:\n%s", env)
	}
	if !strings.Contains(env, "PORTAL_TOKEN=the plugin's own\n") {
		t.Errorf("the plugin's environment lacks the user's own variables:\n%s", env)
	}
}

// TestSandboxIssuerRefusesHostileKeyNames: a key-admin API that answers a
// key name with an escape sequence or a forged line is refused, and the
// error shows the name quoted, inert.
func TestSandboxIssuerRefusesHostileKeyNames(t *testing.T) {
	pemKey := func() string {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s, err := credentials.EncodeSEC1PEM(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hostile := "organizations/o/apiKeys/k\x1b[2J\nrotation complete\u202e"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = json.NewEncoder(w).Encode(waasapi.APIKey{Name: hostile, PrivateKey: pemKey()})
			return
		}
		_ = json.NewEncoder(w).Encode(waasapi.ListAPIKeysResponse{APIKeys: []waasapi.APIKey{{Name: hostile, RequestID: "req-1"}}})
	}))
	defer srv.Close()
	c, err := sandboxtest.NewClient(srv.URL, waasapi.APIKey{Name: "organizations/o/apiKeys/me", PrivateKey: pemKey()}, waas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	iss := &SandboxIssuer{Client: c}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s accepted the name %q", what, hostile)
		}
		if !textsafe.Safe(err.Error()) || !strings.Contains(err.Error(), `\x1b[2J\nrotation complete\u202e`) {
			t.Fatalf("%s: %q", what, err)
		}
	}
	_, err = iss.Create(testctx.New(t), "req-1")
	check("Create", err)
	_, _, err = iss.Find(testctx.New(t), "req-1")
	check("Find", err)
}

// A plugin that prints without end is stopped at 64 KiB, not buffered until
// memory runs out.
func TestExecIssuerOutputIsCapped(t *testing.T) {
	iss := &ExecIssuer{Command: []string{"sh", "-c", "cat /dev/zero"}}
	_, err := iss.Create(t.Context(), "r-1")
	if err == nil || !strings.Contains(err.Error(), "printed more than 65536 bytes") {
		t.Fatalf("Create = %v, want the output cap", err)
	}
}
