package cmdutil

import (
	"fmt"
	"strings"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// OutputFormat is the value of the global -o/--output flag. It implements pflag.Value so that a
// bad value fails during flag parsing, as a usage error, before any command runs.
type OutputFormat string

// The output formats. The zero value means the default: a table on a terminal, tab-separated
// values without a header row when piped.
const (
	OutputDefault OutputFormat = ""
	OutputTable   OutputFormat = "table"
	OutputJSON    OutputFormat = "json"
	OutputJSONL   OutputFormat = "jsonl"
	OutputCSV     OutputFormat = "csv"
	OutputYAML    OutputFormat = "yaml"

	// OutputTSV is tab-separated values, one line per item, every column (docs/output.md). It is
	// also what the default becomes when stdout is not a terminal, for cut, awk and while-read
	// loops: then without the header row that -o tsv prints (see IOStreams.TSVHeader).
	OutputTSV OutputFormat = "tsv"
)

// OutputFormats lists the values -o accepts, in the order help shows them.
var OutputFormats = []OutputFormat{OutputTable, OutputTSV, OutputJSON, OutputJSONL, OutputCSV, OutputYAML}

func (o *OutputFormat) String() string { return string(*o) }

// Type is the placeholder help shows for the flag's value.
func (o *OutputFormat) Type() string { return "format" }

// Set validates and stores a flag value.
func (o *OutputFormat) Set(v string) error {
	for _, f := range OutputFormats {
		if OutputFormat(v) == f {
			*o = f
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(OutputFormatNames(), ", "))
}

// Resolve turns the default into a concrete format: a table when stdout is a terminal, TSV when
// it is piped or redirected. Any other value is returned as is.
func (o OutputFormat) Resolve(ios *iostreams.IOStreams) OutputFormat {
	if o != OutputDefault {
		return o
	}
	if ios.IsStdoutTTY() {
		return OutputTable
	}
	return OutputTSV
}

// OutputFormatNames returns OutputFormats as strings, for messages and shell completion.
func OutputFormatNames() []string {
	names := make([]string, len(OutputFormats))
	for i, f := range OutputFormats {
		names[i] = string(f)
	}
	return names
}
