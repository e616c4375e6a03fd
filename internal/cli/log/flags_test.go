package log

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag sets, and the usage
// error (exit 2) a bad value gets before the log is opened.

func TestNewCmdShow(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Since string
		Limit          int
		Local          bool
	}
	for _, tc := range []struct {
		name       string
		args       []string
		profileEnv string
		want       fields
		wantErr    string
	}{
		{name: "every profile", want: fields{}},
		{name: "for profile", args: []string{"--for-profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "profile flag", args: []string{"--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "profile env", profileEnv: "staging", want: fields{Profile: "staging"}},
		{name: "for profile and env agree", args: []string{"--for-profile", "prod"}, profileEnv: "prod", want: fields{Profile: "prod"}},
		{name: "since a duration", args: []string{"--since", "7d"}, want: fields{Since: "7d"}},
		{name: "since a date", args: []string{"--since", "2026-03-01"}, want: fields{Since: "2026-03-01"}},
		{name: "since a time", args: []string{"--since", "2026-03-01T12:00:00Z"}, want: fields{Since: "2026-03-01T12:00:00Z"}},
		{name: "limit", args: []string{"--limit", "20"}, want: fields{Limit: 20}},
		{name: "local", args: []string{"--local"}, want: fields{Local: true}},
		{name: "negative limit", args: []string{"--limit", "-1"}, wantErr: "--limit must not be negative (0 shows every entry)"},
		{name: "limit not a number", args: []string{"--limit", "all"}, wantErr: `invalid argument "all" for "--limit"`},
		{name: "since not a time", args: []string{"--since", "last week"}, wantErr: `--since "last week": want a duration such as 24h or 7d, or a time such as 2026-03-01`},
		{name: "for profile and profile differ", args: []string{"--for-profile", "prod", "--profile", "dev"}, wantErr: "name different profiles: give the profile once"},
		{name: "bad profile", args: []string{"--for-profile", "prod/eu"}, wantErr: "invalid profile name"},
		{name: "argument", args: []string{"prod"}, wantErr: `unexpected argument "prod"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdShow), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			if f := (fields{Profile: got.Profile, Since: got.Since, Limit: got.Limit, Local: got.Local}); f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}

func TestNewCmdVerify(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	anchor := "42:" + strings.Repeat("3f", 32)
	for _, tc := range []struct {
		name        string
		args        []string
		profileEnv  string
		wantProfile string
		wantAnchors string
		wantLocal   bool
		wantErr     string
	}{
		{name: "defaults"},
		{name: "profile flag", args: []string{"--profile", "prod"}, wantProfile: "prod"},
		{name: "profile env", profileEnv: "staging", wantProfile: "staging"},
		{name: "anchors", args: []string{"--anchor", anchor, "--anchor", "7:" + strings.Repeat("AB", 32)}, wantAnchors: anchor + ";7:" + strings.Repeat("AB", 32)},
		{name: "local", args: []string{"--local"}, wantLocal: true},
		{name: "anchor without hash", args: []string{"--anchor", "42"}, wantErr: "--anchor: checkpoint \"42\": want SEQ:HASH, e.g. 17:<64 hex digits>, as `waasctl log verify` prints it"},
		{name: "anchor with short hash", args: []string{"--anchor", "42:3f1c"}, wantErr: "want SEQ:HASH"},
		{name: "anchor at seq 0", args: []string{"--anchor", "0:" + strings.Repeat("3f", 32)}, wantErr: "want SEQ:HASH"},
		{name: "bad profile", args: []string{"--profile", "a b"}, wantErr: "invalid profile name"},
		{name: "argument", args: []string{"audit.log"}, wantErr: `unexpected argument "audit.log"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdVerify), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil || got.Profile != tc.wantProfile || strings.Join(got.Anchors, ";") != tc.wantAnchors || got.Local != tc.wantLocal {
				t.Errorf("%q: options %+v, err %v; want profile %q, anchors %q, local %v", tc.args, got, err, tc.wantProfile, tc.wantAnchors, tc.wantLocal)
			}
		})
	}
}
