package configcmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"gopkg.in/yaml.v3"
)

// ViewOptions is what `config view` needs.
type ViewOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
	Output     func() cmdutil.OutputFormat
}

// NewCmdView returns `config view`.
func NewCmdView(f *cmdutil.Factory, runF func(context.Context, *ViewOptions) error) *cobra.Command {
	opts := &ViewOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile, Output: func() cmdutil.OutputFormat { return f.Output }}
	return &cobra.Command{
		Use:   "view",
		Short: "Print the config file, comments kept, DSN passwords masked",
		Long: `Print the config file as it is, comments and all, with every DSN's password masked
(postgres://app:xxxxx@db/ledger) and any value that holds a private key replaced by its length.

-o yaml (the default) prints the file; -o json prints its settings as JSON.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Output() {
			case cmdutil.OutputDefault, cmdutil.OutputYAML, cmdutil.OutputJSON:
			default:
				return cmdutil.FlagErrorf("config view prints YAML or JSON: -o yaml or -o json, not -o %s", opts.Output())
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return viewRun(cmd.Context(), opts)
		},
	}
}

func viewRun(ctx context.Context, opts *ViewOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	doc, _, err := config.ReadDocument(ctx, path)
	if err != nil {
		return err
	}
	if doc.Kind == 0 {
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "%s does not exist yet; waasctl config set creates it\n", path)
		}
		if opts.Output() == cmdutil.OutputJSON {
			fmt.Fprintln(opts.IO.Out, "{}")
		}
		return nil
	}
	m := masked(doc)
	if opts.Output() == cmdutil.OutputJSON {
		return printJSON(opts.IO, m)
	}
	out, err := config.Encode(m)
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(out)
	return err
}

// printJSON prints a node tree's values (not its comments) as JSON.
func printJSON(io *iostreams.IOStreams, n *yaml.Node) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(io.Out, "%s\n", out)
	return err
}
