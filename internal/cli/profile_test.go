package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	auditcmd "github.com/waasctl/waasctl/internal/cli/audit"
	authcmd "github.com/waasctl/waasctl/internal/cli/auth"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/configcmd"
	incidentcmd "github.com/waasctl/waasctl/internal/cli/incident"
	inventorycmd "github.com/waasctl/waasctl/internal/cli/inventory"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	keyscmd "github.com/waasctl/waasctl/internal/cli/keys"
	logcmd "github.com/waasctl/waasctl/internal/cli/log"
)

// allProfiles is what a command that covers every profile by default was left with when nothing
// named one.
const allProfiles = "(all)"

// profileCommand is one command that takes a profile, built with a runF that records the
// profile(s) it would act on.
type profileCommand struct {
	path []string // e.g. {"keys", "rotate"}
	// build returns the command; got is called with what its options hold when it would run.
	build func(f *cmdutil.Factory, got func([]string)) *cobra.Command
	// positional is how the command names a profile itself: {"PROFILE"} for a PROFILE argument,
	// {"--for-profile", "PROFILE"} for log show; nil when it has no way but --profile.
	positional []string
	extra      []string // arguments every run needs, after the profile
	all        bool     // covers every profile unless one is named
}

func single(p string) []string { return []string{p} }

func listed(ps []string) []string {
	if ps == nil {
		return []string{allProfiles}
	}
	return ps
}

var profileCommands = []profileCommand{
	{path: []string{"keys", "rotate"}, positional: []string{"PROFILE"}, extra: []string{"--yes"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return keyscmd.NewCmdRotate(f, func(_ context.Context, o *keyscmd.RotateOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"keys", "revoke"}, positional: []string{"PROFILE"}, extra: []string{"--reason", "test", "--yes"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return keyscmd.NewCmdRevoke(f, func(_ context.Context, o *keyscmd.RevokeOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"keys", "check"}, positional: []string{"PROFILE"}, all: true,
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return keyscmd.NewCmdCheck(f, func(_ context.Context, o *keyscmd.CheckOptions) error { got(listed(o.Profiles)); return nil })
		}},
	{path: []string{"keys", "status"}, positional: []string{"PROFILE"}, all: true,
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return keyscmd.NewCmdStatus(f, func(_ context.Context, o *keyscmd.StatusOptions) error { got(listed(o.Profiles)); return nil })
		}},
	{path: []string{"auth", "add"}, positional: []string{"PROFILE"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return authcmd.NewCmdAdd(f, func(_ context.Context, o *authcmd.AddOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"auth", "remove"}, positional: []string{"PROFILE"}, extra: []string{"--yes"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return authcmd.NewCmdRemove(f, func(_ context.Context, o *authcmd.RemoveOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"auth", "status"}, positional: []string{"PROFILE"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return authcmd.NewCmdStatus(f, func(_ context.Context, o *authcmd.StatusOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"auth", "exec"}, positional: []string{"PROFILE"}, extra: []string{"--", "true"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return authcmd.NewCmdExec(f, func(_ context.Context, o *authcmd.ExecOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"auth", "list"}, all: true,
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return authcmd.NewCmdList(f, func(_ context.Context, o *authcmd.ListOptions) error { got(listed(o.Profiles)); return nil })
		}},
	{path: []string{"log", "show"}, positional: []string{"--for-profile", "PROFILE"}, all: true,
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return logcmd.NewCmdShow(f, func(_ context.Context, o *logcmd.ShowOptions) error {
				if o.Profile == "" {
					got(listed(nil))
				} else {
					got(single(o.Profile))
				}
				return nil
			})
		}},
	{path: []string{"incident", "assess"}, positional: []string{"PROFILE"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return incidentcmd.NewCmdAssess(f, func(_ context.Context, o *incidentcmd.AssessOptions) error { got(single(o.Profile)); return nil })
		}},
	{path: []string{"config", "validate"}, positional: []string{"PROFILE"}, all: true,
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return configcmd.NewCmdValidate(f, func(_ context.Context, o *configcmd.ValidateOptions) error { got(listed(o.Profiles)); return nil })
		}},
	{path: []string{"audit", "operations"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return auditcmd.NewCmdOperations(f, func(_ context.Context, o *auditcmd.OperationsOptions) error { got(single(o.Profile())); return nil })
		}},
	{path: []string{"audit", "resources"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return auditcmd.NewCmdResources(f, func(_ context.Context, o *auditcmd.ResourcesOptions) error { got(single(o.Profile())); return nil })
		}},
	{path: []string{"audit", "quota"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return auditcmd.NewCmdQuota(f, func(_ context.Context, o *auditcmd.QuotaOptions) error { got(single(o.Profile())); return nil })
		}},
	{path: []string{"inventory", "snapshot"},
		build: func(f *cmdutil.Factory, got func([]string)) *cobra.Command {
			return inventorycmd.NewCmdSnapshot(f, func(_ context.Context, o *inventorycmd.SnapshotOptions) error { got(single(o.Profile())); return nil })
		}},
}

// runProfileCommand runs c under a root with the global flags, as `waasctl PATH ARGS...`, and
// returns the profiles it would act on, or its error.
func runProfileCommand(t *testing.T, c profileCommand, args []string) ([]string, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	root := &cobra.Command{Use: "waasctl", SilenceErrors: true, SilenceUsage: true}
	addGlobalFlags(root, f)
	group := &cobra.Command{Use: c.path[0]}
	root.AddCommand(group)
	var got []string
	ran := false
	group.AddCommand(c.build(f, func(p []string) { got, ran = p, true }))
	root.SetArgs(append(slices.Clone(c.path), args...))
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	_, err := root.ExecuteC()
	if err == nil && !ran {
		t.Fatalf("%s did not run", strings.Join(c.path, " "))
	}
	return got, err
}

// withPositional puts p where c names a profile itself.
func (c profileCommand) withPositional(p string) []string {
	var out []string
	for _, a := range c.positional {
		if a == "PROFILE" {
			a = p
		}
		out = append(out, a)
	}
	return out
}

// TestProfileRule runs every command that takes a profile with each way of naming one: the rule
// is the same everywhere (PROFILE, else --profile, else WAASCTL_PROFILE, else default; PROFILE
// and a different explicit choice are a usage error with the same message).
func TestProfileRule(t *testing.T) {
	type form struct {
		name    string
		env     string   // WAASCTL_PROFILE, "" for unset
		args    []string // before the command's extra arguments; PROFILE is replaced
		want    string   // the profile acted on ("" with wantErr)
		wantErr string   // the usage error
		needPos bool     // only for commands with a positional PROFILE
	}
	forms := []form{
		{name: "nothing", want: "default"},
		{name: "flag", args: []string{"--profile", "prod"}, want: "prod"},
		{name: "env", env: "prod", want: "prod"},
		{name: "flag over env", env: "staging", args: []string{"--profile", "prod"}, want: "prod"},
		{name: "positional", args: []string{"PROFILE"}, want: "prod", needPos: true},
		{name: "positional and the same flag", args: []string{"PROFILE", "--profile", "prod"}, want: "prod", needPos: true},
		{name: "positional and the same env", env: "prod", args: []string{"PROFILE"}, want: "prod", needPos: true},
		{name: "conflicting flag", args: []string{"PROFILE", "--profile", "staging"}, needPos: true,
			wantErr: `PROFILE "prod" and --profile "staging" name different profiles: give the profile once`},
		{name: "conflicting env", env: "staging", args: []string{"PROFILE"}, needPos: true,
			wantErr: `PROFILE "prod" and WAASCTL_PROFILE "staging" name different profiles: give the profile once`},
		{name: "empty flag", args: []string{"--profile", ""}, wantErr: "--profile must not be empty"},
	}
	for _, c := range profileCommands {
		for _, fm := range forms {
			if fm.needPos && c.positional == nil {
				continue
			}
			t.Run(strings.Join(c.path, "_")+"/"+fm.name, func(t *testing.T) {
				t.Setenv(cmdutil.ProfileEnv, fm.env)
				var args []string
				for _, a := range fm.args {
					if a == "PROFILE" {
						args = append(args, c.withPositional("prod")...)
					} else {
						args = append(args, a)
					}
				}
				got, err := runProfileCommand(t, c, append(args, c.extra...))
				if fm.wantErr != "" {
					var fe *cmdutil.FlagError
					if !errors.As(err, &fe) || err.Error() != fm.wantErr {
						t.Fatalf("err = %v, want the usage error %q (exit 2)", err, fm.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want := fm.want
				if want == "default" && c.all {
					want = allProfiles // nothing named: every profile
				}
				if len(got) != 1 || got[0] != want {
					t.Fatalf("acts on %q, want %q", got, want)
				}
			})
		}
	}
}

// TestProfileRuleCoversEveryCommand fails when a command that names a profile in its usage is
// not in profileCommands, so that a new one cannot skip the rule unnoticed.
func TestProfileRuleCoversEveryCommand(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios})
	covered := map[string]bool{}
	for _, c := range profileCommands {
		covered[strings.Join(c.path, " ")] = true
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		path := strings.TrimPrefix(c.CommandPath(), "waasctl ")
		if strings.Contains(c.Use, "PROFILE") && !covered[path] {
			t.Errorf("%s names a PROFILE but is not in profileCommands", path)
		}
	}
	walk(root)
}
