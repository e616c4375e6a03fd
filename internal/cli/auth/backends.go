package auth

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
)

// BackendsOptions is what `auth backends` needs.
type BackendsOptions struct {
	IO     *iostreams.IOStreams
	Output func() cmdutil.OutputFormat
	// Probe opens a backend and lists its items, to see whether it works.
	Probe func(ctx context.Context, backend string) error
	// Backends lists the backends built in (nil: credentials.AvailableBackends, which depends on
	// the OS); tests fix it.
	Backends func() []string
}

// BackendStatus is one keyring backend and whether it works here.
type BackendStatus struct {
	Backend string `json:"backend"`
	Works   bool   `json:"works"`
	Detail  string `json:"detail,omitempty"`
}

// NewCmdBackends returns `auth backends`.
func NewCmdBackends(f *cmdutil.Factory, runF func(context.Context, *BackendsOptions) error) *cobra.Command {
	opts := &BackendsOptions{IO: f.IOStreams, Output: func() cmdutil.OutputFormat { return f.Output }, Probe: probeBackend}
	return &cobra.Command{
		Use:   "backends",
		Short: "List the keyring backends built in, and which of them work on this machine",
		Long: `List the keyring backends waasctl can use here and try each one (open it and list its
items, with a 5 s timeout). The file backend always works; it asks for a passphrase, or
reads WAASCTL_KEYRING_PASSPHRASE, only when a key is read or written.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return backendsRun(cmd.Context(), opts)
		},
	}
}

func backendsRun(ctx context.Context, opts *BackendsOptions) error {
	cols := []cmdutil.Column[BackendStatus]{
		{Header: "BACKEND", Value: func(b BackendStatus) string { return b.Backend }},
		{Header: "WORKS", Value: func(b BackendStatus) string {
			if b.Works {
				return "yes"
			}
			return "no"
		}},
		{Header: "DETAIL", Value: func(b BackendStatus) string { return b.Detail }},
	}
	p := cmdutil.NewListPrinter(opts.IO, opts.Output().Resolve(opts.IO), cols)
	backends := credentials.AvailableBackends
	if opts.Backends != nil {
		backends = opts.Backends
	}
	for _, b := range backends() {
		st := BackendStatus{Backend: b, Works: true}
		if err := opts.Probe(ctx, b); err != nil {
			st.Works, st.Detail = false, err.Error()
		}
		if err := p.Add(st); err != nil {
			return err
		}
	}
	return p.Close()
}

func probeBackend(ctx context.Context, backend string) error {
	if backend == "file" {
		return nil // it opens lazily and needs only a folder and a passphrase
	}
	store, err := credentials.OpenStore(credentials.StoreConfig{Backend: backend, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	_, err = store.Profiles(ctx)
	return err
}
