package configcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/reconcile"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/textsafe"
	"gopkg.in/yaml.v3"
)

// ValidateOptions is what `config validate` needs.
type ValidateOptions struct {
	IO         *iostreams.IOStreams
	ConfigFile func() (string, error)
	// Profiles limits the checks to these profiles (the file's own problems are always
	// reported); nil checks every profile.
	Profiles []string
	// CheckLedger connects to each profile's ledger (opens its file).
	CheckLedger   bool
	LedgerTimeout time.Duration
	// LookPath finds a command as the shell would (exec.LookPath); replaced in tests.
	LookPath func(string) (string, error)
	Output   func() cmdutil.OutputFormat
}

// ProblemView is one problem as -o json, csv and the others print it.
type ProblemView struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Profile string `json:"profile,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

var problemColumns = []cmdutil.Column[ProblemView]{
	{Header: "FILE", Value: func(p ProblemView) string { return p.File }},
	{Header: "LINE", Value: func(p ProblemView) string { return strconv.Itoa(p.Line) }},
	{Header: "COLUMN", Value: func(p ProblemView) string { return strconv.Itoa(p.Column) }},
	{Header: "PROFILE", Value: func(p ProblemView) string { return p.Profile }},
	{Header: "KEY", Value: func(p ProblemView) string { return p.Key }},
	{Header: "MESSAGE", Value: func(p ProblemView) string { return p.Message }},
}

// NewCmdValidate returns `config validate`.
func NewCmdValidate(f *cmdutil.Factory, runF func(context.Context, *ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IOStreams, ConfigFile: config.ConfigFile, LookPath: exec.LookPath, Output: func() cmdutil.OutputFormat { return f.Output }}
	cmd := &cobra.Command{
		Use:   "validate [PROFILE...]",
		Short: "Check the config file and what each profile names: exit 1 naming every problem",
		Long: `Check the config file and every profile in it (or the profiles named), and name every
problem found, one per line, as FILE:LINE:COLUMN: KEY: what is wrong (editors jump there):

  - the file: YAML syntax, unknown keys, values of the wrong type;
  - issuers: a known type (sandbox, manual, exec); an exec issuer's command found on PATH;
  - sinks: a known type; an envfile sink's folder exists and a file can be written there (the
    sink's file itself is not changed); exec sinks' and restart commands found on PATH;
  - policy: max_age and grace parse as durations (90d, 24h);
  - ledger: with --check-ledger only, the database is connected to, or the file opened.

Exit 0 when nothing is wrong, 1 when something is (the problems on stdout, a count on stderr).
Relative paths are taken from the current folder, as keys rotate takes them.`,
		Example: `  waasctl config validate
  waasctl config validate prod --check-ledger`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			// PROFILE..., else --profile or WAASCTL_PROFILE, else every profile.
			if opts.Profiles, err = cmdutil.ChosenProfiles(cmd, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return validateRun(cmd.Context(), opts)
		},
		ValidArgsFunction: completeProfileArgs(f),
	}
	cmd.Flags().BoolVar(&opts.CheckLedger, "check-ledger", false, "Also connect to each profile's ledger (database or file)")
	cmd.Flags().DurationVar(&opts.LedgerTimeout, "ledger-timeout", 10*time.Second, "Give up connecting to a ledger after this long")
	return cmd
}

func validateRun(ctx context.Context, opts *ValidateOptions) error {
	path, err := opts.ConfigFile()
	if err != nil {
		return err
	}
	data, err := fsutil.ReadFile(ctx, path, "config file", config.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(opts.IO.ErrOut, "%s does not exist: nothing to check (waasctl config set creates it)\n", path)
		if opts.Output != nil && !cmdutil.HumanText(opts.Output()) {
			return cmdutil.PrintList(opts.IO, opts.Output(), []ProblemView{}, problemColumns)
		}
		return nil
	}
	if err != nil {
		return err
	}
	problems := config.Check(data)
	if len(problems) == 0 {
		if err := fsutil.CheckTrustedFile(path); err != nil {
			problems = append(problems, config.Problem{Message: err.Error()})
		}
	}
	if len(problems) == 0 {
		cfg, err := config.Parse(path, data)
		if err != nil {
			return err // Check found nothing, so this is not expected; say it as the loader does
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return err
		}
		problems = append(problems, checkProfiles(ctx, opts, cfg, &doc)...)
	}
	if opts.Profiles != nil {
		problems = slices.DeleteFunc(problems, func(p config.Problem) bool {
			return p.Profile != "" && !slices.Contains(opts.Profiles, p.Profile)
		})
		for _, name := range opts.Profiles {
			if cfg, err := config.Parse(path, data); err == nil {
				if _, ok := cfg.Profiles[name]; !ok {
					problems = append(problems, config.Problem{Profile: name, Message: fmt.Sprintf("no profile %q in the config file", name)})
				}
			}
		}
	}
	if opts.Output != nil && !cmdutil.HumanText(opts.Output()) {
		views := make([]ProblemView, len(problems))
		for i, p := range problems {
			views[i] = ProblemView{File: path, Line: p.Line, Column: p.Column, Profile: p.Profile, Key: p.Key, Message: p.Message}
		}
		if err := cmdutil.PrintList(opts.IO, opts.Output(), views, problemColumns); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(opts.IO.Out, textsafe.Line(formatProblem(path, p)))
		}
	}
	if len(problems) > 0 {
		s := "s"
		if len(problems) == 1 {
			s = ""
		}
		fmt.Fprintf(opts.IO.ErrOut, "%d problem%s in %s\n", len(problems), s, path)
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "%s: no problems found\n", path)
	}
	return nil
}

// formatProblem is FILE:LINE:COLUMN: KEY: message, the form compilers use.
func formatProblem(path string, p config.Problem) string {
	where := path
	if p.Line > 0 {
		where += fmt.Sprintf(":%d", p.Line)
		if p.Column > 0 {
			where += fmt.Sprintf(":%d", p.Column)
		}
	}
	if p.Key != "" {
		return where + ": " + p.Key + ": " + p.Message
	}
	if p.Profile != "" {
		return where + ": profiles." + p.Profile + ": " + p.Message
	}
	return where + ": " + p.Message
}

// checkProfiles checks what each profile names outside the file: commands on PATH, sink
// folders, and (on request) ledgers.
func checkProfiles(ctx context.Context, opts *ValidateOptions, cfg *config.Config, doc *yaml.Node) []config.Problem {
	var problems []config.Problem
	names := make([]string, 0, len(cfg.Profiles))
	for name := range cfg.Profiles {
		if opts.Profiles == nil || slices.Contains(opts.Profiles, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		prof := cfg.Profiles[name]
		add := func(msg string, key ...config.PathElem) {
			p := append(config.KeyPath{{Key: "profiles"}, {Key: name}}, key...)
			pr := config.Problem{Profile: name, Key: p.String(), Message: msg}
			if n := config.Lookup(doc, p); n != nil {
				pr.Line, pr.Column = n.Line, n.Column
			}
			problems = append(problems, pr)
		}
		command := func(argv []string, what string, key ...config.PathElem) {
			if len(argv) == 0 {
				return
			}
			if err := findCommand(opts.LookPath, argv[0]); err != nil {
				add(fmt.Sprintf("%s %s: %v", what, textsafe.Value(argv[0]), err), append(key, config.PathElem{IsItem: true, Index: 0})...)
			}
		}
		if is := prof.Issuer; is != nil && is.Type == "exec" {
			command(is.Command, "issuer command", config.PathElem{Key: "issuer"}, config.PathElem{Key: "command"})
		}
		for i, s := range prof.Sinks {
			at := config.PathElem{IsItem: true, Index: i}
			sinks := config.PathElem{Key: "sinks"}
			switch s.Type {
			case "envfile":
				if err := envfileWritable(s); err != nil {
					add(err.Error(), sinks, at, config.PathElem{Key: "path"})
				}
			case "exec":
				command(s.Command, "sink command", sinks, at, config.PathElem{Key: "command"})
			}
			command(s.Restart, "restart command", sinks, at, config.PathElem{Key: "restart"})
		}
		if opts.CheckLedger && prof.Ledger != nil && prof.Ledger.DSN != "" {
			if err := reachLedger(ctx, opts.LedgerTimeout, prof.Ledger); err != nil {
				add(err.Error(), config.PathElem{Key: "ledger"}, config.PathElem{Key: "dsn"})
			}
		}
	}
	return problems
}

// findCommand finds a command as a child process would: a name on PATH, or a path that is an
// executable file.
func findCommand(lookPath func(string) (string, error), name string) error {
	_, err := lookPath(name)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrNotFound) && !strings.ContainsRune(name, filepath.Separator):
		return errors.New("not found on PATH")
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("not executable")
	}
	return errors.New("not found or not executable")
}

// envfileWritable says whether an envfile sink can be delivered to: what its preflight checks
// (no symlink or foreign file unless allowed, the folder exists), and that a file can be
// created in its folder, as the atomic write does. The sink's own file is not touched.
func envfileWritable(s config.Sink) error {
	sink := &rotation.EnvfileSink{Path: s.Path, Options: rotation.EnvfileOptions{FollowSymlinks: s.FollowSymlinks, AllowOtherOwner: s.AllowOtherOwner}}
	if err := sink.Preflight(); err != nil {
		return err
	}
	dir := filepath.Dir(s.Path)
	if real, err := filepath.EvalSymlinks(s.Path); err == nil {
		dir = filepath.Dir(real)
	}
	tmp, err := os.CreateTemp(dir, ".waasctl-validate-*")
	if err != nil {
		return fmt.Errorf("envfile %s: cannot write in its folder %s: %v", s.Path, dir, errors.Unwrap(err))
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return nil
}

// reachLedger opens the ledger as the audits do, and closes it.
func reachLedger(ctx context.Context, timeout time.Duration, l *config.Ledger) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	led, err := reconcile.Open(ctx, reconcile.Spec{Source: l.DSN})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ledger %s: no answer within %v", reconcile.RedactSource(l.DSN), timeout)
		}
		return err
	}
	return led.Close()
}
