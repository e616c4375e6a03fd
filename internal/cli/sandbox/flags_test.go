package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/sandbox"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag sets, and the usage
// error (exit 2) a bad value gets before a sandbox is started.

func TestNewCmdDemo(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		name    string
		args    []string
		dsnEnv  string // WAASCTL_STATE_DSN
		wantDSN string
		wantErr string
	}{
		{name: "defaults"},
		{name: "state dsn", args: []string{"--state-dsn", "postgres://admin@db:5432/postgres"}, wantDSN: "postgres://admin@db:5432/postgres"},
		{name: "postgresql scheme", args: []string{"--state-dsn", "postgresql://admin@db/postgres"}, wantDSN: "postgresql://admin@db/postgres"},
		{name: "state dsn from the environment", dsnEnv: " postgres://ci@localhost/postgres ", wantDSN: "postgres://ci@localhost/postgres"},
		{name: "flag over the environment", args: []string{"--state-dsn", "postgres://a@x/p"}, dsnEnv: "postgres://b@y/p", wantDSN: "postgres://a@x/p"},
		{name: "not a postgres URL", args: []string{"--state-dsn", "host=db user=admin"}, wantErr: "the team step's DSN (--state-dsn or WAASCTL_STATE_DSN) must be a postgres:// URL"},
		{name: "sqlite from the environment", dsnEnv: "sqlite:state.db", wantErr: "must be a postgres:// URL"},
		{name: "argument", args: []string{"fast"}, wantErr: `unexpected argument "fast"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(config.StateDSNEnv, tc.dsnEnv)
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdDemo), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			// The demo's estate is fixed: the walk-through's text refers to it.
			want := sandbox.EstateShape{Pools: 3, WalletsPerPool: 4, AddressesPerWallet: 1, OperationsPerGroup: 2}
			if err != nil || got.StateDSN != tc.wantDSN || got.Seed != 42 || got.Shape != want {
				t.Errorf("%q: options %+v, err %v; want state DSN %q, seed 42, shape %+v", tc.args, got, err, tc.wantDSN, want)
			}
		})
	}
}

func TestNewCmdServe(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	type fields struct {
		Addr, BootstrapKeyFile, StatePath, RateLimits string
		AllowRemote, Force, Verbose                   bool
		Seed                                          int64
		Shape                                         sandbox.EstateShape
		Latency                                       time.Duration
		FaultRate                                     float64
		RevocationDelay                               int
	}
	def := fields{Addr: "127.0.0.1:0", Seed: 1, Shape: sandbox.EstateShape{Pools: 3, WalletsPerPool: 10, AddressesPerWallet: 1, OperationsPerGroup: 1, WalletsPerGroup: 1}}
	with := func(change func(*fields)) fields { f := def; change(&f); return f }
	for _, tc := range []struct {
		name    string
		args    []string
		want    fields
		wantErr string
	}{
		{name: "defaults", want: def},
		{name: "addr", args: []string{"--addr", "127.0.0.1:8080"}, want: with(func(f *fields) { f.Addr = "127.0.0.1:8080" })},
		{name: "remote addr allowed", args: []string{"--addr", "0.0.0.0:8080", "--allow-remote"}, want: with(func(f *fields) { f.Addr, f.AllowRemote = "0.0.0.0:8080", true })},
		{name: "bootstrap key", args: []string{"--bootstrap-key-file", "key.json", "--force"}, want: with(func(f *fields) { f.BootstrapKeyFile, f.Force = "key.json", true })},
		{name: "estate", args: []string{"--seed", "7", "--pools", "2", "--wallets-per-pool", "1000", "--addresses-per-wallet", "3", "--operations-per-group", "0", "--wallets-per-group", "10"},
			want: with(func(f *fields) {
				f.Seed, f.Shape = 7, sandbox.EstateShape{Pools: 2, WalletsPerPool: 1000, AddressesPerWallet: 3, OperationsPerGroup: 0, WalletsPerGroup: 10}
			})},
		{name: "faults", args: []string{"--latency", "20ms", "--fault-rate", "0.1", "--revocation-delay", "5"},
			want: with(func(f *fields) { f.Latency, f.FaultRate, f.RevocationDelay = 20*time.Millisecond, 0.1, 5 })},
		{name: "rate limits", args: []string{"--rate-limit", "25/1s,burst=50,scope=org", "--rate-limit", "100/1s,penalty=30s"},
			want: with(func(f *fields) { f.RateLimits = "25/1s,burst=50,scope=org;100/1s,penalty=30s" })},
		{name: "state and verbose", args: []string{"--state", "estate.json", "-v"}, want: with(func(f *fields) { f.StatePath, f.Verbose = "estate.json", true })},
		{name: "remote addr", args: []string{"--addr", "0.0.0.0:8080"}, wantErr: "--addr: "},
		{name: "negative pools", args: []string{"--pools", "-1"}, wantErr: "--pools must not be negative"},
		{name: "negative latency", args: []string{"--latency", "-1s"}, wantErr: "--latency must not be negative"},
		{name: "fault rate above 1", args: []string{"--fault-rate", "10"}, wantErr: "--fault-rate must be between 0 and 1, e.g. 0.1"},
		{name: "negative revocation delay", args: []string{"--revocation-delay", "-2"}, wantErr: "--revocation-delay must not be negative: it counts requests"},
		{name: "bad rate limit", args: []string{"--rate-limit", "fast"}, wantErr: "--rate-limit: "},
		{name: "pools not a number", args: []string{"--pools", "many"}, wantErr: `invalid argument "many" for "--pools"`},
		{name: "argument", args: []string{"8080"}, wantErr: `unexpected argument "8080"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdServe), tc.args...)
			if tc.wantErr != "" {
				clitest.WantUsageError(t, tc.args, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			f := fields{Addr: got.Addr, BootstrapKeyFile: got.BootstrapKeyFile, StatePath: got.StatePath, RateLimits: strings.Join(got.RateLimits, ";"),
				AllowRemote: got.AllowRemote, Force: got.Force, Verbose: got.Verbose, Seed: got.Seed, Shape: got.Shape,
				Latency: got.Latency, FaultRate: got.FaultRate, RevocationDelay: got.RevocationDelay}
			if f != tc.want {
				t.Errorf("%q: options %+v, want %+v", tc.args, f, tc.want)
			}
		})
	}
}
