// Package process is what waasctl does about processes: its own (no core
// dumps of a memory that holds keys) and the ones it starts for the user
// (sinks, restart commands, the exec issuer, auth exec's program), which get
// an environment with nothing in it that opens a key, and run in a session of
// their own (a new process group, no controlling terminal) so that ending
// them ends everything they started, and a prompt fails instead of hanging.
package process

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// secretVariables are the environment variables, or prefixes of them (a
// trailing _), that hold a key, a passphrase or what opens one: the file
// keyring's passphrase and folder, waasctl's and the official client's key
// variables, the CDP SDKs' key variables, team mode's identity and
// database DSN, and libpq's PGPASSWORD (which the docs offer for the team
// store's and the ledger's password). A child that needs a key is handed the
// one its protocol says, explicitly.
//
// libpq's variables that name a file (PGPASSFILE, PGSSLKEY, PGSERVICEFILE)
// are kept: a child runs as the same user and can read those files anyway,
// so dropping their names protects nothing and would break a child's own
// psql.
var secretVariables = []string{
	"WAASCTL_KEYRING_",
	"WAASCTL_API_KEY_",
	"COINBASE_CLOUD_API_KEY_",
	"CDP_API_KEY_",
	"WAASCTL_AGE_IDENTITY",
	"WAASCTL_STATE_DSN",
	"PGPASSWORD",
}

// IsSecretVariable reports whether the environment variable name is one
// that a child never inherits.
func IsSecretVariable(name string) bool {
	for _, s := range secretVariables {
		if name == s || strings.HasSuffix(s, "_") && strings.HasPrefix(name, s) {
			return true
		}
	}
	return false
}

// Environ returns environ (KEY=VALUE entries) without the secret variables:
// the environment every child of waasctl starts from.
func Environ(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return IsSecretVariable(name)
	})
}

// StopGrace is how long a child's process group has between SIGTERM and
// SIGKILL once the command that started it is cancelled.
var StopGrace = 5 * time.Second

// Command prepares argv to run with Environ(os.Environ()) plus extraEnv, in
// a session of its own (see ownGroup). When ctx ends, the whole group gets SIGTERM,
// and whatever is left of it SIGKILL after StopGrace. Run it with Run.
func Command(ctx context.Context, argv []string, extraEnv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(Environ(os.Environ()), extraEnv...)
	cmd.WaitDelay = StopGrace
	ownGroup(cmd)
	return cmd
}

// Run runs cmd (from Command) and, if ctx ended while it ran, kills what is
// left of its process group: a grandchild that ignored SIGTERM or outlived
// its parent does not survive waasctl's interruption.
func Run(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		killGroup(cmd)
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// ErrOutputTooLarge is Output's error for a child that printed more than
// its cap.
var ErrOutputTooLarge = errors.New("printed more than its answer may be")

// Output runs cmd (from Command, with Stdout unset) and returns what it
// printed on stdout, at most max bytes: a child that prints more is ended
// (its whole group) and Output returns ErrOutputTooLarge, so that a plugin
// running `cat /dev/zero` cannot fill waasctl's memory.
func Output(ctx context.Context, cmd *exec.Cmd, max int) ([]byte, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(stdout, int64(max)+1))
	tooLarge := len(out) > max
	if tooLarge {
		killGroup(cmd)
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		killGroup(cmd)
		if err == nil {
			err = ctx.Err()
		}
	}
	switch {
	case tooLarge:
		return nil, ErrOutputTooLarge
	case err == nil && rerr != nil:
		err = rerr
	}
	return out, err
}

// ErrNotSupported is returned by Harden where the platform has no way to
// turn core dumps off.
var ErrNotSupported = errors.New("not supported on this platform")
