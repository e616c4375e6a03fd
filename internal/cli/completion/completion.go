// Package completion implements `waasctl completion SHELL`.
package completion

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// Shells lists the shells a completion script can be generated for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// CompletionOptions is what `waasctl completion` needs.
type CompletionOptions struct {
	IO    *iostreams.IOStreams
	Shell string
	// Root is the command tree to complete; the script asks it for candidates at run time.
	Root *cobra.Command
}

// NewCmdCompletion returns the completion command. runF replaces the run function in tests.
func NewCmdCompletion(f *cmdutil.Factory, runF func(context.Context, *CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "completion {bash|zsh|fish|powershell}",
		Short: "Print a shell completion script",
		Long: `Print a script that makes the shell complete waasctl's commands, flags and values.

Bash (needs the bash-completion package, version 2):
  # this shell only
  source <(waasctl completion bash)
  # every new shell
  mkdir -p ~/.local/share/bash-completion/completions
  waasctl completion bash > ~/.local/share/bash-completion/completions/waasctl

Zsh:
  # once, if completion is not enabled yet
  echo 'autoload -U compinit; compinit' >> ~/.zshrc
  # then, into a folder on $fpath
  waasctl completion zsh > "${fpath[1]}/_waasctl"

Fish:
  waasctl completion fish > ~/.config/fish/completions/waasctl.fish

PowerShell:
  # this session only
  waasctl completion powershell | Out-String | Invoke-Expression
  # every session: add the line above to the file named by $PROFILE

Start a new shell after installing. Release archives ship the same scripts in completions/.

What is completed: commands, flags, config keys, -o formats, --issuer and --keyring-backend
values; profile names (PROFILE and --profile) from the config file and the keyring; pool names
(pools get, --pool) from the API with the profile's key; snapshot files for incident assess
--since. Completion never prompts: a file keyring needs WAASCTL_KEYRING_PASSPHRASE in the
shell's environment for pool names, and anything that takes longer than 2 seconds (a keyring or
an API that does not answer) offers nothing rather than holding the shell.`,
		ValidArgs: Shells,
		Args:      cmdutil.ExactArgs(1, "name a shell: bash, zsh, fish or powershell"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(Shells, args[0]) {
				return cmdutil.FlagErrorf("unsupported shell %q: use bash, zsh, fish or powershell", args[0])
			}
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return completionRun(opts)
		},
	}
}

func completionRun(opts *CompletionOptions) error {
	return Generate(opts.Root, opts.Shell, opts.IO.Out)
}

// Generate writes root's completion script for shell to w. cmd/gen-docs uses it for the scripts
// shipped in completions/.
func Generate(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return fmt.Errorf("unsupported shell %q", shell)
}
