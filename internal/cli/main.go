package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/build"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

// Main runs waasctl with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling so that a second Ctrl-C kills a
	// command that is slow to wind down.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, newFactory(), os.Args[1:])
}

// newFactory wires the real dependencies.
func newFactory() *cmdutil.Factory {
	info := build.Get()
	f := &cmdutil.Factory{
		IOStreams:  iostreams.System(),
		AppVersion: info.Version,
		AppCommit:  info.Commit,
		AppDate:    info.Date,
		Config:     sync.OnceValues(config.Load),
	}
	f.APIClient = func() (*waas.Client, error) { return newAPIClient(f, os.Getenv) }
	return f
}

// newAPIClient builds the WaaS client for the global flags and the profile.
func newAPIClient(f *cmdutil.Factory, getenv func(string) string) (*waas.Client, error) {
	if f.Concurrency < 1 {
		return nil, cmdutil.FlagErrorf("--concurrency must be at least 1")
	}
	if f.Rate < 0 {
		return nil, cmdutil.FlagErrorf("--rate must not be negative (0 means unlimited)")
	}
	if f.PageSize < 1 {
		return nil, cmdutil.FlagErrorf("--page-size must be at least 1")
	}
	endpoint := f.Endpoint
	if endpoint == "" && f.Config != nil {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		if p, ok := cfg.Profiles[f.Profile]; ok {
			endpoint = p.Endpoint
		}
	}
	key, err := credentials.Lookup(f.KeyFile, getenv)
	if err != nil {
		return nil, err
	}
	form := waas.FormWaaS
	if _, ok := key.Signer.(ed25519.PrivateKey); ok {
		form = waas.FormCDP // the legacy form has no EdDSA
	}
	signer, err := waas.NewSigner(key.Name, key.Signer, form)
	if err != nil {
		return nil, err
	}
	return waas.New(waas.Options{
		Endpoint:    endpoint,
		Signer:      signer,
		UserAgent:   "waasctl/" + f.AppVersion,
		Rate:        f.Rate,
		Concurrency: f.Concurrency,
		PageSize:    f.PageSize,
	})
}

// Run executes args against a new command tree and returns the exit code, having printed any
// error to f.IOStreams.ErrOut. A cancelled ctx means the user interrupted waasctl.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if cmd == nil {
		cmd = root
	}
	return exitCode(f.IOStreams.ErrOut, cmd, err, ctx.Err() != nil)
}

// exitCode prints err, if there is one to print, and returns the documented exit code for it.
// Errors from the domain packages that have their own code (auth rejected, lock held) are meant to
// arrive here wrapped in a *cmdutil.ExitError by the command that got them.
func exitCode(stderr io.Writer, cmd *cobra.Command, err error, interrupted bool) int {
	if err == nil {
		return cmdutil.ExitOK
	}
	var exitErr *cmdutil.ExitError
	var flagErr *cmdutil.FlagError
	switch {
	case errors.As(err, &exitErr):
		// Checked before the signal so that a command can report how it stopped: a rotation cut
		// short by Ctrl-C is resumable (5), which says more than 130.
		if exitErr.Err != nil && !errors.Is(exitErr.Err, cmdutil.SilentError) {
			printError(stderr, exitErr.Err)
		}
		return exitErr.Code
	case interrupted:
		// Whatever the command returned after the signal (usually context.Canceled, wrapped) is
		// a consequence of the interrupt, not news to the user who pressed Ctrl-C.
		fmt.Fprintln(stderr, "interrupted")
		return cmdutil.ExitInterrupted
	case errors.As(err, &flagErr):
		printError(stderr, flagErr)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return cmdutil.ExitUsage
	case errors.Is(err, cmdutil.SilentError):
		return cmdutil.ExitFailure
	default:
		printError(stderr, err)
		return cmdutil.ExitFailure
	}
}

func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "error: %s\n", strings.TrimRight(err.Error(), "\n"))
}
