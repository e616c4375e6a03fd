package scan

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/scan"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad combination or value gets before anything is read.
func TestNewCmdScan(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Paths, IgnoreFile, Baseline, SARIF                               string
		Git, Staged, GitIgnore, OtherKeys, Verbose, NoKeyring, Verifying bool
		Workers, MaxDepth                                                int
	}
	depth := scan.DefaultLimits.MaxArchiveDepth
	def := fields{Paths: ".", MaxDepth: depth}
	with := func(change func(*fields)) fields { f := def; change(&f); return f }
	for _, tc := range []struct {
		name    string
		args    []string
		want    fields
		wantErr string
	}{
		{name: "defaults: this folder", want: def},
		{name: "paths", args: []string{"src", "build/app-release.apk"}, want: with(func(f *fields) { f.Paths = "src;build/app-release.apk" })},
		{name: "stdin", args: []string{"-"}, want: with(func(f *fields) { f.Paths = "-" })},
		{name: "git history", args: []string{"--git", "repo"}, want: with(func(f *fields) { f.Git, f.Paths = true, "repo" })},
		{name: "staged", args: []string{"--staged"}, want: with(func(f *fields) { f.Staged = true })},
		{name: "gitignore and other keys", args: []string{"--gitignore", "--other-keys"}, want: with(func(f *fields) { f.GitIgnore, f.OtherKeys = true, true })},
		{name: "suppressions", args: []string{"--ignore-file", ".waasctl-ignore", "--baseline", "scan-baseline.json", "-v"},
			want: with(func(f *fields) { f.IgnoreFile, f.Baseline, f.Verbose = ".waasctl-ignore", "scan-baseline.json", true })},
		{name: "sarif", args: []string{"--sarif", "results.sarif"}, want: with(func(f *fields) { f.SARIF = "results.sarif" })},
		{name: "verify", args: []string{"--verify"}, want: with(func(f *fields) { f.Verifying = true })},
		{name: "no keyring", args: []string{"--no-keyring"}, want: with(func(f *fields) { f.NoKeyring = true })},
		{name: "workers and depth", args: []string{"--workers", "4", "--max-archive-depth", "0"}, want: with(func(f *fields) { f.Workers, f.MaxDepth = 4, 0 })},
		{name: "deepest archives", args: []string{"--max-archive-depth", "16"}, want: with(func(f *fields) { f.MaxDepth = 16 })},
		{name: "git and staged", args: []string{"--git", "--staged"}, wantErr: "--git and --staged cannot be used together"},
		{name: "depth above 16", args: []string{"--max-archive-depth", "17"}, wantErr: "--max-archive-depth must be between 0 and 16"},
		{name: "negative depth", args: []string{"--max-archive-depth", "-1"}, wantErr: "--max-archive-depth must be between 0 and 16"},
		{name: "negative workers", args: []string{"--workers", "-2"}, wantErr: "--workers must not be negative (0: one per CPU)"},
		{name: "workers not a number", args: []string{"--workers", "all"}, wantErr: `invalid argument "all" for "--workers"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdScan), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Paths: strings.Join(got.Paths, ";"), IgnoreFile: got.IgnoreFile, Baseline: got.Baseline, SARIF: got.SARIF,
				Git: got.Git, Staged: got.Staged, GitIgnore: got.GitIgnore, OtherKeys: got.OtherKeys, Verbose: got.Verbose,
				NoKeyring: got.NoKeyring, Verifying: got.Verify != nil, Workers: got.Workers, MaxDepth: got.MaxDepth}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}
