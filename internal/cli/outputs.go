package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// outputContract lists the commands that do not print data in every -o format: nil for those
// that print none (their progress and results go to stderr), else the formats they do print.
// -o, --jq, --template or --no-headers where they would be ignored is a usage error (exit 2),
// found before the command does anything: a format silently ignored would hand a script text
// where it asked for JSON. Commands not listed print every format, and --jq and --template work
// on their JSON (docs/output.md).
var outputContract = map[string][]cmdutil.OutputFormat{
	"waasctl version":                nil,
	"waasctl completion":             nil,
	"waasctl keys rotate":            nil,
	"waasctl keys revoke":            nil,
	"waasctl auth add":               nil,
	"waasctl auth remove":            nil,
	"waasctl auth exec":              nil,
	"waasctl sandbox serve":          nil,
	"waasctl sandbox demo":           nil,
	"waasctl team init":              nil,
	"waasctl team identity new":      nil,
	"waasctl team recipients add":    nil,
	"waasctl team recipients remove": nil,
	"waasctl config set":             nil,
	"waasctl config unset":           nil,
	"waasctl config path":            nil,
	"waasctl incident assess":        {cmdutil.OutputTable, cmdutil.OutputJSON, cmdutil.OutputJSONL, cmdutil.OutputYAML},
	"waasctl config get":             {cmdutil.OutputJSON, cmdutil.OutputYAML},
	"waasctl config view":            {cmdutil.OutputJSON, cmdutil.OutputYAML},
	"waasctl help exit-codes":        nil,
	"waasctl help":                   nil,
	"waasctl completion bash":        nil,
	"waasctl completion zsh":         nil,
	"waasctl completion fish":        nil,
	"waasctl completion powershell":  nil,
}

// printsData reports whether cmd prints data on stdout, and in which formats (nil: all of them).
func printsData(cmd *cobra.Command) (formats []cmdutil.OutputFormat, ok bool) {
	formats, listed := outputContract[cmd.CommandPath()]
	if !listed {
		// A command group only prints its help.
		return nil, cmd.Runnable() && !cmd.HasSubCommands()
	}
	return formats, formats != nil
}

// outputFlags are the flags that shape the data a command prints.
var outputFlags = []string{"output", "jq", "template", "no-headers"}

// checkOutputFlag refuses an -o, --jq, --template or --no-headers that cmd would ignore.
func checkOutputFlag(cmd *cobra.Command, f *cmdutil.Factory) error {
	var given []string
	for _, name := range outputFlags {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			given = append(given, name)
		}
	}
	if len(given) == 0 {
		return nil
	}
	formats, data := printsData(cmd)
	if !data {
		if slices.Contains(given, "output") {
			return cmdutil.FlagErrorf("%s prints no data, so -o %s would be ignored: drop -o", cmd.CommandPath(), f.Output)
		}
		return cmdutil.FlagErrorf("%s prints no data, so --%s would be ignored: drop it", cmd.CommandPath(), given[0])
	}
	if formats == nil {
		return nil
	}
	names := make([]string, len(formats))
	for i, o := range formats {
		names[i] = string(o)
	}
	if f.Output != cmdutil.OutputDefault && !slices.Contains(formats, f.Output) {
		return cmdutil.FlagErrorf("%s prints %s, not %s: use one of those with -o", cmd.CommandPath(), strings.Join(names, ", "), f.Output)
	}
	if slices.Contains(given, "no-headers") && !slices.ContainsFunc(formats, hasHeaders) {
		return cmdutil.FlagErrorf("%s prints no header row to drop (it prints %s): drop --no-headers", cmd.CommandPath(), strings.Join(names, ", "))
	}
	if (f.JQ != "" || f.Template != "") && !slices.Contains(formats, cmdutil.OutputJSON) {
		return cmdutil.FlagErrorf("%s prints no JSON for --jq or --template (it prints %s)", cmd.CommandPath(), strings.Join(names, ", "))
	}
	return nil
}

func hasHeaders(o cmdutil.OutputFormat) bool {
	return o == cmdutil.OutputTable || o == cmdutil.OutputTSV || o == cmdutil.OutputCSV
}

// dataHelp is appended to the long help of every command that prints data, so that each says
// how its output can be shaped without 30 copies of the same paragraph.
const dataHelp = `Output: -o table, tsv, json, jsonl, csv or yaml (default: a table on a terminal,
tab-separated without a header row when piped); tsv and csv name their columns by JSON field.
--jq EXPR filters the JSON with a jq expression, --template TMPL formats it with a Go
template; both imply -o json. --no-headers drops the header row. See docs/output.md.`

// noDataHelp is appended to the long help of a command that prints no data.
const noDataHelp = `Output: no data to format, so -o, --jq, --template and --no-headers are refused (exit 2).`

// applyOutputContract appends to every runnable command's long help what it does with -o, --jq
// and --template, from outputContract, so that help and behaviour cannot disagree; and checks the
// output flags before the command's arguments, so that `version -o json` and `auth exec -o json`
// (which also lacks its arguments) are refused for the same reason.
func applyOutputContract(cmd *cobra.Command, f *cmdutil.Factory) {
	for _, c := range cmd.Commands() {
		applyOutputContract(c, f)
	}
	if !cmd.Runnable() || isHelpTopic(cmd) || cmd.HasAvailableSubCommands() || cmd == cmd.Root() {
		return
	}
	// Only a command with an Args validator is wrapped, so that TestLeafCommandsValidateArgs
	// still finds one that has none.
	if validArgs := cmd.Args; validArgs != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := checkOutputFlag(c, f); err != nil {
				return err
			}
			return validArgs(c, args)
		}
	}
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	formats, data := printsData(cmd)
	switch {
	case !data:
		long += "\n\n" + noDataHelp
	case formats == nil:
		long += "\n\n" + dataHelp
	default:
		names := make([]string, len(formats))
		for i, o := range formats {
			names[i] = string(o)
		}
		s := "Output: -o " + strings.Join(names, ", ") + "."
		if slices.Contains(formats, cmdutil.OutputJSON) {
			s += "\n--jq EXPR filters the JSON with a jq expression, --template TMPL formats it with a Go\ntemplate; both imply -o json."
		}
		long += "\n\n" + s + " See docs/output.md."
	}
	cmd.Long = long
}
