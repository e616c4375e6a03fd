// Package auth holds the `waasctl auth` commands: API keys in the OS keyring.
package auth

import (
	"context"
	"errors"
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

// lockProfile takes the profile's lock, the one keys rotate and keys revoke take, and refuses
// while a rotation of the profile is in progress: the answer --resume and --abort give, from the
// same journal. A lock another command holds exits 6, naming it.
func lockProfile(_ context.Context, stateDir func() (string, error), profile, command string) (*rotation.Lock, error) {
	dir, err := stateDir()
	if err != nil {
		return nil, err
	}
	lock, err := rotation.AcquireLock(dir, profile, rotation.Holder{Command: command}, false)
	var locked *rotation.LockedError
	if errors.As(err, &locked) {
		return nil, cmdutil.NewExitError(cmdutil.ExitLocked, err)
	}
	if err != nil {
		return nil, err
	}
	j, err := rotation.InProgress(dir, profile)
	if err == nil && j != nil {
		err = j.InProgressError()
	}
	if err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}
