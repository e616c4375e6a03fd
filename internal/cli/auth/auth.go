// Package auth holds the `waasctl auth` commands: API keys in the OS keyring.
package auth

import (
	"context"
	"errors"
	"github.com/waasctl/waasctl/internal/team"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/rotation"
)

// NewCmdAuth returns the auth command group.
func NewCmdAuth(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <command>",
		Short: "Keep API keys in the OS keyring, and hand them to programs",
		Long: `Keep each profile's WaaS API key in the OS keyring instead of a file: add it from the
portal's download (then delete the download), see which keys are stored, check that a
key still authenticates, run a program with the key in its environment, remove it.

The private key is never printed: keys are named by their name and a fingerprint.
See docs/credentials.md for the backends and the CI setup.`,
	}
	cmd.AddCommand(NewCmdAdd(f, nil), NewCmdList(f, nil), NewCmdStatus(f, nil), NewCmdRemove(f, nil), NewCmdExec(f, nil), NewCmdBackends(f, nil))
	return cmd
}

// KeyView is a stored key as commands show it: everything but the secret.
type KeyView struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	Algorithm   string    `json:"algorithm,omitempty"`
	AddedAt     time.Time `json:"addedAt"`
	AddedBy     string    `json:"addedBy,omitempty"`
	Source      string    `json:"source,omitempty"`
}

func viewOf(k *credentials.StoredKey) *KeyView {
	if k == nil {
		return nil
	}
	return &KeyView{Name: k.Name, Fingerprint: k.Fingerprint, Algorithm: k.Algorithm, AddedAt: k.AddedAt, AddedBy: k.AddedBy, Source: k.Source}
}

// humanAge is cmdutil.Age, with "just now" for a key added a moment ago.
func humanAge(d time.Duration) string {
	if d < time.Minute {
		return "just now"
	}
	return cmdutil.Age(d)
}

// TeamStateFunc is the team store as profile's rotation state (lock, journal, audit table), or
// nil when the profile's state stays on this host.
type TeamStateFunc func(ctx context.Context, profile string) (*team.RotationState, error)

// teamStateOf is f's TeamStateFunc.
func teamStateOf(f *cmdutil.Factory) TeamStateFunc {
	return func(ctx context.Context, profile string) (*team.RotationState, error) {
		return cmdutil.TeamRotationState(ctx, f, profile, os.Getenv)
	}
}

// lockProfile takes the profile's lock, the one keys rotate and keys revoke take (in the team
// store in team mode, else in the state folder), and refuses while a rotation of the profile is
// in progress: the answer --resume and --abort give, from the same journal. A lock another
// command holds exits 6, naming it.
func lockProfile(ctx context.Context, stateDir func() (string, error), teamState TeamStateFunc, profile, command string) (rotation.HeldLock, error) {
	var st rotation.StateBackend
	ts, err := teamState.open(ctx, profile)
	if err != nil {
		return nil, err
	}
	if ts != nil {
		st = ts
	} else {
		dir, err := stateDir()
		if err != nil {
			return nil, err
		}
		st = &rotation.LocalState{Dir: dir}
	}
	lock, err := st.AcquireLock(ctx, profile, command)
	var locked *rotation.LockedError
	if errors.As(err, &locked) {
		return nil, cmdutil.NewExitError(cmdutil.ExitLocked, err)
	}
	if err != nil {
		return nil, err
	}
	j, err := rotation.InProgressIn(ctx, st, profile)
	if err == nil && j != nil {
		err = j.InProgressError()
	}
	if err != nil {
		lock.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	return lock, nil
}

// open calls t, if set.
func (t TeamStateFunc) open(ctx context.Context, profile string) (*team.RotationState, error) {
	if t == nil {
		return nil, nil
	}
	return t(ctx, profile)
}

// stillLocked fails (exit 6) once the profile's lock is no longer this process's: its team
// store session ended, and another host may hold it. Called before the keyring changes.
func stillLocked(ctx context.Context, lock rotation.HeldLock, profile string) error {
	if err := lock.Check(ctx); err != nil {
		if errors.Is(err, rotation.ErrLockLost) {
			return cmdutil.ExitErrorf(cmdutil.ExitLocked, "profile %s: this host lost the profile's lock (%v), so it changed nothing: another host may hold it now; run the command again", profile, err)
		}
		return err
	}
	return nil
}
