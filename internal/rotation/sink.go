package rotation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/waasctl/waasctl/internal/process"
)

// A Sink is a place the new key is delivered to before it becomes current:
// the middle tier's .env file, a secret manager, a Kubernetes secret.
// Deliver is idempotent: a resumed rotation delivers again.
type Sink interface {
	// Describe names the sink for the journal and the operator; never
	// anything secret.
	Describe() string
	// Deliver puts the key into the sink.
	Deliver(ctx context.Context, d Delivery) error
	// Holds says which key the sink holds now, by fingerprint, if it can
	// tell (known is false for sinks that cannot be read back).
	Holds(ctx context.Context) (fingerprint string, known bool, err error)
	// Restart runs the sink's restart or health command, if it has one:
	// the reference proxy reads its key once at start.
	Restart(ctx context.Context) error
}

// restartConfigurer is a sink that can say whether it has a restart command, so that the
// operator is told a restart ran only when one did (a sink that cannot say is counted as one).
type restartConfigurer interface{ HasRestart() bool }

// Delivery is what a sink receives.
type Delivery struct {
	Profile     string `json:"profile"`
	Name        string `json:"name"`
	PrivateKey  string `json:"privateKey"`
	Fingerprint string `json:"fingerprint"`
}

// A Preflighter is a Sink that can tell, before a key is created, that delivering to it would
// be refused: the rotation stops at preflight instead of leaving a PENDING key behind.
type Preflighter interface {
	Preflight() error
}

// EnvfileSink writes the reference proxy's .env file.
type EnvfileSink struct {
	Path           string
	RestartCommand []string
	Stderr         io.Writer
	Options        EnvfileOptions // follow_symlinks, allow_other_owner
}

func (s *EnvfileSink) Describe() string { return "envfile " + s.Path }

// Preflight refuses a path that Deliver would refuse: a symlink or a file of another user that
// the sink's settings do not allow, or a file that does not exist in a folder that does not
// either (Deliver creates the file, never its folder).
func (s *EnvfileSink) Preflight() error {
	target, f, err := openEnvFile(s.Path, s.Options)
	if f != nil {
		f.Close()
	}
	if err != nil || f != nil {
		return err
	}
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("envfile %s: its folder %s does not exist; create it, or fix the sink's path", s.Path, dir)
	case err != nil:
		return fmt.Errorf("envfile %s: %w", s.Path, err)
	case !fi.IsDir():
		return fmt.Errorf("envfile %s: %s is not a folder; fix the sink's path", s.Path, dir)
	}
	return nil
}

func (s *EnvfileSink) Deliver(_ context.Context, d Delivery) error {
	if _, err := writeEnvKey(s.Path, d.Name, d.PrivateKey, s.Options); err != nil {
		if strings.HasPrefix(err.Error(), "envfile "+s.Path) {
			return err // it names the file already
		}
		return fmt.Errorf("envfile %s: %w", s.Path, err)
	}
	return nil
}

func (s *EnvfileSink) Holds(context.Context) (string, bool, error) {
	_, fp, err := readEnvKey(s.Path, s.Options)
	if errors.Is(err, os.ErrNotExist) {
		return "", true, nil
	}
	return fp, err == nil, err
}

func (s *EnvfileSink) Restart(ctx context.Context) error {
	return runHook(ctx, s.RestartCommand, s.Stderr, nil)
}

// HasRestart says whether Restart runs a command.
func (s *EnvfileSink) HasRestart() bool { return len(s.RestartCommand) > 0 }

// ExecSink runs a command that receives the Delivery as JSON on stdin,
// e.g. a small script around `vault kv put`, `kubectl create secret`,
// `aws secretsmanager put-secret-value` or `gh secret set`. A non-zero exit
// is a failed delivery.
type ExecSink struct {
	Command        []string
	RestartCommand []string
	Stderr         io.Writer
}

func (s *ExecSink) Describe() string {
	if len(s.Command) == 0 {
		return "exec"
	}
	return "exec " + s.Command[0]
}

func (s *ExecSink) Deliver(ctx context.Context, d Delivery) error {
	payload, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return runHook(ctx, s.Command, s.Stderr, payload)
}

func (s *ExecSink) Holds(context.Context) (string, bool, error) { return "", false, nil }

func (s *ExecSink) Restart(ctx context.Context) error {
	return runHook(ctx, s.RestartCommand, s.Stderr, nil)
}

// HasRestart says whether Restart runs a command.
func (s *ExecSink) HasRestart() bool { return len(s.RestartCommand) > 0 }

// runHook runs argv with stdin (if any) and its output going to stderr, so
// that nothing a hook prints can mix with waasctl's own stdout. The secret,
// when there is one, travels on stdin only, never in argv or environment;
// the hook's environment has no keyring passphrase or key variables, and
// the hook and all it started are ended when ctx is.
func runHook(ctx context.Context, argv []string, stderr io.Writer, stdin []byte) error {
	if len(argv) == 0 {
		return nil
	}
	cmd := process.Command(ctx, argv)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := process.Run(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			// Stopped by waasctl's interruption, not the hook's failure.
			return fmt.Errorf("command %q stopped: %w", strings.Join(argv, " "), ctx.Err())
		}
		return fmt.Errorf("command %q: %v", strings.Join(argv, " "), err)
	}
	return nil
}
