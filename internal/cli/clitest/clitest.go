// Package clitest helps command tests: a factory on test streams whose API
// client talks to an in-process sandbox.
package clitest

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Env is a test factory and what it writes.
type Env struct {
	Factory        *cmdutil.Factory
	Stdout, Stderr interface{ String() string }
	Sandbox        *sandbox.Server
	URL            string         // the sandbox's base URL
	Key            waasapi.APIKey // the key the factory's client uses
}

// New starts a sandbox with cfg and returns a factory whose API client uses
// its bootstrap key. Output goes to buffers; stdout is not a terminal.
func New(t *testing.T, cfg sandbox.Config) *Env {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Config:    func() (*config.Config, error) { return &config.Config{}, nil },
		Profile:   "default",
	}
	client := sb.Client(t, waas.Options{Concurrency: 4, PageSize: 3})
	f.APIClient = func() (*waas.Client, error) { return client, nil }
	return &Env{Factory: f, Stdout: stdout, Stderr: stderr, Sandbox: sb.Server, URL: sb.URL, Key: sb.Key}
}
