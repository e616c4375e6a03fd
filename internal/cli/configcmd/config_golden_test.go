package configcmd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// goldenConfig is a config a team would write: comments, flow and block styles, every section,
// a ledger DSN with a password (which no command may print).
const goldenConfig = `# waasctl settings. No secrets here: keys live in the keyring.
profiles:
  prod:
    endpoint: https://api.developer.coinbase.com
    issuer:
      type: exec
      command: [waas-issuer, --org, acme]
    sinks:
      - type: envfile
        path: secrets/prod.env
        restart: [systemctl, restart, payments-api]
      - {type: exec, command: [vault-put, secret/waas/prod]}
    policy:
      max_age: 90d # the security team's rule
      grace: 24h
    quota: {pools: 20, wallets: 500}
    ledger:
      dsn: postgres://app:hunter2@db.internal:5432/ledger
  sandbox:
    endpoint: http://127.0.0.1:8787
    issuer: {type: sandbox}
`

// brokenConfig has one problem of each kind validate finds after the file parses: a command not
// on PATH, a sink whose folder is missing, a restart command not on PATH.
const brokenConfig = `profiles:
  prod:
    issuer: {type: exec, command: [waas-issuer-v2]}
    sinks:
      - {type: envfile, path: missing/prod.env}
      - {type: envfile, path: secrets/prod.env, restart: [no-such-restart]}
    policy: {max_age: 90d}
  sandbox:
    issuer: {type: sandbox}
`

// inConfigDir writes text as config.yaml (0600, as config set writes it) in a fresh folder with
// a secrets/ subfolder, and makes that folder the current one, so that paths print the same on
// every machine.
func inConfigDir(t *testing.T, text string) func() (string, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	if err := os.Mkdir("secrets", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("config.yaml", []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return fixed("config.yaml")
}

// onPath finds waas-issuer, systemctl and vault-put, whatever this machine has.
func onPath(name string) (string, error) {
	switch name {
	case "waas-issuer", "systemctl", "vault-put":
		return "/usr/bin/" + name, nil
	}
	return "", exec.ErrNotFound
}

var goldenOutputs = []struct {
	suffix   string
	terminal bool
	format   cmdutil.OutputFormat
}{
	{"tty", true, ""},
	{"nontty", false, ""},
	{"json", false, cmdutil.OutputJSON},
}

func goldenStreams(terminal bool) (*iostreams.IOStreams, interface{ String() string }, interface{ String() string }) {
	ios, _, stdout, stderr := iostreams.Test()
	if terminal {
		ios.SetStdoutTTY(true)
		ios.SetStderrTTY(true)
		ios.SetTerminalWidth(120)
	}
	return ios, stdout, stderr
}

// TestConfigView: the file as written, comments kept, the DSN's password masked; as JSON, its
// settings.
func TestConfigView(t *testing.T) {
	for _, out := range goldenOutputs {
		t.Run(out.suffix, func(t *testing.T) {
			file := inConfigDir(t, goldenConfig)
			ios, stdout, stderr := goldenStreams(out.terminal)
			opts := &ViewOptions{IO: ios, ConfigFile: file, Output: func() cmdutil.OutputFormat { return out.format }}
			if err := viewRun(testctx.New(t), opts); err != nil || stderr.String() != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, "view_"+out.suffix+".golden", stdout.String())
		})
	}
}

// TestConfigGet: a value (a DSN, masked), a list, a section as YAML and as JSON.
func TestConfigGet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string
		format cmdutil.OutputFormat
	}{
		{"get_value", "profiles.prod.ledger.dsn", ""},
		{"get_list", "profiles.prod.issuer.command", ""},
		{"get_section", "profiles.prod.sinks[0]", ""},
		{"get_section_flow", "profiles.prod.quota", ""},
		{"get_section_json", "profiles.prod", cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := inConfigDir(t, goldenConfig)
			key, err := config.ParseKeyPath(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			ios, stdout, stderr := goldenStreams(false)
			opts := &GetOptions{IO: ios, ConfigFile: file, Key: key, Output: func() cmdutil.OutputFormat { return tc.format }}
			if err := getRun(testctx.New(t), opts); err != nil || stderr.String() != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, tc.name+"_nontty.golden", stdout.String())
		})
	}
	t.Run("get_unset", func(t *testing.T) {
		file := inConfigDir(t, goldenConfig)
		ios, stdout, _ := goldenStreams(false)
		key, _ := config.ParseKeyPath("profiles.prod.state")
		err := getRun(testctx.New(t), &GetOptions{IO: ios, ConfigFile: file, Key: key})
		var ee *cmdutil.ExitError
		if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure || stdout.String() != "" {
			t.Fatalf("err %v, stdout %q: want exit 1 and nothing printed", err, stdout)
		}
		clitest.Golden(t, "get_unset.stderr.golden", err.Error()+"\n")
	})
}

// TestConfigProfiles: every profile the file or the keyring knows, with where its key comes
// from; "orphan" has a key and no settings.
func TestConfigProfiles(t *testing.T) {
	store := credentials.NewMemoryStore()
	for _, p := range []string{"prod", "orphan"} {
		if err := store.Put(testctx.New(t), &credentials.Item{Profile: p, Current: clitest.FixedKey(t, 1, clitest.FixedNow, "")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range goldenOutputs {
		t.Run(out.suffix, func(t *testing.T) {
			file := inConfigDir(t, goldenConfig)
			path, _ := file()
			cfg, err := config.LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ios, stdout, stderr := goldenStreams(out.terminal)
			opts := &ProfilesOptions{IO: ios, Config: func() (*config.Config, error) { return cfg, nil },
				Keyring: func() (credentials.Store, error) { return store, nil },
				Output:  func() cmdutil.OutputFormat { return out.format }, Getenv: func(string) string { return "" }}
			if err := profilesRun(testctx.New(t), opts); err != nil || stderr.String() != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			clitest.Golden(t, "profiles_"+out.suffix+".golden", stdout.String())
		})
	}
}

// TestConfigPath: the path on stdout; on a terminal, a note on stderr when it does not exist.
func TestConfigPath(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, out := range goldenOutputs[:2] {
		t.Run(out.suffix, func(t *testing.T) {
			ios, stdout, stderr := goldenStreams(out.terminal)
			if err := pathRun(testctx.New(t), &PathOptions{IO: ios, ConfigFile: fixed("waasctl/config.yaml")}); err != nil {
				t.Fatal(err)
			}
			clitest.Golden(t, "path_"+out.suffix+".golden", stdout.String())
			clitest.Golden(t, "path_"+out.suffix+".stderr.golden", stderr.String())
		})
	}
}

// TestConfigValidate: a valid config (nothing on stdout, exit 0) and one with three problems
// (one line each, FILE:LINE:COLUMN: KEY: what is wrong, exit 1, a count on stderr).
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		exit   int
	}{
		{"validate_valid", goldenConfig, 0},
		{"validate_invalid", brokenConfig, cmdutil.ExitFailure},
	} {
		for _, out := range goldenOutputs {
			name := tc.name + "_" + out.suffix
			t.Run(name, func(t *testing.T) {
				file := inConfigDir(t, tc.config)
				ios, stdout, stderr := goldenStreams(out.terminal)
				opts := &ValidateOptions{IO: ios, ConfigFile: file, LookPath: onPath, Output: func() cmdutil.OutputFormat { return out.format }}
				err := validateRun(testctx.New(t), opts)
				var ee *cmdutil.ExitError
				switch {
				case tc.exit == 0 && err != nil:
					t.Fatalf("err %v", err)
				case tc.exit != 0 && (!errors.As(err, &ee) || ee.Code != tc.exit):
					t.Fatalf("err %v, want exit %d", err, tc.exit)
				}
				clitest.Golden(t, name+".golden", stdout.String())
				clitest.Golden(t, name+".stderr.golden", stderr.String())
			})
		}
	}
}

// TestConfigSetAndUnsetGolden: the file after `config set` (a value changed, a list and a
// section added) and `config unset`, comments and layout kept, and what each says on stderr.
func TestConfigSetAndUnsetGolden(t *testing.T) {
	file := inConfigDir(t, goldenConfig)
	ios, stdout, stderr := goldenStreams(true)
	f := &cmdutil.Factory{IOStreams: ios}
	for _, args := range [][]string{
		{"profiles.prod.policy.max_age", "60d"},
		{"profiles.prod.sinks[1].restart", "systemctl", "restart", "vault-agent"},
		{"profiles.stage.endpoint", "https://api.developer.coinbase.com"},
	} {
		var opts *SetOptions
		if err := run(t, NewCmdSet(f, func(_ context.Context, o *SetOptions) error { opts = o; return nil }), args...); err != nil {
			t.Fatalf("set %q: %v", args, err)
		}
		opts.ConfigFile = file
		if err := setRun(testctx.New(t), opts); err != nil {
			t.Fatalf("set %q: %v", args, err)
		}
	}
	for _, key := range []string{"profiles.prod.quota", "profiles.sandbox.issuer"} {
		var opts *UnsetOptions
		if err := run(t, NewCmdUnset(f, func(_ context.Context, o *UnsetOptions) error { opts = o; return nil }), key); err != nil {
			t.Fatalf("unset %s: %v", key, err)
		}
		opts.ConfigFile = file
		if err := unsetRun(testctx.New(t), opts); err != nil {
			t.Fatalf("unset %s: %v", key, err)
		}
	}
	data, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "" {
		t.Fatalf("stdout %q: set and unset print on stderr only", stdout)
	}
	clitest.Golden(t, "set_unset_file.golden", string(data))
	clitest.Golden(t, "set_unset.stderr.golden", stderr.String())
}
