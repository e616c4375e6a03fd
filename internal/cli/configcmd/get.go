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

// GetOptions is what `config get` needs.
type GetOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
	Key        config.KeyPath
	Output     func() cmdutil.OutputFormat
}

// NewCmdGet returns `config get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one setting (a section prints as YAML); exit 1 when it is not set",
		Long: `Print one setting of the config file: a value on one line, a list or a section as YAML.
A DSN's password is masked. Exit 1, with nothing on stdout, when the setting is not set.
-o json prints the setting as JSON, -o yaml as YAML (a value too).`,
		Example: `  waasctl config get profiles.prod.endpoint
  waasctl config get profiles.prod.sinks[0]
  waasctl config get profiles.prod`,
		Args: cmdutil.ExactArgs(1, "name the setting, e.g. profiles.prod.endpoint"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Key, err = config.ParseKeyPath(args[0]); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
		ValidArgsFunction: completeKeys(f),
	}
	return cmd
}

func getRun(ctx context.Context, opts *GetOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	doc, _, err := config.ReadDocument(ctx, path)
	if err != nil {
		return err
	}
	n := config.Lookup(doc, opts.Key)
	if n == nil {
		return cmdutil.ExitErrorf(cmdutil.ExitFailure, "%s is not set in %s", opts.Key, path)
	}
	m := masked(n)
	if n.Kind == yaml.ScalarNode {
		c := *n
		c.Value = maskedValue(opts.Key[len(opts.Key)-1].Key, n.Value)
		m = &c
	}
	if opts.Output != nil && opts.Output() == cmdutil.OutputJSON {
		return printJSON(opts.IO, m)
	}
	if n.Kind == yaml.ScalarNode && (opts.Output == nil || opts.Output() != cmdutil.OutputYAML) {
		fmt.Fprintln(opts.IO.Out, m.Value)
		return nil
	}
	m.Style &^= yaml.FlowStyle // a section reads best as a block, whatever the file's layout
	out, err := config.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}})
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(out)
	return err
}
