package cmdutil

import "github.com/spf13/cobra"

// Cobra's own argument validators return plain errors, which would exit 1; these return usage
// errors (exit 2) with a message that says what was expected.

// NoArgs rejects any positional argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return FlagErrorf("unexpected argument %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// ExactArgs requires exactly n arguments; msg says which when there are too few.
func ExactArgs(n int, msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return FlagErrorf("%s", msg)
		}
		if len(args) > n {
			return FlagErrorf("unexpected argument %q for %q", args[n], cmd.CommandPath())
		}
		return nil
	}
}

// MinimumArgs requires at least n arguments; msg says which when there are too few.
func MinimumArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return FlagErrorf("%s", msg)
		}
		return nil
	}
}

// MaximumArgs allows at most n positional arguments.
func MaximumArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return FlagErrorf("unexpected argument %q for %q", args[n], cmd.CommandPath())
		}
		return nil
	}
}
