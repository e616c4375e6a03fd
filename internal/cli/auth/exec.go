package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/process"
)

// execMarker is set in the child's environment; a nested `auth exec`
// refuses to run, as aws-vault's does, so a key never silently replaces
// another in a sub-shell.
const execMarker = "WAASCTL_AUTH_EXEC"

// ExecOptions is what `auth exec` needs.
type ExecOptions struct {
	IO      *iostreams.IOStreams
	Keyring func() (credentials.Store, error)
	Environ func() []string
	// Replace runs the program in place of waasctl (unix); tests swap it.
	Replace func(path string, argv, env []string) error
	Profile string
	Command []string
}

// NewCmdExec returns `auth exec`.
func NewCmdExec(f *cmdutil.Factory, runF func(context.Context, *ExecOptions) error) *cobra.Command {
	opts := &ExecOptions{IO: f.IOStreams, Keyring: f.Keyring, Environ: os.Environ, Replace: replaceProcess}
	return &cobra.Command{
		Use:   "exec [PROFILE] -- COMMAND [ARGS...]",
		Short: "Run a command with the profile's key in its environment",
		Long: `Run COMMAND with the profile's current key in COINBASE_CLOUD_API_KEY_NAME and
COINBASE_CLOUD_API_KEY_PRIVATE_KEY, the variables the official client and the reference
proxy read once at start: the key is loaded into the process's environment and written
nowhere. WAASCTL_API_KEY_* and WAASCTL_KEYRING_* (the file keyring's passphrase among
them) are removed from the child's environment, and WAASCTL_AUTH_EXEC names the profile.

On Linux and macOS waasctl replaces itself with COMMAND, so signals and the exit code are
COMMAND's own. Running auth exec inside an auth exec is refused.`,
		Example: `  waasctl auth exec prod -- ./waas-proxy-server
  waasctl auth exec sandbox -- go run ./cmd/my-middle-tier`,
		Args: cmdutil.MinimumArgs(1, "auth exec needs a command: auth exec PROFILE -- COMMAND"),
		RunE: func(cmd *cobra.Command, args []string) error {
			// PROFILE before --, or none and the profile from --profile or WAASCTL_PROFILE.
			dash := cmd.ArgsLenAtDash()
			if dash != 0 && dash != 1 {
				return cmdutil.FlagErrorf("put -- between the profile and the command: auth exec PROFILE -- COMMAND")
			}
			var err error
			if opts.Profile, err = cmdutil.ResolveProfile(cmd, f, args[:dash]); err != nil {
				return err
			}
			opts.Command = args[dash:]
			if len(opts.Command) == 0 {
				return cmdutil.FlagErrorf("auth exec needs a command after --: auth exec PROFILE -- COMMAND")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return execRun(cmd.Context(), opts)
		},
	}
}

func execRun(ctx context.Context, opts *ExecOptions) error {
	env := opts.Environ()
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, execMarker+"="); ok && v != "" {
			return fmt.Errorf("already inside 'waasctl auth exec %s': nesting is refused; exit that shell first", v)
		}
	}
	store, err := opts.Keyring()
	if err != nil {
		return err
	}
	item, err := store.Get(ctx, opts.Profile)
	if errors.Is(err, credentials.ErrNotFound) || (err == nil && item.Current == nil) {
		return fmt.Errorf("profile %q has no key: add one with 'waasctl auth add %s --key-file FILE'", opts.Profile, opts.Profile)
	}
	if err != nil {
		return err
	}
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return fmt.Errorf("%s: command not found", opts.Command[0])
	}
	// The child gets this profile's key and nothing that opens others: the
	// same environment as every child of waasctl (no key variables, no
	// keyring settings, its passphrase above all), plus this key.
	env = process.Environ(env)
	env = append(env,
		credentials.EnvOfficialName+"="+item.Current.Name,
		credentials.EnvOfficialPrivateKey+"="+item.Current.PrivateKey,
		execMarker+"="+opts.Profile,
	)
	return opts.Replace(path, opts.Command, env)
}

// replaceProcess execs path in place of waasctl where the OS can, so that
// no parent process holds the key and signals reach the program directly;
// elsewhere it runs it as a child, forwarding signals and the exit code.
func replaceProcess(path string, argv, env []string) error {
	if runtime.GOOS != "windows" {
		err := syscall.Exec(path, argv, env)
		return fmt.Errorf("running %s: %w", argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", argv[0], err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return cmdutil.SilentExit(ee.ExitCode())
	}
	return err
}
