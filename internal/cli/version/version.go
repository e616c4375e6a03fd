// Package version implements `waasctl version`.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// VersionOptions is what `waasctl version` needs.
type VersionOptions struct {
	IO      *iostreams.IOStreams
	Version string
	Commit  string
	Date    string
}

// NewCmdVersion returns the version command. runF replaces the run function in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{
		IO:      f.IOStreams,
		Version: f.AppVersion,
		Commit:  f.AppCommit,
		Date:    f.AppDate,
	}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of waasctl",
		Long: `Print the version of waasctl, the commit it was built from and when it was built.

The same line is printed by 'waasctl --version'.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	_, err := fmt.Fprint(opts.IO.Out, Format(opts.Version, opts.Commit, opts.Date))
	return err
}

// Format returns the version line, newline included; the root command's --version uses it too.
func Format(version, commit, date string) string {
	return fmt.Sprintf("waasctl version %s (commit %s, built %s)\n", version, commit, date)
}
