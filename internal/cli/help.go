package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
)

// helpTopicAnnotation marks commands that only carry documentation (`waasctl help exit-codes`).
const helpTopicAnnotation = "waasctl/help-topic"

// newHelpTopic returns a command with no action whose help is body. Cobra lists such commands
// under "Additional help topics".
func newHelpTopic(ios *iostreams.IOStreams, name, short, body string) *cobra.Command {
	cmd := &cobra.Command{
		Use:         name,
		Short:       short,
		Long:        body,
		Annotations: map[string]string{helpTopicAnnotation: "true"},
	}
	// A topic has no usage or flags worth showing: print the text alone.
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		fmt.Fprint(ios.Out, c.Long)
	})
	return cmd
}

func isHelpTopic(cmd *cobra.Command) bool {
	return cmd.Annotations[helpTopicAnnotation] != ""
}

// exitCodesHelp renders cmdutil.ExitCodes for `waasctl help exit-codes`.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("waasctl exits with one of these codes. Scripts and CI jobs can rely on them.\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range cmdutil.ExitCodes {
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", c.Code, c.Name, c.Meaning)
	}
	tw.Flush()
	return b.String()
}

// newCmdHelp replaces cobra's help command, which answers an unknown topic with the root's usage
// and exit 0; here it is a usage error like any other unknown command.
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command or topic",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return cmdutil.FlagErrorf("unknown help topic %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			parent, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range parent.Commands() {
				if (sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand()) && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}
