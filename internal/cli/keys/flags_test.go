package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad combination or value gets before the keyring is opened or
// a request sent.

func TestNewCmdCheck(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name         string
		args         []string
		profileEnv   string
		wantProfiles string // "" checks every profile
		wantMaxAge   string
		wantOffline  bool
		wantErr      string
	}{
		{name: "every profile"},
		{name: "profiles", args: []string{"prod", "dev"}, wantProfiles: "prod,dev"},
		{name: "profile flag", args: []string{"--profile", "prod"}, wantProfiles: "prod"},
		{name: "profile env", profileEnv: "staging", wantProfiles: "staging"},
		{name: "max age", args: []string{"--max-age", "90d"}, wantMaxAge: "90d"},
		{name: "offline", args: []string{"prod", "--offline"}, wantProfiles: "prod", wantOffline: true},
		{name: "bad max age", args: []string{"--max-age", "ninety"}, wantErr: "--max-age: "},
		{name: "profile and flag differ", args: []string{"prod", "--profile", "dev"}, wantErr: "name different profiles: give the profile once"},
		{name: "bad profile", args: []string{"prod", "../dev"}, wantErr: "invalid profile name"},
		{name: "empty profile", args: []string{""}, wantErr: "PROFILE must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdCheck), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			// --offline: no verifier, so no key is sent to WaaS.
			if strings.Join(got.Profiles, ",") != tc.wantProfiles || got.MaxAge != tc.wantMaxAge || (got.Verify == nil) != tc.wantOffline {
				t.Errorf("%q: profiles %q, max age %q, verifier %v; want %q, %q, offline %v", tc.args, got.Profiles, got.MaxAge, got.Verify != nil, tc.wantProfiles, tc.wantMaxAge, tc.wantOffline)
			}
		})
	}
}

func TestNewCmdRevoke(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Key, Reason, Issuer string
		RotateFirst, Force, Yes      bool
	}
	secret := clitest.FixedKey(t, 1, time.Time{}, "test").PrivateKey
	reason := "key pasted in a public issue"
	for _, tc := range []struct {
		name     string
		args     []string
		terminal bool
		want     fields
		wantErr  string
	}{
		{name: "current key", args: []string{"prod", "--reason", reason, "--yes"}, want: fields{Profile: "prod", Reason: reason, Yes: true}},
		{name: "default profile", args: []string{"--reason", reason, "-y"}, want: fields{Profile: "default", Reason: reason, Yes: true}},
		{name: "profile flag", args: []string{"--profile", "prod", "--reason", reason, "-y"}, want: fields{Profile: "prod", Reason: reason, Yes: true}},
		{name: "key", args: []string{"prod", "--key", "SHA256:E3LZG0UcxP4r", "--reason", reason, "-y"}, want: fields{Profile: "prod", Key: "SHA256:E3LZG0UcxP4r", Reason: reason, Yes: true}},
		{name: "issuer", args: []string{"prod", "--issuer", "exec", "--reason", reason, "-y"}, want: fields{Profile: "prod", Issuer: "exec", Reason: reason, Yes: true}},
		{name: "rotate first", args: []string{"prod", "--rotate-first", "--reason", reason, "-y"}, want: fields{Profile: "prod", Reason: reason, RotateFirst: true, Yes: true}},
		{name: "force", args: []string{"prod", "--force", "--reason", reason, "-y"}, want: fields{Profile: "prod", Reason: reason, Force: true, Yes: true}},
		{name: "asks on a terminal", args: []string{"prod", "--reason", reason}, terminal: true, want: fields{Profile: "prod", Reason: reason}},
		{name: "no reason", args: []string{"prod", "-y"}, wantErr: "--reason is required: say why, for the audit log"},
		{name: "blank reason", args: []string{"prod", "--reason", "  ", "-y"}, wantErr: "--reason is required"},
		{name: "key as the reason", args: []string{"prod", "--reason", secret, "-y"}, wantErr: "--reason holds private key material (a PEM key, or a key in base64 or hex); describe the incident instead"},
		{name: "rotate first and force", args: []string{"prod", "--rotate-first", "--force", "--reason", reason, "-y"}, wantErr: "--force and --rotate-first cannot be used together"},
		{name: "no terminal, no yes", args: []string{"prod", "--reason", reason}, wantErr: "refusing to revoke without confirmation: pass --yes"},
		{name: "unknown issuer", args: []string{"prod", "--issuer", "portal", "--reason", reason, "-y"}, wantErr: `--issuer "portal": want sandbox, manual or exec`},
		{name: "two profiles", args: []string{"prod", "--profile", "dev", "--reason", reason, "-y"}, wantErr: "name different profiles"},
		{name: "two arguments", args: []string{"prod", "dev", "--reason", reason, "-y"}, wantErr: `unexpected argument "dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Factory.IOStreams.SetStdinTTY(tc.terminal)
			env.Factory.IOStreams.SetStdoutTTY(tc.terminal)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdRevoke), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				if err != nil && strings.Contains(err.Error(), secret[:24]) {
					t.Errorf("the usage error quotes the key")
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile, Key: got.Key, Reason: got.Reason, Issuer: got.Issuer, RotateFirst: got.RotateFirst, Force: got.Force, Yes: got.Yes}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}

func TestNewCmdRotate(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Issuer, Grace                                         string
		DryRun, Resume, Abort, Yes, Wait, NoSnapshot, Force, RevokeAll bool
	}
	for _, tc := range []struct {
		name       string
		args       []string
		profileEnv string
		terminal   bool
		want       fields
		wantErr    string
	}{
		{name: "yes", args: []string{"prod", "--yes"}, want: fields{Profile: "prod", Yes: true}},
		{name: "default profile", args: []string{"-y"}, want: fields{Profile: "default", Yes: true}},
		{name: "profile env", args: []string{"-y"}, profileEnv: "staging", want: fields{Profile: "staging", Yes: true}},
		{name: "asks on a terminal", args: []string{"prod"}, terminal: true, want: fields{Profile: "prod"}},
		{name: "dry run needs no yes", args: []string{"prod", "--dry-run"}, want: fields{Profile: "prod", DryRun: true}},
		{name: "resume needs no yes", args: []string{"prod", "--resume"}, want: fields{Profile: "prod", Resume: true}},
		{name: "abort needs no yes", args: []string{"prod", "--abort", "--force"}, want: fields{Profile: "prod", Abort: true, Force: true}},
		{name: "issuer and grace", args: []string{"prod", "--issuer", "manual", "--grace", "24h", "-y"}, want: fields{Profile: "prod", Issuer: "manual", Grace: "24h", Yes: true}},
		{name: "grace in days", args: []string{"prod", "--grace", "2d", "-y"}, want: fields{Profile: "prod", Grace: "2d", Yes: true}},
		{name: "wait, no snapshot, revoke shared", args: []string{"prod", "--wait", "--no-snapshot", "--revoke-shared", "-y"},
			want: fields{Profile: "prod", Wait: true, NoSnapshot: true, RevokeAll: true, Yes: true}},
		{name: "resume and abort", args: []string{"prod", "--resume", "--abort"}, wantErr: "--abort and --resume cannot be used together"},
		{name: "dry run and resume", args: []string{"prod", "--dry-run", "--resume"}, wantErr: "--dry-run and --resume cannot be used together"},
		{name: "bad grace", args: []string{"prod", "--grace", "a day", "-y"}, wantErr: "--grace: "},
		{name: "unknown issuer", args: []string{"prod", "--issuer", "vault", "-y"}, wantErr: `--issuer "vault": want sandbox, manual or exec`},
		{name: "no terminal, no yes", args: []string{"prod"}, wantErr: "refusing to rotate without confirmation: pass --yes"},
		{name: "profile and env differ", args: []string{"prod", "-y"}, profileEnv: "dev", wantErr: "name different profiles"},
		{name: "two arguments", args: []string{"prod", "dev", "-y"}, wantErr: `unexpected argument "dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			env.Factory.IOStreams.SetStdinTTY(tc.terminal)
			env.Factory.IOStreams.SetStdoutTTY(tc.terminal)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdRotate), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile, Issuer: got.Issuer, Grace: got.Grace, DryRun: got.DryRun, Resume: got.Resume, Abort: got.Abort,
				Yes: got.Yes, Wait: got.Wait, NoSnapshot: got.NoSnapshot, Force: got.Force, RevokeAll: got.RevokeShared}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
			if got.Emergency {
				t.Errorf("%q: a rotation from the command line is not an emergency one (that is keys revoke --rotate-first)", tc.args)
			}
		})
	}
}

func TestNewCmdStatus(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name         string
		args         []string
		profileEnv   string
		wantProfiles string // "" shows every profile
		wantErr      string
	}{
		{name: "every profile"},
		{name: "profiles", args: []string{"prod", "dev"}, wantProfiles: "prod,dev"},
		{name: "profile flag", args: []string{"--profile", "prod"}, wantProfiles: "prod"},
		{name: "profile env", profileEnv: "staging", wantProfiles: "staging"},
		{name: "same profile twice", args: []string{"prod", "--profile", "prod"}, wantProfiles: "prod"},
		{name: "profile and env differ", args: []string{"prod"}, profileEnv: "dev", wantErr: "name different profiles"},
		{name: "bad profile", args: []string{"prod:eu"}, wantErr: "invalid profile name"},
		{name: "unknown flag", args: []string{"--all"}, wantErr: "unknown flag: --all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdStatus), tc.args...)
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
