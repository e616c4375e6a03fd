package configcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"gopkg.in/yaml.v3"
)

// UnsetOptions is what `config unset` needs.
type UnsetOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
	Key        config.KeyPath
}

// NewCmdUnset returns `config unset`.
func NewCmdUnset(f *cmdutil.Factory, runF func(context.Context, *UnsetOptions) error) *cobra.Command {
	opts := &UnsetOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile}
	return &cobra.Command{
		Use:   "unset KEY",
		Short: "Remove one setting, a list item or a whole section (a profile too)",
		Long: `Remove one setting from the config file: a value, a list item (the items after it move up)
or a whole section. Removing a profile's settings does not touch its key in the keyring.
Removing what is not set is not an error.`,
		Example: `  waasctl config unset 'profiles.prod.sinks[1]'
  waasctl config unset profiles.prod.policy.grace`,
		Args: cmdutil.ExactArgs(1, "name the setting to remove, e.g. profiles.prod.policy.grace"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Key, err = config.ParseKeyPath(args[0]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return unsetRun(cmd.Context(), opts)
		},
		ValidArgsFunction: completeKeys(f),
	}
}

func unsetRun(_ context.Context, opts *UnsetOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	removed := false
	err = config.EditFile(path, func(doc *yaml.Node) (err error) {
		removed, err = config.Unset(doc, opts.Key)
		if !removed {
			return errNothingToDo
		}
		return err
	})
	if err == errNothingToDo {
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "%s was not set; nothing changed.\n", opts.Key)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Removed %s from %s.\n", opts.Key, path)
	}
	return nil
}

type nothingToDo struct{}

func (nothingToDo) Error() string { return "nothing to do" }

// errNothingToDo stops EditFile from writing a file that did not change.
var errNothingToDo error = nothingToDo{}
