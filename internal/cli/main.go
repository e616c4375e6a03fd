package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/build"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/cli/prompter"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
)

// duplicateSignalWindow is how long after the first SIGINT or SIGTERM another one is taken for
// the same request (a signal sent to the process and to its group), not a second Ctrl-C.
const duplicateSignalWindow = time.Second

// Main runs waasctl with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling so that a second Ctrl-C kills a
	// command that is slow to wind down; but not at once: timeout(1) and some supervisors
	// signal both the process and its process group, so one request to stop arrives twice
	// within microseconds, and the second must not kill waasctl while it records how it stopped.
	go func() {
		<-ctx.Done()
		repeat := make(chan os.Signal, 8)
		signal.Notify(repeat, os.Interrupt, syscall.SIGTERM)
		stop()
		window := time.NewTimer(duplicateSignalWindow)
		defer window.Stop()
		for {
			select {
			case <-repeat:
			case <-window.C:
				signal.Stop(repeat)
				return
			}
		}
	}()
	return Run(ctx, newFactory(ctx), os.Args[1:])
}

// newFactory wires the real dependencies. ctx ends with the first Ctrl-C or SIGTERM, and with
// it any wait for a key file.
func newFactory(ctx context.Context) *cmdutil.Factory {
	info := build.Get()
	f := &cmdutil.Factory{
		IOStreams:  iostreams.System(),
		AppVersion: info.Version,
		AppCommit:  info.Commit,
		AppDate:    info.Date,
		Config:     sync.OnceValues(func() (*config.Config, error) { return config.LoadContext(ctx) }),
	}
	f.Prompter = prompter.New(f.IOStreams)
	f.LocalKeyring = sync.OnceValues(func() (credentials.Store, error) { return openKeyring(f, os.Getenv) })
	f.TeamStore = sync.OnceValues(func() (*team.Store, error) { return cmdutil.OpenTeamStore(ctx, f, os.Getenv) })
	f.AgeIdentity = sync.OnceValues(func() (*team.Identity, error) { return cmdutil.LoadAgeIdentity(ctx, f, os.Getenv) })
	f.Keyring = sync.OnceValues(func() (credentials.Store, error) {
		return cmdutil.OpenKeyStore(ctx, f, os.Getenv, f.LocalKeyring)
	})
	f.APIClient = func() (*waas.Client, error) { return newAPIClient(ctx, f, os.Getenv) }
	return f
}

// openKeyring opens the credential store the flags and environment ask for.
func openKeyring(f *cmdutil.Factory, getenv func(string) string) (credentials.Store, error) {
	cfg := credentials.StoreConfig{Backend: f.KeyringBackend, FileDir: getenv("WAASCTL_KEYRING_DIR"), Timeout: f.KeyringTimeout}
	if getenv("WAASCTL_KEYRING_PASSPHRASE") == "" {
		cfg.PassphraseSource = "the passphrase typed at the prompt"
	}
	cfg.Passphrase = func() (string, error) {
		if p := getenv("WAASCTL_KEYRING_PASSPHRASE"); p != "" {
			return p, nil
		}
		if !f.IOStreams.CanPrompt() {
			return "", errors.New("the file keyring needs a passphrase: set WAASCTL_KEYRING_PASSPHRASE (there is no terminal to ask on)")
		}
		return f.Prompter.Secret("Passphrase of the waasctl file keyring")
	}
	cfg.NewPassphrase = func() (string, error) {
		if p := getenv("WAASCTL_KEYRING_PASSPHRASE"); p != "" || !f.IOStreams.CanPrompt() {
			return cfg.Passphrase()
		}
		return newPassphrase(f.Prompter, f.IOStreams.ErrOut)
	}
	return credentials.OpenStore(cfg)
}

// newPassphrase asks for a new file keyring's passphrase twice: a typo there would lock every
// key stored under it away. Three mismatches give up.
func newPassphrase(p prompter.Prompter, stderr io.Writer) (string, error) {
	for range 3 {
		first, err := p.Secret("Passphrase for the new waasctl file keyring")
		if err != nil {
			return "", err
		}
		if first == "" {
			return "", errors.New("the file keyring's passphrase is empty")
		}
		again, err := p.Secret("The same passphrase again")
		if err != nil {
			return "", err
		}
		if again == first {
			return first, nil
		}
		fmt.Fprintln(stderr, "The two passphrases differ; try again.")
	}
	return "", errors.New("the passphrases typed did not match three times; nothing was stored")
}

// newAPIClient builds the WaaS client for the global flags and the profile.
func newAPIClient(ctx context.Context, f *cmdutil.Factory, getenv func(string) string) (*waas.Client, error) {
	if f.Concurrency < 1 {
		return nil, cmdutil.FlagErrorf("--concurrency must be at least 1")
	}
	if f.Concurrency > waas.MaxConcurrency {
		return nil, cmdutil.FlagErrorf("--concurrency must be at most %d", waas.MaxConcurrency)
	}
	if f.Rate < 0 {
		return nil, cmdutil.FlagErrorf("--rate must not be negative (0 means no ceiling)")
	}
	if math.IsNaN(f.Rate) || math.IsInf(f.Rate, 0) {
		return nil, cmdutil.FlagErrorf("--rate must be a number of requests per second, 0 for no ceiling")
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
	key, err := credentials.LookupContext(ctx, f.KeyFile, getenv)
	if errors.Is(err, credentials.ErrNoCredentials) {
		key, err = keyringKey(f)
	}
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		endpoint = waas.DefaultEndpoint
	}
	return cmdutil.ClientForKey(key, f.Profile, endpoint, f)
}

// keyringKey is the profile's CURRENT key from the keyring, the last place
// Lookup's order looks.
func keyringKey(f *cmdutil.Factory) (*credentials.APIKey, error) {
	store, err := f.Keyring()
	if err != nil {
		return nil, fmt.Errorf("%w; and the keyring cannot be opened: %v", credentials.ErrNoCredentials, err)
	}
	item, err := store.Get(context.Background(), f.Profile)
	if errors.Is(err, credentials.ErrNotFound) || (err == nil && item.Current == nil) {
		return nil, fmt.Errorf("%w, or add a key to profile %q with 'waasctl auth add %s'", credentials.ErrNoCredentials, f.Profile, f.Profile)
	}
	if err != nil {
		return nil, err
	}
	return credentials.NewAPIKey(item.Current.Name, item.Current.PrivateKey, "keyring "+store.Backend()+" (profile "+f.Profile+")")
}

// Run executes args against a new command tree and returns the exit code, having printed any
// error to f.IOStreams.ErrOut. A cancelled ctx means the user interrupted waasctl.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	err = f.FinishOutputFilter(err)
	f.FinishRun(context.WithoutCancel(ctx))
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
	case interrupted || cmdutil.IsUserCancellation(err):
		// Whatever the command returned after the signal (usually context.Canceled, wrapped) is
		// a consequence of the interrupt, not news to the user who pressed Ctrl-C. Ctrl-C at a
		// prompt (the terminal in raw mode: no signal) is the same interruption.
		fmt.Fprintln(stderr, "interrupted")
		return cmdutil.ExitInterrupted
	case errors.As(err, &flagErr):
		printError(stderr, flagErr)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return cmdutil.ExitUsage
	case errors.Is(err, cmdutil.SilentError):
		return cmdutil.ExitFailure
	case errors.Is(err, team.ErrLockWait):
		printError(stderr, err)
		return cmdutil.ExitLocked
	default:
		printError(stderr, err)
		return cmdutil.ExitFailure
	}
}

// printError prints err on one line. The message may quote what a server, a
// ledger database or a file said; textsafe keeps any control character or
// bidi override in it from reaching the terminal, whatever package forgot to.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "error: %s\n", textsafe.Line(strings.TrimRight(err.Error(), "\n")))
}
