package configcmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
)

func testFactory() (*cmdutil.Factory, *iostreams.IOStreams, interface{ String() string }, interface{ String() string }) {
	ios, _, stdout, stderr := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios}, ios, stdout, stderr
}

// run executes one verb's command with args, its run function replaced by runF.
func run(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(new(strings.Builder))
	cmd.SetErr(new(strings.Builder))
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(context.Background())
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fixed(path string) func() (string, error) { return func() (string, error) { return path, nil } }

// ---- flags into options ----

func TestSetFlagsToOptions(t *testing.T) {
	f, _, _, _ := testFactory()
	var got *SetOptions
	cmd := NewCmdSet(f, func(_ context.Context, o *SetOptions) error { got = o; return nil })
	// Every word after KEY is the command, its flags included.
	if err := run(t, cmd, "profiles.prod.issuer.command", "waas-issuer", "--org", "acme", "-v"); err != nil {
		t.Fatal(err)
	}
	if got.Key.String() != "profiles.prod.issuer.command" || len(got.Value.Content) != 4 || got.Value.Content[3].Value != "-v" {
		t.Fatalf("%v %+v", got.Key, got.Value)
	}

	for _, bad := range [][]string{
		{"profiles.prod.endpoint"},                 // no value
		{"profiles..prod", "x"},                    // bad key
		{"profiles.prod.quota.pools", "twenty"},    // not a number
		{"profiles.prod.policy.grace", "1h", "2h"}, // one value
	} {
		cmd := NewCmdSet(f, func(context.Context, *SetOptions) error { t.Fatal("ran"); return nil })
		var fe *cmdutil.FlagError
		if err := run(t, cmd, bad...); !errors.As(err, &fe) {
			t.Errorf("set %v: %v, want a usage error", bad, err)
		}
	}
}

// A key pasted as a value is refused before anything is written, and never quoted back.
func TestSetRefusesAPrivateKey(t *testing.T) {
	secret := newPEM(t)
	f, _, _, _ := testFactory()
	cmd := NewCmdSet(f, func(context.Context, *SetOptions) error { t.Fatal("ran"); return nil })
	err := run(t, cmd, "profiles.prod.endpoint", secret)
	if err == nil || strings.Contains(err.Error(), strings.Split(secret, "\n")[1]) || !strings.Contains(err.Error(), "holds a private key") {
		t.Fatalf("%v", err)
	}
}

func TestValidateFlagsToOptions(t *testing.T) {
	f, _, _, _ := testFactory()
	var got *ValidateOptions
	cmd := NewCmdValidate(f, func(_ context.Context, o *ValidateOptions) error { got = o; return nil })
	if err := run(t, cmd, "prod", "dev", "--check-ledger"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Profiles, ",") != "prod,dev" || !got.CheckLedger {
		t.Fatalf("%+v", got)
	}
	cmd = NewCmdValidate(f, func(context.Context, *ValidateOptions) error { return nil })
	var fe *cmdutil.FlagError
	if err := run(t, cmd, "bad/name"); !errors.As(err, &fe) {
		t.Fatalf("%v", err)
	}
}

func TestGetAndUnsetFlagsToOptions(t *testing.T) {
	f, _, _, _ := testFactory()
	var key string
	get := NewCmdGet(f, func(_ context.Context, o *GetOptions) error { key = o.Key.String(); return nil })
	if err := run(t, get, "profiles[eu.prod].sinks.0.path"); err != nil || key != "profiles[eu.prod].sinks[0].path" {
		t.Fatalf("%q %v", key, err)
	}
	unset := NewCmdUnset(f, func(_ context.Context, o *UnsetOptions) error { key = o.Key.String(); return nil })
	if err := run(t, unset, "profiles.prod.sinks[1]"); err != nil || key != "profiles.prod.sinks[1]" {
		t.Fatalf("%q %v", key, err)
	}
}

func TestViewRefusesTableOutput(t *testing.T) {
	f, _, _, _ := testFactory()
	f.Output = cmdutil.OutputCSV
	cmd := NewCmdView(f, func(context.Context, *ViewOptions) error { t.Fatal("ran"); return nil })
	var fe *cmdutil.FlagError
	if err := run(t, cmd); !errors.As(err, &fe) {
		t.Fatalf("%v", err)
	}
}

// ---- run functions ----

// The canary: a ledger DSN's password, and a key pasted where it does not belong, never reach
// stdout or stderr of view or get, whatever the output format.
func TestViewAndGetNeverPrintSecrets(t *testing.T) {
	const password = "Canary-pw-7d1f0c"
	path := writeConfig(t, `# ops
profiles:
  prod:
    ledger:
      dsn: postgres://auditor:`+password+`@db.internal:5432/ledger?sslmode=require # the replica
    state:
      dsn: "host=db user=waasctl password=`+password+` dbname=state"
  dev:
    ledger: {dsn: "postgresql://u:`+password+`@localhost/l"}
`)
	for _, format := range []cmdutil.OutputFormat{cmdutil.OutputDefault, cmdutil.OutputJSON} {
		ios, _, stdout, stderr := iostreams.Test()
		if err := viewRun(context.Background(), &ViewOptions{IO: ios, ConfigFile: fixed(path), Output: func() cmdutil.OutputFormat { return format }}); err != nil {
			t.Fatal(err)
		}
		out := stdout.String() + stderr.String()
		if strings.Contains(out, password) || !strings.Contains(out, "auditor:xxxxx@db.internal") || !strings.Contains(out, "password=xxxxx") {
			t.Fatalf("-o %q:\n%s", format, out)
		}
		if format == cmdutil.OutputDefault && (!strings.Contains(out, "# the replica") || !strings.HasPrefix(out, "# ops")) {
			t.Fatalf("comments lost:\n%s", out)
		}
	}
	for _, key := range []string{"profiles.prod.ledger.dsn", "profiles.prod.ledger", "profiles.prod", "profiles", "profiles.dev.ledger.dsn"} {
		ios, _, stdout, stderr := iostreams.Test()
		k, _ := config.ParseKeyPath(key)
		if err := getRun(context.Background(), &GetOptions{IO: ios, ConfigFile: fixed(path), Key: k}); err != nil {
			t.Fatal(err)
		}
		if out := stdout.String() + stderr.String(); strings.Contains(out, password) || !strings.Contains(out, "xxxxx") {
			t.Fatalf("get %s:\n%s", key, out)
		}
	}
}

func TestGetPrintsValuesAndSections(t *testing.T) {
	path := writeConfig(t, "profiles:\n  prod:\n    endpoint: https://x.example\n    sinks: [{type: envfile, path: /a.env}]\n")
	for key, want := range map[string]string{
		"profiles.prod.endpoint":      "https://x.example\n",
		"profiles.prod.sinks[0].path": "/a.env\n",
		"profiles.prod.sinks[0]":      "type: envfile\npath: /a.env\n",
	} {
		ios, _, stdout, _ := iostreams.Test()
		k, _ := config.ParseKeyPath(key)
		if err := getRun(context.Background(), &GetOptions{IO: ios, ConfigFile: fixed(path), Key: k}); err != nil || stdout.String() != want {
			t.Errorf("get %s = %q, %v; want %q", key, stdout.String(), err, want)
		}
	}
	ios, _, stdout, _ := iostreams.Test()
	k, _ := config.ParseKeyPath("profiles.prod.policy")
	var ee *cmdutil.ExitError
	if err := getRun(context.Background(), &GetOptions{IO: ios, ConfigFile: fixed(path), Key: k}); !errors.As(err, &ee) || ee.Code != 1 || stdout.Len() != 0 {
		t.Fatalf("unset key: %v, %q", err, stdout.String())
	}
}

func TestSetAndUnsetRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "config.yaml")
	ios, _, _, _ := iostreams.Test()
	k, _ := config.ParseKeyPath("profiles.prod.sinks[+]")
	v, err := config.ValueNode(k, []string{"{type: envfile, path: /a.env}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := setRun(context.Background(), &SetOptions{IO: ios, ConfigFile: fixed(path), Key: k, Value: v}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	k, _ = config.ParseKeyPath("profiles.prod.sinks[0]")
	if err := unsetRun(context.Background(), &UnsetOptions{IO: ios, ConfigFile: fixed(path), Key: k}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(path)
	if err != nil || len(cfg.Profiles["prod"].Sinks) != 0 {
		t.Fatalf("%+v %v", cfg, err)
	}
	// Unsetting what is not set changes nothing and is not an error.
	before, _ := os.ReadFile(path)
	k, _ = config.ParseKeyPath("profiles.nope.endpoint")
	if err := unsetRun(context.Background(), &UnsetOptions{IO: ios, ConfigFile: fixed(path), Key: k}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("file changed")
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, `profiles:
  prod:
    issuer: {type: exec, command: [waas-issuer-missing]}
    sinks:
      - {type: envfile, path: `+filepath.Join(dir, "nofolder", "a.env")+`}
      - {type: envfile, path: `+filepath.Join(dir, "ok.env")+`, restart: [no-such-restart]}
      - {type: exec, command: [sh, -c, "cat >/dev/null"]}
  dev:
    issuer: {type: sandbox}
`)
	lookPath := func(name string) (string, error) {
		if name == "sh" {
			return "/bin/sh", nil
		}
		return "", exec.ErrNotFound
	}
	ios, _, stdout, stderr := iostreams.Test()
	err := validateRun(context.Background(), &ValidateOptions{IO: ios, ConfigFile: fixed(path), LookPath: lookPath})
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitFailure {
		t.Fatalf("%v", err)
	}
	want := []string{
		path + `:3:36: profiles.prod.issuer.command[0]: issuer command "waas-issuer-missing": not found on PATH`,
		path + `:5:31: profiles.prod.sinks[0].path: envfile ` + filepath.Join(dir, "nofolder", "a.env") + `: its folder ` + filepath.Join(dir, "nofolder") + ` does not exist; create it, or fix the sink's path`,
		path + `:6:` + itoa(43+len(filepath.Join(dir, "ok.env"))) + `: profiles.prod.sinks[1].restart[0]: restart command "no-such-restart": not found on PATH`,
	}
	if got := strings.TrimSpace(stdout.String()); got != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if stderr.String() != "3 problems in "+path+"\n" {
		t.Fatalf("stderr %q", stderr.String())
	}
	// Limited to dev, nothing is wrong.
	ios, _, stdout, _ = iostreams.Test()
	if err := validateRun(context.Background(), &ValidateOptions{IO: ios, ConfigFile: fixed(path), LookPath: lookPath, Profiles: []string{"dev"}}); err != nil || stdout.Len() != 0 {
		t.Fatalf("%v %q", err, stdout.String())
	}
}

func TestValidateReportsYAMLErrorsWithTheirLine(t *testing.T) {
	path := writeConfig(t, "profiles:\n  prod:\n    endpoint: https://x\n   issuer: {type: sandbox}\n")
	ios, _, stdout, _ := iostreams.Test()
	err := validateRun(context.Background(), &ValidateOptions{IO: ios, ConfigFile: fixed(path), LookPath: exec.LookPath})
	if err == nil || !strings.HasPrefix(stdout.String(), path+":4: YAML syntax: ") {
		t.Fatalf("%v %q", err, stdout.String())
	}
	path = writeConfig(t, "profiles:\n  prod:\n    polcy: {max_age: 90d}\n    quota: {pools: x}\n")
	ios, _, stdout, _ = iostreams.Test()
	_ = validateRun(context.Background(), &ValidateOptions{IO: ios, ConfigFile: fixed(path), LookPath: exec.LookPath})
	if !strings.Contains(stdout.String(), path+`:3:5: profiles.prod.polcy: unknown key "polcy"`) || !strings.Contains(stdout.String(), path+`:4:20: profiles.prod.quota.pools: want a whole number`) {
		t.Fatalf("%s", stdout.String())
	}
}

func TestProfilesRun(t *testing.T) {
	path := writeConfig(t, "profiles:\n  prod:\n    endpoint: https://x.example\n    issuer: {type: manual}\n    sinks: [{type: envfile, path: /a.env}, {type: exec, command: [vault-put]}]\n    policy: {max_age: 90d, grace: 24h}\n  dev: {}\n")
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	store := credentials.NewMemoryStore()
	putKey(t, store, "prod")
	putKey(t, store, "orphan")
	ios, _, stdout, _ := iostreams.Test()
	opts := &ProfilesOptions{IO: ios, Config: func() (*config.Config, error) { return cfg, nil },
		Keyring: func() (credentials.Store, error) { return store, nil },
		Output:  func() cmdutil.OutputFormat { return "" }, Getenv: func(string) string { return "" }}
	if err := profilesRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "dev\thttps://api.developer.coinbase.com\tno\tnone: waasctl auth add dev\t-\t-\t-\t-\n" +
		"orphan\thttps://api.developer.coinbase.com\tyes\tkeyring memory\t-\t-\t-\t-\n" +
		"prod\thttps://x.example\tyes\tkeyring memory\tmanual\tenvfile /a.env, exec vault-put\t90d\t24h\n"
	if stdout.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", stdout.String(), want)
	}
	// A keyring that cannot be opened (a passphrase and no terminal) makes "unknown", not a failure.
	ios, _, stdout, stderr := iostreams.Test()
	opts.IO, opts.Keyring = ios, func() (credentials.Store, error) { return nil, errors.New("the file keyring needs a passphrase") }
	if err := profilesRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "prod\thttps://x.example\tunknown\t") || !strings.Contains(stderr.String(), "warning: the keyring cannot be opened") {
		t.Fatalf("%s\n%s", stdout.String(), stderr.String())
	}
}

func newPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := credentials.EncodeSEC1PEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

func putKey(t *testing.T, store credentials.Store, profile string) {
	t.Helper()
	name := "organizations/b901e753-3856-4a64-846e-29297af8c16d/apiKeys/d0c2b17e-d392-4f31-87e9-485be7e8775" + string(rune('0'+len(profile)%10))
	if err := store.Put(context.Background(), &credentials.Item{Profile: profile, Current: &credentials.StoredKey{Name: name, PrivateKey: newPEM(t)}}); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFindCommand(t *testing.T) {
	dir := t.TempDir()
	exe, plain := filepath.Join(dir, "tool"), filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	for name, want := range map[string]string{
		"tool": "", exe: "", "no-such-tool": "not found on PATH",
		filepath.Join(dir, "gone"): "no such file", plain: "not executable",
	} {
		err := findCommand(exec.LookPath, name)
		if (want == "" && err != nil) || (want != "" && (err == nil || err.Error() != want)) {
			t.Errorf("findCommand(%s) = %v, want %q", name, err, want)
		}
	}
}
