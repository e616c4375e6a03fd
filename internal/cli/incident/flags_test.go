package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad value gets before anything is read or sent.
func TestNewCmdAssess(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Since, LeakedSince, Key, Ledger, Queries string
		LeakedAt                                          time.Time
	}
	leak := "2026-11-01T08:00:00Z"
	leakAt, _ := time.Parse(time.RFC3339, leak)
	for _, tc := range []struct {
		name       string
		args       []string
		profileEnv string
		want       fields
		wantAgo    time.Duration // --leaked-since as a duration: the time is that long before now
		wantErr    string
	}{
		{name: "defaults", want: fields{Profile: "default"}},
		{name: "positional profile", args: []string{"prod"}, want: fields{Profile: "prod"}},
		{name: "profile flag", args: []string{"--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "profile env", profileEnv: "staging", want: fields{Profile: "staging"}},
		{name: "since", args: []string{"prod", "--since", "prod-20261101T000000.000Z.jsonl"}, want: fields{Profile: "prod", Since: "prod-20261101T000000.000Z.jsonl"}},
		{name: "leaked since a time", args: []string{"prod", "--leaked-since", leak}, want: fields{Profile: "prod", LeakedSince: leak, LeakedAt: leakAt}},
		{name: "leaked since hours ago", args: []string{"prod", "--leaked-since", "36h"}, want: fields{Profile: "prod", LeakedSince: "36h"}, wantAgo: 36 * time.Hour},
		{name: "leaked since days ago", args: []string{"prod", "--leaked-since", "2d"}, want: fields{Profile: "prod", LeakedSince: "2d"}, wantAgo: 48 * time.Hour},
		{name: "since and leaked since", args: []string{"prod", "--since", "base.jsonl", "--leaked-since", leak},
			want: fields{Profile: "prod", Since: "base.jsonl", LeakedSince: leak, LeakedAt: leakAt}},
		{name: "key", args: []string{"prod", "--key", "SHA256:E3LZG0UcxP4r"}, want: fields{Profile: "prod", Key: "SHA256:E3LZG0UcxP4r"}},
		{name: "ledger", args: []string{"prod", "--ledger", "postgres://auditor@db/ledger", "--ledger-query", "operation=SELECT id FROM ops"},
			want: fields{Profile: "prod", Ledger: "postgres://auditor@db/ledger", Queries: "operation=SELECT id FROM ops"}},
		{name: "leaked since not a time", args: []string{"prod", "--leaked-since", "yesterday"}, wantErr: `--leaked-since: "yesterday" is neither an RFC 3339 time (2026-11-01T08:00:00Z) nor a duration ago (36h, 2d)`},
		{name: "leaked since in the future", args: []string{"prod", "--leaked-since", "2999-01-01T00:00:00Z"}, wantErr: "is in the future; give when the key may first have leaked"},
		{name: "negative duration", args: []string{"prod", "--leaked-since", "-36h"}, wantErr: "is in the future"},
		{name: "two profiles", args: []string{"prod", "--profile", "dev"}, wantErr: "name different profiles: give the profile once"},
		{name: "two arguments", args: []string{"prod", "dev"}, wantErr: `unexpected argument "dev"`},
		{name: "bad profile", args: []string{"prod!"}, wantErr: "invalid profile name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.profileEnv)
			before := time.Now()
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdAssess), tc.args...)
			after := time.Now()
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile, Since: got.Since, LeakedSince: got.LeakedSince, Key: got.Key,
				Ledger: got.Ledger.Source, Queries: strings.Join(got.Ledger.Queries, ";"), LeakedAt: got.leakedSince}
			if tc.wantAgo != 0 {
				if got.leakedSince.Before(before.Add(-tc.wantAgo)) || got.leakedSince.After(after.Add(-tc.wantAgo)) {
					t.Errorf("%q: leaked since %s, want %s before now (%s)", tc.args, got.leakedSince, tc.wantAgo, before)
				}
				f.LeakedAt = time.Time{}
			}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
			// The API client and the team store read the factory's profile.
			if env.Factory.Profile != tc.want.Profile {
				t.Errorf("%q: the factory's profile is %q, want %q", tc.args, env.Factory.Profile, tc.want.Profile)
			}
		})
	}
}
