package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// outputContract lists the commands that do not print data in every -o format: nil for those
// that print none (their progress and results go to stderr), else the formats they do print.
// -o with any other format is a usage error (exit 2), found before the command does anything:
// a format silently ignored would hand a script text where it asked for JSON. Commands not
// listed print every format.
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
	"waasctl help exit-codes":        nil,
	"waasctl completion bash":        nil,
	"waasctl completion zsh":         nil,
	"waasctl completion fish":        nil,
	"waasctl completion powershell":  nil,
}

// checkOutputFlag refuses an -o that cmd would ignore.
func checkOutputFlag(cmd *cobra.Command, f *cmdutil.Factory) error {
	flag := cmd.Flags().Lookup("output")
	if flag == nil || !flag.Changed {
		return nil
	}
	formats, listed := outputContract[cmd.CommandPath()]
	switch {
	case !listed, slices.Contains(formats, f.Output):
		return nil
	case formats == nil:
		return cmdutil.FlagErrorf("%s prints no data, so -o %s would be ignored: drop -o", cmd.CommandPath(), f.Output)
	}
	names := make([]string, len(formats))
	for i, o := range formats {
		names[i] = string(o)
	}
	return cmdutil.FlagErrorf("%s prints %s, not %s: use one of those with -o", cmd.CommandPath(), strings.Join(names, ", "), f.Output)
}
