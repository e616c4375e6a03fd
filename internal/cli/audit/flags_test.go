package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag sets, and the usage
// error (exit 2) a bad combination or value gets before any request is sent.

func TestNewCmdOperations(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Pool, DeviceGroup, Ledger, Queries string
		Watch                                       time.Duration
	}
	group := "pools/p/deviceGroups/g"
	for _, tc := range []struct {
		name    string
		args    []string
		want    fields
		wantErr string
	}{
		{name: "defaults", want: fields{Profile: "default"}},
		{name: "pool ID", args: []string{"--pool", "retail"}, want: fields{Profile: "default", Pool: "pools/retail"}},
		{name: "pool name", args: []string{"--pool", "pools/retail"}, want: fields{Profile: "default", Pool: "pools/retail"}},
		{name: "device group", args: []string{"--device-group", group}, want: fields{Profile: "default", DeviceGroup: group}},
		{name: "watch", args: []string{"--watch", "30s"}, want: fields{Profile: "default", Watch: 30 * time.Second}},
		{name: "ledger", args: []string{"--ledger", "ledger.csv", "--ledger-query", "operation=SELECT id, owner FROM ops", "--ledger-query", "wallet=SELECT w FROM ws"},
			want: fields{Profile: "default", Ledger: "ledger.csv", Queries: "operation=SELECT id, owner FROM ops;wallet=SELECT w FROM ws"}},
		{name: "profile", args: []string{"--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "pool and group", args: []string{"--pool", "p", "--device-group", group}, wantErr: "--device-group and --pool cannot be used together"},
		{name: "bare group ID", args: []string{"--device-group", "g"}, wantErr: "is not a name of the form pools/{pool}/deviceGroups/{group}"},
		{name: "watch too short", args: []string{"--watch", "500ms"}, wantErr: "--watch 500ms: the interval must be at least 1s"},
		{name: "watch zero", args: []string{"--watch", "0"}, wantErr: "the interval must be at least 1s"},
		{name: "watch not a duration", args: []string{"--watch", "often"}, wantErr: `invalid argument "often" for "--watch"`},
		{name: "bad profile", args: []string{"--profile", "prod/eu"}, wantErr: "invalid profile name"},
		{name: "argument", args: []string{"pools/p"}, wantErr: `unexpected argument "pools/p"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdOperations), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile(), Pool: got.Pool, DeviceGroup: got.DeviceGroup, Watch: got.Watch,
				Ledger: got.Ledger.Source, Queries: strings.Join(got.Ledger.Queries, ";")}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}

func TestNewCmdQuota(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Profile, Limits, WarnAt, Since string
		NoSave                         bool
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     string // WAASCTL_PROFILE
		want    fields
		wantErr string
	}{
		{name: "defaults", want: fields{Profile: "default", WarnAt: "80%"}},
		{name: "limits", args: []string{"--limit", "wallets=10000,pools=20"}, want: fields{Profile: "default", Limits: "wallets=10000,pools=20", WarnAt: "80%"}},
		{name: "warn at", args: []string{"--warn-at", "95%"}, want: fields{Profile: "default", WarnAt: "95%"}},
		{name: "since", args: []string{"--since", "census.json"}, want: fields{Profile: "default", WarnAt: "80%", Since: "census.json"}},
		{name: "no save", args: []string{"--no-save"}, want: fields{Profile: "default", WarnAt: "80%", NoSave: true}},
		{name: "profile flag", args: []string{"--profile", "prod"}, want: fields{Profile: "prod", WarnAt: "80%"}},
		{name: "profile env", env: "staging", want: fields{Profile: "staging", WarnAt: "80%"}},
		{name: "profile flag over env", args: []string{"--profile", "prod"}, env: "staging", want: fields{Profile: "prod", WarnAt: "80%"}},
		{name: "unknown kind", args: []string{"--limit", "wallet=10"}, wantErr: "want KIND=N with KIND one of pools, wallets, device_groups, addresses"},
		{name: "limit not a number", args: []string{"--limit", "pools=many"}, wantErr: "--limit: "},
		{name: "percent above 100", args: []string{"--warn-at", "120%"}, wantErr: "want a number above 0 and at most 100, e.g. 80%"},
		{name: "percent not a number", args: []string{"--warn-at", "most"}, wantErr: "--warn-at: "},
		{name: "argument", args: []string{"wallets"}, wantErr: `unexpected argument "wallets"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(cmdutil.ProfileEnv, tc.env)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdQuota), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile(), Limits: got.Limits, WarnAt: got.WarnAt, Since: got.Since, NoSave: got.NoSave}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}

func TestNewCmdResources(t *testing.T) {
	t.Setenv(cmdutil.ProfileEnv, "")
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct{ Profile, Pool, Ledger, Queries string }
	for _, tc := range []struct {
		name    string
		args    []string
		want    fields
		wantErr string
	}{
		{name: "defaults", want: fields{Profile: "default"}},
		{name: "pool ID", args: []string{"--pool", "retail"}, want: fields{Profile: "default", Pool: "pools/retail"}},
		{name: "pool name", args: []string{"--pool", "pools/retail"}, want: fields{Profile: "default", Pool: "pools/retail"}},
		{name: "ledger", args: []string{"--ledger", "sqlite:ledger.db", "--ledger-query", "device_group=SELECT g FROM gs"},
			want: fields{Profile: "default", Ledger: "sqlite:ledger.db", Queries: "device_group=SELECT g FROM gs"}},
		{name: "profile", args: []string{"--profile", "prod"}, want: fields{Profile: "prod"}},
		{name: "empty profile", args: []string{"--profile", ""}, wantErr: "--profile must not be empty"},
		{name: "argument", args: []string{"retail"}, wantErr: `unexpected argument "retail"`},
		{name: "unknown flag", args: []string{"--device-group", "g"}, wantErr: "unknown flag: --device-group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdResources), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Profile: got.Profile(), Pool: got.Pool, Ledger: got.Ledger.Source, Queries: strings.Join(got.Ledger.Queries, ";")}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}
