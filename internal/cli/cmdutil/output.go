package cmdutil

import (
	"fmt"
	"strings"
)

// OutputFormat is the value of the global -o/--output flag. It implements pflag.Value so that a
// bad value fails during flag parsing, as a usage error, before any command runs.
type OutputFormat string

// The output formats. The zero value means the default: a table on a terminal, tab-separated
// values without headers when piped.
const (
	OutputDefault OutputFormat = ""
	OutputTable   OutputFormat = "table"
	OutputJSON    OutputFormat = "json"
	OutputJSONL   OutputFormat = "jsonl"
	OutputCSV     OutputFormat = "csv"
	OutputYAML    OutputFormat = "yaml"
)

// OutputFormats lists the values -o accepts, in the order help shows them.
var OutputFormats = []OutputFormat{OutputTable, OutputJSON, OutputJSONL, OutputCSV, OutputYAML}

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

// OutputFormatNames returns OutputFormats as strings, for messages and shell completion.
func OutputFormatNames() []string {
	names := make([]string, len(OutputFormats))
	for i, f := range OutputFormats {
		names[i] = string(f)
	}
	return names
}
