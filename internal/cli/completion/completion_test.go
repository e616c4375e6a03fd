package completion

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

func TestCompletionScripts(t *testing.T) {
	// Each generator marks its output in a recognisable way.
	want := map[string]string{
		"bash":       "# bash completion V2 for waasctl",
		"zsh":        "#compdef waasctl",
		"fish":       "# fish completion for waasctl",
		"powershell": "# powershell completion for waasctl",
	}
	for _, shell := range Shells {
		t.Run(shell, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			root := &cobra.Command{Use: "waasctl"}
			root.AddCommand(NewCmdCompletion(&cmdutil.Factory{IOStreams: ios}, nil))
			root.SetArgs([]string{"completion", shell})
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), want[shell]) {
				t.Fatalf("%s script lacks %q; starts %q", shell, want[shell], firstLine(stdout.String()))
			}
		})
	}
}

func TestCompletionUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		ios, _, _, _ := iostreams.Test()
		root := &cobra.Command{Use: "waasctl", SilenceErrors: true, SilenceUsage: true}
		root.AddCommand(NewCmdCompletion(&cmdutil.Factory{IOStreams: ios}, func(context.Context, *CompletionOptions) error {
			t.Fatalf("%v: run called", args)
			return nil
		}))
		root.SetArgs(args)
		var fe *cmdutil.FlagError
		if err := root.Execute(); !errors.As(err, &fe) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
