package auth

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad combination gets before anything is read or sent.

func TestNewCmdAdd(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, KeyFile, Endpoint              string
		KeyStdin, NoVerify, RemoveSource, Force bool
	}
	for _, tc := range []struct {
		name              string
		args              []string
		keyFile, endpoint string // the global --key-file and --endpoint
		profileEnv        string
		want              fields
		wantErr           string
	}{
		{name: "defaults", want: fields{Profile: "default"}},
		{name: "positional profile", args: []string{"prod"}, want: fields{Profile: "prod"}},
		{name: "profile flag", args: []string{"--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "profile env", profileEnv: "staging", want: fields{Profile: "staging"}},
		{name: "same profile twice", args: []string{"prod", "--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "global key file and endpoint", args: []string{"sandbox"}, keyFile: "key.json", endpoint: "http://127.0.0.1:8080",
			want: fields{Profile: "sandbox", KeyFile: "key.json", Endpoint: "http://127.0.0.1:8080"}},
		{name: "key stdin", args: []string{"prod", "--key-stdin"}, want: fields{Profile: "prod", KeyStdin: true}},
		{name: "no verify", args: []string{"prod", "--no-verify"}, want: fields{Profile: "prod", NoVerify: true}},
		{name: "remove source", args: []string{"prod", "--remove-source"}, keyFile: "key.json", want: fields{Profile: "prod", KeyFile: "key.json", RemoveSource: true}},
		{name: "force", args: []string{"prod", "--force"}, want: fields{Profile: "prod", Force: true}},
		{name: "key file and stdin", args: []string{"prod", "--key-stdin"}, keyFile: "key.json", wantErr: "--key-file and --key-stdin cannot be used together"},
		{name: "remove source without file", args: []string{"prod", "--remove-source"}, wantErr: "--remove-source needs --key-file"},
		{name: "remove source with stdin", args: []string{"prod", "--remove-source", "--key-stdin"}, wantErr: "--remove-source needs --key-file"},
		{name: "two profiles", args: []string{"prod", "--profile", "dev"}, wantErr: `PROFILE "prod" and --profile "dev" name different profiles: give the profile once`},
		{name: "profile and env differ", args: []string{"prod"}, profileEnv: "dev", wantErr: "and WAASCTL_PROFILE"},
		{name: "bad profile name", args: []string{"prod/eu"}, wantErr: "invalid profile name"},
		{name: "two arguments", args: []string{"prod", "dev"}, wantErr: `unexpected argument "dev"`},
		{name: "key as a flag", args: []string{"prod", "--key", "x"}, wantErr: "unknown flag: --key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			env.Factory.KeyFile, env.Factory.Endpoint = tc.keyFile, tc.endpoint
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdAdd), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile, KeyFile: got.KeyFile, Endpoint: got.Endpoint, KeyStdin: got.KeyStdin,
				NoVerify: got.NoVerify, RemoveSource: got.RemoveSource, Force: got.Force}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
			if env.Factory.Profile != tc.want.Profile {
				t.Errorf("%q: the factory's profile is %q, want %q (its API client would use another key)", tc.args, env.Factory.Profile, tc.want.Profile)
			}
		})
	}
	env.Factory.KeyFile, env.Factory.Endpoint = "", ""
}

func TestNewCmdBackends(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	got, err := clitest.ParseFlags(t, env, NewCmdBackends)
	if err != nil || got.Probe == nil {
		t.Fatalf("options %+v, err %v; want a probe of each backend", got, err)
	}
	args := []string{"file"}
	_, err = clitest.ParseFlags(t, env, NewCmdBackends, args...)
	clitest.WantUsageError(t, args, err, `unexpected argument "file"`)
}

func TestNewCmdExec(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name        string
		args        []string
		profileEnv  string
		wantProfile string
		wantCommand string
		wantErr     string
	}{
		{name: "profile and command", args: []string{"prod", "--", "./proxy", "--port", "8080"}, wantProfile: "prod", wantCommand: "./proxy --port 8080"},
		{name: "profile flag", args: []string{"--profile", "prod", "--", "env"}, wantProfile: "prod", wantCommand: "env"},
		{name: "profile env", args: []string{"--", "env"}, profileEnv: "staging", wantProfile: "staging", wantCommand: "env"},
		{name: "default profile", args: []string{"--", "env"}, wantProfile: "default", wantCommand: "env"},
		{name: "no command", args: nil, wantErr: "auth exec needs a command: auth exec PROFILE -- COMMAND"},
		{name: "nothing after the dash", args: []string{"prod", "--"}, wantErr: "auth exec needs a command after --: auth exec PROFILE -- COMMAND"},
		{name: "no dash", args: []string{"prod", "env"}, wantErr: "put -- between the profile and the command"},
		{name: "two words before the dash", args: []string{"prod", "env", "--", "x"}, wantErr: "put -- between the profile and the command"},
		{name: "two profiles", args: []string{"prod", "--profile", "dev", "--", "env"}, wantErr: "name different profiles"},
		{name: "bad profile", args: []string{"../prod", "--", "env"}, wantErr: "invalid profile name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdExec), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || got.Profile != tc.wantProfile || strings.Join(got.Command, " ") != tc.wantCommand {
				t.Errorf("%q: options %+v, err %v; want profile %q, command %q", tc.args, got, err, tc.wantProfile, tc.wantCommand)
			}
		})
	}
}

func TestNewCmdList(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name         string
		args         []string
		profileEnv   string
		wantProfiles string // "" lists every profile
		wantErr      string
	}{
		{name: "every profile", wantProfiles: ""},
		{name: "profile flag", args: []string{"--profile", "prod"}, wantProfiles: "prod"},
		{name: "profile env", profileEnv: "staging", wantProfiles: "staging"},
		{name: "default named", args: []string{"--profile", "default"}, wantProfiles: "default"},
		{name: "argument", args: []string{"prod"}, wantErr: `unexpected argument "prod"`},
		{name: "bad profile", args: []string{"--profile", "a b"}, wantErr: "invalid profile name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdList), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || strings.Join(got.Profiles, ",") != tc.wantProfiles {
				t.Errorf("%q: options %+v, err %v; want profiles %q", tc.args, got, err, tc.wantProfiles)
			}
		})
	}
}

func TestNewCmdRemove(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name        string
		args        []string
		terminal    bool
		wantProfile string
		wantYes     bool
		wantErr     string
	}{
		{name: "yes", args: []string{"prod", "--yes"}, wantProfile: "prod", wantYes: true},
		{name: "y", args: []string{"prod", "-y"}, wantProfile: "prod", wantYes: true},
		{name: "default profile", args: []string{"-y"}, wantProfile: "default", wantYes: true},
		{name: "profile flag", args: []string{"--profile", "prod", "-y"}, wantProfile: "prod", wantYes: true},
		{name: "asks on a terminal", args: []string{"prod"}, terminal: true, wantProfile: "prod"},
		{name: "no terminal, no yes", args: []string{"prod"}, wantErr: "refusing to remove keys without confirmation: pass --yes"},
		{name: "two profiles", args: []string{"prod", "--profile", "dev", "-y"}, wantErr: "name different profiles"},
		{name: "two arguments", args: []string{"prod", "dev", "-y"}, wantErr: `unexpected argument "dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Factory.IOStreams.SetStdinTTY(tc.terminal)
			env.Factory.IOStreams.SetStdoutTTY(tc.terminal)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdRemove), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || got.Profile != tc.wantProfile || got.Yes != tc.wantYes {
				t.Errorf("%q: options %+v, err %v; want profile %q, yes %v", tc.args, got, err, tc.wantProfile, tc.wantYes)
			}
		})
	}
}

func TestNewCmdStatus(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name                                   string
		args                                   []string
		keyFile, endpoint, profileEnv          string
		wantProfile, wantKeyFile, wantEndpoint string
		wantErr                                string
	}{
		{name: "defaults", wantProfile: "default"},
		{name: "positional profile", args: []string{"prod"}, wantProfile: "prod"},
		{name: "profile env", profileEnv: "staging", wantProfile: "staging"},
		{name: "global key file and endpoint", keyFile: "k.json", endpoint: "https://waas.example", wantProfile: "default", wantKeyFile: "k.json", wantEndpoint: "https://waas.example"},
		{name: "profile and env differ", args: []string{"prod"}, profileEnv: "dev", wantErr: "name different profiles"},
		{name: "two arguments", args: []string{"prod", "dev"}, wantErr: `unexpected argument "dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			env.Factory.KeyFile, env.Factory.Endpoint = tc.keyFile, tc.endpoint
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdStatus), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || got.Profile != tc.wantProfile || got.KeyFile != tc.wantKeyFile || got.Endpoint != tc.wantEndpoint {
				t.Errorf("%q: options %+v, err %v; want profile %q, key file %q, endpoint %q", tc.args, got, err, tc.wantProfile, tc.wantKeyFile, tc.wantEndpoint)
			}
		})
	}
	env.Factory.KeyFile, env.Factory.Endpoint = "", ""
}
