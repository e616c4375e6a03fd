package clitest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// NewCmdFunc is the shape of a verb's constructor: gh's NewCmdX(f, runF).
type NewCmdFunc[O any] func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command

// AsSubcommand wraps newCmd so that the command it builds has what the root command gives every
// subcommand and a flags test needs: a --profile flag bound to the factory's Profile (so that
// cmdutil.ResolveProfile sees an explicit --profile as the real binary does), and bad flag
// values as usage errors (exit 2), as the root's flag error function makes them.
func AsSubcommand[O any](newCmd NewCmdFunc[O]) NewCmdFunc[O] {
	return func(f *cmdutil.Factory, runF func(context.Context, *O) error) *cobra.Command {
		cmd := newCmd(f, runF)
		cmd.Flags().StringVar(&f.Profile, "profile", cmdutil.DefaultProfile, "")
		cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.FlagErrorWrap(err) })
		return cmd
	}
}

// WantUsageError fails the test unless err is a usage error (exit 2: a *cmdutil.FlagError, or an
// ExitError with that code) whose message holds want: the part that tells the user what to do.
func WantUsageError(t *testing.T, args []string, err error, want string) {
	t.Helper()
	var fe *cmdutil.FlagError
	var ee *cmdutil.ExitError
	usage := errors.As(err, &fe) || (errors.As(err, &ee) && ee.Code == cmdutil.ExitUsage)
	switch {
	case err == nil:
		t.Errorf("%q: accepted, want the usage error %q", args, want)
	case !usage:
		t.Errorf("%q: error %q (%T) is not a usage error (exit 2)", args, err, err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%q: usage error %q, want it to say %q", args, err, want)
	}
}
