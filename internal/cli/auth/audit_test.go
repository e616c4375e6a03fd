package auth

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// keyFile writes a fresh key of a sandbox as the portal's download and returns its path.
func keyFile(t *testing.T) (string, waasapi.APIKey) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	k, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{"name": k.Name, "privateKey": k.PrivateKey})
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, k
}

func auditEntries(t *testing.T, dir string) []auditlog.Entry {
	t.Helper()
	var out []auditlog.Entry
	for e, err := range auditlog.Read(dir) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// auth add and auth remove change what a profile authenticates with: both used to leave no
// trace in the audit log.
func TestAddAndRemoveAreAudited(t *testing.T) {
	auditDir := filepath.Join(t.TempDir(), "audit")
	stateDir := func() (string, error) { return filepath.Join(filepath.Dir(auditDir), "state"), nil }
	store := credentials.NewMemoryStore()
	ios, _, _, stderr := iostreams.Test()
	path, k := keyFile(t)
	verifyErr := errors.New("connection refused")
	add := &AddOptions{
		IO: ios, Keyring: func() (credentials.Store, error) { return store, nil },
		Config:   func() (*config.Config, error) { return &config.Config{}, nil },
		Verify:   func(context.Context, *credentials.APIKey, string) error { return verifyErr },
		AuditDir: func() (string, error) { return auditDir, nil },
		StateDir: stateDir,
		Profile:  "prod", KeyFile: path,
	}
	// A key that cannot be checked is not stored, and the log says so.
	if err := addRun(testctx.New(t), add); err == nil {
		t.Fatal("add with a failing check succeeded")
	}
	verifyErr = nil
	if err := addRun(testctx.New(t), add); err != nil {
		t.Fatal(err)
	}
	remove := &RemoveOptions{
		IO: ios, Keyring: func() (credentials.Store, error) { return store, nil },
		AuditDir: func() (string, error) { return auditDir, nil }, StateDir: stateDir, Profile: "prod", Yes: true,
	}
	if err := removeRun(testctx.New(t), remove); err != nil {
		t.Fatal(err)
	}
	// Removing a profile that has no keys fails, changes nothing and records nothing.
	if err := removeRun(testctx.New(t), remove); err == nil {
		t.Fatal("removing an empty profile succeeded")
	}

	es := auditEntries(t, auditDir)
	want := []struct{ command, outcome, detail string }{
		{"auth add", "failed", "could not check the key"},
		{"auth add", "ok", "verified"},
		{"auth remove", "ok", "deleted from the"},
	}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d: %+v\nstderr: %s", len(es), len(want), es, stderr)
	}
	key, _ := credentials.NewAPIKey(k.Name, k.PrivateKey, "test")
	for i, w := range want {
		e := es[i]
		if e.Command != w.command || e.Profile != "prod" || e.Outcome != w.outcome || !strings.Contains(e.Detail, w.detail) {
			t.Errorf("entry %d: %s %s %s %q, want %s prod %s %q", i+1, e.Command, e.Profile, e.Outcome, e.Detail, w.command, w.outcome, w.detail)
		}
		if len(e.Fingerprints) != 1 || e.Fingerprints[0] != key.Fingerprint || len(e.KeyNames) != 1 || e.KeyNames[0] != k.Name {
			t.Errorf("entry %d names %v %v, want the key", i+1, e.KeyNames, e.Fingerprints)
		}
	}
	if strings.Contains(stderr.String(), "audit log was not written") {
		t.Fatal(stderr.String())
	}
}
