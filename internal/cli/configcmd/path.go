package configcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
)

// PathOptions is what `config path` needs.
type PathOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
}

// NewCmdPath returns `config path`.
func NewCmdPath(f *cmdutil.Factory, runF func(context.Context, *PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile}
	return &cobra.Command{
		Use:   "path",
		Short: "Print where the config file is (WAASCTL_CONFIG, else the XDG config folder)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return pathRun(cmd.Context(), opts)
		},
	}
}

func pathRun(_ context.Context, opts *PathOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, path)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && opts.IO.IsStderrTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "(it does not exist yet; waasctl config set creates it)")
	}
	return nil
}
