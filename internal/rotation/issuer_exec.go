package rotation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/process"
)

// ExecIssuer runs a plugin command that automates the portal (or whatever
// issues the organization's keys). The protocol, documented in
// docs/rotation.md:
//
//	CMD create        prints {"name": "...", "privateKey": "..."} on stdout;
//	                  WAASCTL_REQUEST_ID carries the request's token
//	CMD find TOKEN    prints {"name": "..."} if it made a key for TOKEN,
//	                  or nothing (exit 0) if it made none; optional: a
//	                  plugin without it exits 3 ("unsupported")
//	CMD revoke NAME   revokes NAME; revoking a revoked key succeeds
//
// A non-zero exit is a failure; the plugin's stderr is passed through to
// the operator. waasctl never passes a secret in argv, and reads the new
// secret only from the plugin's stdout.
type ExecIssuer struct {
	Command []string
	Stderr  io.Writer // the plugin's stderr; nil: os.Stderr
}

// execUnsupported is the exit code a plugin gives for a verb it lacks.
const execUnsupported = 3

func (e *ExecIssuer) Name() string { return "exec" }

func (e *ExecIssuer) run(ctx context.Context, env []string, args ...string) ([]byte, int, error) {
	if len(e.Command) == 0 {
		return nil, 0, errors.New("the exec issuer has no command: set issuer.command in the profile")
	}
	argv := append(slices.Clone(e.Command), args...)
	cmd := process.Command(ctx, argv, env...)
	cmd.Stderr = e.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	out, err := process.Output(ctx, cmd, maxPluginOutput)
	if err != nil && ctx.Err() != nil {
		return nil, 0, fmt.Errorf("issuer command %q %s stopped: %w", e.Command[0], args[0], ctx.Err())
	}
	if errors.Is(err, process.ErrOutputTooLarge) {
		return nil, 0, fmt.Errorf("issuer command %q %s printed more than %d bytes: its answer is one small JSON object", e.Command[0], args[0], maxPluginOutput)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out, ee.ExitCode(), fmt.Errorf("issuer command %q %s exited %d", e.Command[0], args[0], ee.ExitCode())
	}
	if err != nil {
		return nil, 0, fmt.Errorf("issuer command %q: %w", e.Command[0], err)
	}
	return out, 0, nil
}

func (e *ExecIssuer) Create(ctx context.Context, requestID string) (*NewKey, error) {
	out, _, err := e.run(ctx, []string{"WAASCTL_REQUEST_ID=" + requestID}, "create")
	if err != nil {
		return nil, err
	}
	var kf struct {
		Name       string `json:"name"`
		ID         string `json:"id"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &kf); err != nil {
		return nil, fmt.Errorf(`%w: issuer command %q create: its output is not {"name", "privateKey"} JSON`, ErrUnreadableAnswer, e.Command[0])
	}
	name := kf.Name
	if name == "" {
		name = kf.ID
	}
	k, err := newKeyFrom(name, kf.PrivateKey, "issuer exec")
	if err != nil {
		return nil, fmt.Errorf("issuer command %q create: %w", e.Command[0], err)
	}
	return k, nil
}

func (e *ExecIssuer) Find(ctx context.Context, requestID string) (string, bool, error) {
	out, code, err := e.run(ctx, nil, "find", requestID)
	if code == execUnsupported {
		return "", false, fmt.Errorf("%w: issuer command %q has no find (it exited %d); check the portal for a key made by request %s and revoke it", ErrFindUnsupported, e.Command[0], code, requestID)
	}
	if err != nil {
		return "", false, err
	}
	if strings.TrimSpace(string(out)) == "" {
		return "", false, nil
	}
	var found struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &found); err != nil || found.Name == "" {
		return "", false, fmt.Errorf(`issuer command %q find: its output is not {"name"} JSON`, e.Command[0])
	}
	if err := checkKeyName(found.Name); err != nil {
		return "", false, fmt.Errorf("issuer command %q find: %w", e.Command[0], err)
	}
	return found.Name, true, nil
}

func (e *ExecIssuer) Revoke(ctx context.Context, name string) error {
	_, _, err := e.run(ctx, nil, "revoke", name)
	return err
}

// maxPluginOutput caps what a plugin's answer may be: a key file is under
// 1 KiB. A plugin that prints more (cat /dev/zero) is ended, not buffered.
const maxPluginOutput = 64 << 10
