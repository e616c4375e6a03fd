// Package clitest helps command tests: a factory on test streams whose API
// client talks to an in-process sandbox.
package clitest

import (
	"net/http/httptest"
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

// Env is a test factory and what it writes.
type Env struct {
	Factory        *cmdutil.Factory
	Stdout, Stderr interface{ String() string }
	Sandbox        *sandbox.Server
}

// New starts a sandbox with cfg and returns a factory whose API client uses
// its bootstrap key. Output goes to buffers; stdout is not a terminal.
func New(t *testing.T, cfg sandbox.Config) *Env {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Config:    func() (*config.Config, error) { return &config.Config{}, nil },
		Profile:   "default",
	}
	f.APIClient = func() (*waas.Client, error) {
		k, err := credentials.ParsePrivateKey(key.PrivateKey)
		if err != nil {
			return nil, err
		}
		signer, err := waas.NewSigner(key.Name, k, waas.FormWaaS)
		if err != nil {
			return nil, err
		}
		return waas.New(waas.Options{Endpoint: ts.URL, Signer: signer, Concurrency: 4, PageSize: 3, Backoff: time.Millisecond})
	}
	return &Env{Factory: f, Stdout: stdout, Stderr: stderr, Sandbox: srv}
}
