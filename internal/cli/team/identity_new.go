package team

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/team"
)

// IdentityNewOptions is what `team identity new` needs.
type IdentityNewOptions struct {
	IO           *iostreams.IOStreams
	LocalKeyring func() (credentials.Store, error)
	Getenv       func(string) string
	// StateDir is this host's state folder, where the command's lock file lives.
	StateDir func() (string, error)
	Replace  bool
}

// identityLockTimeout bounds the wait for another 'team identity new' on this host (a keyring
// call may take up to its own 10 s timeout).
const identityLockTimeout = 30 * time.Second

// NewCmdIdentityNew returns `team identity new`.
func NewCmdIdentityNew(f *cmdutil.Factory, runF func(context.Context, *IdentityNewOptions) error) *cobra.Command {
	opts := &IdentityNewOptions{IO: f.IOStreams, LocalKeyring: f.LocalKeyring, Getenv: os.Getenv, StateDir: config.StateDir}
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Make this host's age identity and print its public key",
		Long: `Make an age X25519 identity for this host, keep its private half in this host's keyring
(the only secret a team host holds) and print its public key (age1...) on stdout. A team
member then adds it with 'waasctl team recipients add NAME age1...'. The private half is
never printed.

A CI job has no keyring: make its identity with age-keygen on a trusted machine, store it in
the CI's secret store as WAASCTL_AGE_IDENTITY, and add its public key as a recipient.

Refuses to replace an identity this host already has (what was encrypted to it could no
longer be read here) unless --replace.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return identityNewRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "Replace this host's existing identity")
	return cmd
}

func identityNewRun(ctx context.Context, opts *IdentityNewOptions) error {
	if opts.LocalKeyring == nil {
		return errors.New("no keyring to keep the identity in")
	}
	kr, err := opts.LocalKeyring()
	if err != nil {
		return err
	}
	ss, ok := kr.(credentials.SecretStore)
	if !ok {
		return fmt.Errorf("the %s keyring cannot hold an age identity", kr.Backend())
	}
	// One at a time on this host: three concurrent runs each made and printed an identity, and
	// only the last one was kept (the others' public keys, once sent to the team, unlocked
	// nothing here). The second waits, then finds the first's and says so.
	dir, err := opts.StateDir()
	if err != nil {
		return err
	}
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	unlock, err := fsutil.Lock(filepath.Join(dir, "team-identity.lock"), true, identityLockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	id, err := team.NewIdentity(ctx, ss, kr.Backend(), opts.Replace)
	if err != nil {
		return err
	}
	// A run sharing this keyring from another state folder is not held off by the lock: print
	// only what the keyring kept.
	kept, err := team.LoadIdentity(ctx, func(string) string { return "" }, ss, kr.Backend())
	if err != nil {
		return fmt.Errorf("reading back the identity just kept: %w", err)
	}
	if kept.Recipient() != id.Recipient() {
		return fmt.Errorf("%w (%s): another 'waasctl team identity new' kept its own at the same moment; use that one", team.ErrIdentityExists, kept.Recipient())
	}
	fmt.Fprintln(opts.IO.Out, id.Recipient())
	fmt.Fprintf(opts.IO.ErrOut, "Kept this host's age identity in the %s keyring. Have a team member add it:\n  waasctl team recipients add NAME %s\n", kr.Backend(), id.Recipient())
	if opts.Getenv != nil && opts.Getenv(team.IdentityEnv) != "" {
		fmt.Fprintf(opts.IO.ErrOut, "Note: %s is set, and wins over the keyring: unset it to use this identity.\n", team.IdentityEnv)
	}
	return nil
}
