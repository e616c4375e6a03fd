package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// TestMain lets the test binary double as the waasctl binary: testscript puts a copy named
// "waasctl" on the scripts' PATH, and when run under that name it calls main. Scripts therefore
// test exactly what users run, in a separate process with real exit codes.
func TestMain(m *testing.M) {
	// The scripts (and the crash harness, which runs this binary as waasctl too) run hundreds of
	// waasctl commands; deriving each file keyring item's key at the product's cost would add
	// minutes. Here and in every waasctl child, new items get the cheapest accepted cost.
	credentials.SetFileKDFCostForTesting(credentials.MinFileKDFIterations)
	testscript.Main(m, map[string]func(){
		"waasctl": main,
	})
}

// TestScripts runs testdata/script/*.txtar. Add a scenario by adding a file there.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams())
}

func scriptParams() testscript.Params {
	return testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		// Every script gets its own home, config and state folders so that nothing leaks in from
		// the developer's machine or out of the test.
		Setup: func(env *testscript.Env) error {
			for k, dir := range map[string]string{
				"HOME":            "home",
				"XDG_CONFIG_HOME": "config",
				"XDG_STATE_HOME":  "state",
			} {
				p := filepath.Join(env.WorkDir, dir)
				if err := os.MkdirAll(p, 0o700); err != nil {
					return err
				}
				env.Setenv(k, p)
			}
			// The keyring scripts reach the throwaway Secret Service that
			// scripts/with-keyring.sh starts, and name profiles uniquely: the
			// kernel's user keyring is shared by every test process.
			if bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); bus != "" && os.Getenv("WAASCTL_TEST_KEYRING") == "private" {
				env.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
			}
			env.Setenv("RUN_ID", strconv.FormatInt(time.Now().UnixNano(), 36))
			// The postgres scripts reach the throwaway server of
			// scripts/with-postgres.sh.
			if dsn := os.Getenv(sandboxtest.PostgresDSNEnv); dsn != "" {
				env.Setenv(sandboxtest.PostgresDSNEnv, dsn)
			}
			env.Values[scriptStateKey{}] = &scriptState{t: env.T()}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring:secret-service":
				// Only the private daemon of scripts/with-keyring.sh, never a
				// developer's real keyring. Under WAASCTL_REQUIRE_KEYRING=1 (make test) its
				// absence fails the script rather than skip its Secret Service lines.
				if os.Getenv("WAASCTL_TEST_KEYRING") != "private" && os.Getenv("WAASCTL_REQUIRE_KEYRING") == "1" {
					return false, fmt.Errorf("WAASCTL_TEST_KEYRING is not private (not under scripts/with-keyring.sh) but WAASCTL_REQUIRE_KEYRING=1")
				}
				return os.Getenv("WAASCTL_TEST_KEYRING") == "private", nil
			case "keyring:keyctl":
				_, err := exec.LookPath("keyctl")
				if runtime.GOOS == "linux" && err != nil && os.Getenv("WAASCTL_REQUIRE_KEYCTL") == "1" {
					return false, fmt.Errorf("keyctl is not on PATH but WAASCTL_REQUIRE_KEYCTL=1 (scripts/install-test-deps.sh installs keyutils)")
				}
				return runtime.GOOS == "linux" && err == nil, nil
			case "postgres":
				// Under WAASCTL_REQUIRE_POSTGRES=1 a missing server fails the script rather
				// than skip it, so CI cannot pass without the PostgreSQL checks.
				if os.Getenv(sandboxtest.PostgresDSNEnv) == "" && os.Getenv(sandboxtest.RequirePostgresEnv) == "1" {
					return false, fmt.Errorf("%s is unset but %s=1", sandboxtest.PostgresDSNEnv, sandboxtest.RequirePostgresEnv)
				}
				return os.Getenv(sandboxtest.PostgresDSNEnv) != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":         cmdExitCode,
			"waitfile":         cmdWaitFile,
			"dirempty":         cmdDirEmpty,
			"filemode":         cmdFileMode,
			"rates-set":        cmdRatesSet,
			"sandbox":          cmdSandbox,
			"sandbox-faults":   cmdSandboxFaults,
			"sandbox-key":      cmdSandboxKey,
			"sandbox-revoke":   cmdSandboxRevoke,
			"sandbox-requests": cmdSandboxRequests,
			"waitmatch":        cmdWaitMatch,
			"plant":            cmdPlant,
			"ledger":           cmdLedger,
			"interrupt":        cmdInterrupt,
			"findings":         cmdFindings,
			"nocanary":         cmdNoCanary,
			"teamdb":           cmdTeamDB,
			"ageidentity":      cmdAgeIdentity,
			"onhost":           cmdOnHost,
			"teamdump":         cmdTeamDump,
			"teamsql":          cmdTeamSQL,
		},
		RequireExplicitExec: true,
	}
}

// cmdExitCode implements "exitcode N prog [args...]": run prog and fail unless it exits with N.
// Its stdout and stderr are then checked with the usual stdout/stderr commands.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode (give the expected code instead)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdWaitFile implements "waitfile PATH": wait (at most 30 s) until PATH exists and is not empty,
// e.g. until a background `sandbox serve` has written its bootstrap key and is ready.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear within 30s", args[0])
		}
		time.Sleep(10 * time.Millisecond) // polling for a condition, bounded by the deadline
	}
}

// cmdWaitMatch implements "waitmatch PATH REGEXP": wait (at most 30 s) until PATH's content
// matches REGEXP, e.g. until a background rotation's journal reaches a step.
func cmdWaitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitmatch PATH REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil && re.Match(data) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitmatch: %s did not match %q within 30s", args[0], args[1])
		}
		time.Sleep(10 * time.Millisecond) // polling for a condition, bounded by the deadline
	}
}

// cmdDirEmpty implements "[!] dirempty DIR".
func cmdDirEmpty(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: dirempty DIR")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	if empty := len(entries) == 0; empty == neg {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		ts.Fatalf("%s holds %v", args[0], names)
	}
}

// cmdFileMode implements "filemode MODE PATH", e.g. "filemode 0600 key.json".
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filemode MODE PATH")
	}
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fmt.Sprintf("%04o", fi.Mode().Perm()); got != args[0] {
		ts.Fatalf("%s has mode %s, want %s", args[1], got, args[0])
	}
}

// cmdRatesSet sets the rate of every entry of a rates.json (what the adaptive rate remembers)
// to RATE, keeping the rest: a script can then check what a next run starts from without
// depending on how fast this machine let the run before it go.
func cmdRatesSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: rates-set RATE PATH")
	}
	rate, err := strconv.ParseFloat(args[0], 64)
	ts.Check(err)
	path := ts.MkAbs(args[1])
	data, err := os.ReadFile(path)
	ts.Check(err)
	var file struct {
		Rates map[string]map[string]any `json:"rates"`
	}
	ts.Check(json.Unmarshal(data, &file))
	if len(file.Rates) == 0 {
		ts.Fatalf("%s holds no rate", args[1])
	}
	for _, entry := range file.Rates {
		entry["rate"] = rate
	}
	out, err := json.Marshal(file)
	ts.Check(err)
	ts.Check(os.WriteFile(path, out, 0o600))
}

// scriptStateKey finds a script's scriptState in its testscript values.
type scriptStateKey struct{}

// scriptState is what a script's commands share: its sandbox, which runs in this process, and
// its testing.T, for skipping from a command.
type scriptState struct {
	t   testscript.T
	srv *sandbox.Server
}

func stateOf(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptStateKey{}).(*scriptState)
}

// scriptSandbox is the script's running sandbox; the command fails without one.
func scriptSandbox(ts *testscript.TestScript, cmd string) *sandbox.Server {
	srv := stateOf(ts).srv
	if srv == nil {
		ts.Fatalf("%s: no sandbox; start one with the sandbox command first", cmd)
	}
	return srv
}

// cmdSandbox implements "sandbox [flags]": start a sandbox in the test process for the rest of
// the script, write its bootstrap key to $WORK/key.json and set $SANDBOX_URL. Flags:
// -pools N -wallets N (per pool) -wallets-per-group N -addresses N -ops N (per device group)
// -latency D -fault-rate P -rate-limit N/PERIOD -seed N. A script has one sandbox at a time.
func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sandbox")
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	var cfg sandbox.Config
	fs.Int64Var(&cfg.Seed, "seed", 1, "")
	fs.IntVar(&cfg.Shape.Pools, "pools", 2, "")
	fs.IntVar(&cfg.Shape.WalletsPerPool, "wallets", 3, "")
	fs.IntVar(&cfg.Shape.AddressesPerWallet, "addresses", 1, "")
	fs.IntVar(&cfg.Shape.OperationsPerGroup, "ops", 1, "")
	fs.IntVar(&cfg.Shape.WalletsPerGroup, "wallets-per-group", 1, "")
	fs.DurationVar(&cfg.Latency, "latency", 0, "")
	fs.Float64Var(&cfg.FaultRate, "fault-rate", 0, "")
	rl := fs.String("rate-limit", "", "")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("sandbox: %v", err)
	}
	if *rl != "" {
		var err error
		cfg.RateLimit, err = sandbox.ParseRateLimit(*rl)
		ts.Check(err)
	}
	srv, err := sandbox.New(cfg)
	ts.Check(err)
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "script"})
	ts.Check(err)
	data, _ := json.Marshal(map[string]string{"name": key.Name, "privateKey": key.PrivateKey})
	ts.Check(os.WriteFile(ts.MkAbs("key.json"), data, 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, "127.0.0.1:0", false, func(u string) { ready <- u }) }()
	select {
	case u := <-ready:
		ts.Setenv("SANDBOX_URL", u)
	case err := <-done:
		ts.Fatalf("sandbox: %v", err)
	}
	ts.Setenv("SANDBOX_ORG", srv.DefaultOrg())
	ts.Setenv("SANDBOX_KEY_NAME", key.Name)
	st := stateOf(ts)
	st.srv = srv
	ts.Defer(func() {
		cancel()
		<-done
		st.srv = nil
	})
}

// cmdSandboxKey implements "sandbox-key [-other-org] FILE VAR": create a key at the script's
// sandbox, in its seeded organization or (-other-org) in a new one, as the portal would, write
// its download ({"name","privateKey"}) to FILE and set $VAR to its name.
func cmdSandboxKey(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("sandbox-key", flag.ContinueOnError)
	otherOrg := fs.Bool("other-org", false, "")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: sandbox-key [-other-org] FILE VAR")
	}
	srv := scriptSandbox(ts, "sandbox-key")
	org := srv.DefaultOrg()
	if *otherOrg {
		org = uuid.NewString()
	}
	key, err := srv.CreateAPIKey(org, waasapi.CreateAPIKeyRequest{Nickname: "script"})
	ts.Check(err)
	data, _ := json.Marshal(map[string]string{"name": key.Name, "privateKey": key.PrivateKey})
	ts.Check(os.WriteFile(ts.MkAbs(fs.Arg(0)), data, 0o600))
	ts.Setenv(fs.Arg(1), key.Name)
}

// cmdSandboxRevoke implements "sandbox-revoke NAME": revoke the key NAME at the script's
// sandbox, as an operator deleting it in the portal would.
func cmdSandboxRevoke(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandbox-revoke NAME")
	}
	ts.Check(scriptSandbox(ts, "sandbox-revoke").RevokeAPIKey(args[0]))
}

// cmdSandboxRequests implements "sandbox-requests -reset" (set the script sandbox's request
// counters to 0) and "sandbox-requests REGEXP N": fail unless exactly N requests were sent, since
// the sandbox started or the last reset, to the routes whose "METHOD /path/pattern" matches
// REGEXP (e.g. '^(POST|DELETE) ' for every write). The counts are printed, so a failure shows
// what was called instead.
func cmdSandboxRequests(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sandbox-requests (give the expected count, 0 for none)")
	}
	srv := scriptSandbox(ts, "sandbox-requests")
	if len(args) == 1 && args[0] == "-reset" {
		srv.ResetRequestCounts()
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-requests -reset | sandbox-requests REGEXP N")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	want, err := strconv.Atoi(args[1])
	if err != nil || want < 0 {
		ts.Fatalf("sandbox-requests: %q is not a count", args[1])
	}
	counts := srv.RequestCounts()
	got := 0
	for _, route := range slices.Sorted(maps.Keys(counts)) {
		if re.MatchString(route) {
			got += counts[route]
			ts.Logf("%s: %d", route, counts[route])
		}
	}
	if got != want {
		ts.Fatalf("%d requests to routes matching %q, want %d", got, args[0], want)
	}
}

// cmdSandboxFaults implements "sandbox-faults P": set the running sandbox's fault rate to P
// (0 to 1), e.g. to plant resources without faults and then turn them on.
func cmdSandboxFaults(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandbox-faults P")
	}
	p, err := strconv.ParseFloat(args[0], 64)
	if err != nil || p < 0 || p > 1 {
		ts.Fatalf("sandbox-faults: %q is not a probability between 0 and 1", args[0])
	}
	scriptSandbox(ts, "sandbox-faults").SetFaultRate(p)
}

// cmdPlant implements "plant [-wallets N] [-signatures N] [-pool P] FILE": play an adversary with
// the leaked $WORK/key.json against the script's sandbox (sandboxtest.Plant): N wallets, each in
// a new device group, and N CreateSignature operations left pending on seeded wallets' keys, in
// pool P (default: the first pool listed). FILE gets one "KIND NAME" line per planted resource,
// sorted, KIND one of wallet, device_group, operation; $PLANTED_WALLET, $PLANTED_DEVICE_GROUP and
// $PLANTED_OPERATION are set to the first name of each kind planted.
func cmdPlant(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! plant")
	}
	fs := flag.NewFlagSet("plant", flag.ContinueOnError)
	var spec sandboxtest.PlantSpec
	fs.IntVar(&spec.Wallets, "wallets", 0, "")
	fs.IntVar(&spec.Signatures, "signatures", 0, "")
	fs.StringVar(&spec.Pool, "pool", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: plant [-wallets N] [-signatures N] [-pool P] FILE")
	}
	scriptSandbox(ts, "plant")
	var kf struct {
		Name       string `json:"name"`
		PrivateKey string `json:"privateKey"`
	}
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("key.json")), &kf))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	planted, err := sandboxtest.Plant(ctx, ts.Getenv("SANDBOX_URL"), waasapi.APIKey{Name: kf.Name, PrivateKey: kf.PrivateKey}, spec)
	ts.Check(err)
	var lines []string
	for _, kind := range []struct {
		kind, env string
		names     []string
	}{
		{sandboxtest.LedgerWallet, "PLANTED_WALLET", planted.Wallets},
		{sandboxtest.LedgerDeviceGroup, "PLANTED_DEVICE_GROUP", planted.DeviceGroups},
		{sandboxtest.LedgerOperation, "PLANTED_OPERATION", planted.Operations},
	} {
		for _, n := range kind.names {
			lines = append(lines, kind.kind+" "+n+"\n")
		}
		if len(kind.names) > 0 {
			ts.Setenv(kind.env, kind.names[0])
		}
	}
	slices.Sort(lines)
	ts.Check(os.WriteFile(ts.MkAbs(fs.Arg(0)), []byte(strings.Join(lines, "")), 0o600))
}

// cmdLedger implements "ledger FORMAT TARGET [-owner-prefix S]": write the middle tier's ledger,
// i.e. everything the script's sandbox holds right now (its Inventory, not read over HTTP): every
// MPC wallet, device group and pending MPC operation, each with an owner S<n> (default user-<n>),
// one per device group, shared by the group's wallets and operations. FORMAT and TARGET:
//   - csv FILE: header kind,name,owner; kind is wallet, device_group or operation.
//   - jsonl FILE: {"kind":..,"name":..,"owner":..} lines.
//   - sqlite FILE: tables wallets(wallet_name, user_id), device_groups(device_group, user_id),
//     signing_requests(mpc_operation_id, user_id), operations by bare ID
//     (sandboxtest.LedgerQueries reads them).
//   - postgres DBNAME: the same tables, mpc_operation_id a uuid column, in database DBNAME
//     (replaced if it exists, dropped when the script ends) on the server of
//     $WAASCTL_TEST_POSTGRES_DSN; sets $LEDGER_DSN to its DSN. Without that server the script is
//     skipped, or fails if WAASCTL_REQUIRE_POSTGRES=1.
func cmdLedger(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: ledger csv|jsonl|sqlite|postgres TARGET [-owner-prefix S]"
	if neg {
		ts.Fatalf("unsupported: ! ledger")
	}
	fs := flag.NewFlagSet("ledger", flag.ContinueOnError)
	prefix := fs.String("owner-prefix", "user-", "")
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			ts.Fatalf("%s", usage)
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 2 {
		ts.Fatalf("%s", usage)
	}
	format, target := pos[0], pos[1]
	inv := scriptSandbox(ts, "ledger").Inventory()
	opt := sandboxtest.OwnerPrefix(*prefix)
	switch format {
	case "csv", "jsonl":
		write := sandboxtest.WriteLedgerCSV
		if format == "jsonl" {
			write = sandboxtest.WriteLedgerJSONL
		}
		var buf bytes.Buffer
		ts.Check(write(&buf, inv, opt))
		ts.Check(os.WriteFile(ts.MkAbs(target), buf.Bytes(), 0o600))
	case "sqlite":
		ts.Check(sandboxtest.CreateLedgerSQLite(ts.MkAbs(target), inv, opt))
	case "postgres":
		admin := os.Getenv(sandboxtest.PostgresDSNEnv)
		if admin == "" {
			if os.Getenv(sandboxtest.RequirePostgresEnv) == "1" {
				ts.Fatalf("ledger postgres: %s is unset but %s=1", sandboxtest.PostgresDSNEnv, sandboxtest.RequirePostgresEnv)
			}
			stateOf(ts).t.Skip("ledger postgres: no PostgreSQL server (" + sandboxtest.PostgresDSNEnv + " is unset; see scripts/with-postgres.sh)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dsn, err := sandboxtest.CreateLedgerPostgres(ctx, admin, target, inv, opt)
		ts.Check(err)
		ts.Defer(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := sandboxtest.DropLedgerPostgres(ctx, admin, target); err != nil {
				ts.Logf("ledger postgres: dropping %s: %v", target, err)
			}
		})
		ts.Setenv("LEDGER_DSN", dsn)
	default:
		ts.Fatalf("ledger: unknown format %q; %s", format, usage)
	}
}

// cmdInterrupt implements "interrupt [-term] [-when FILE] NAME prog [args...]": run prog, send
// it SIGINT (SIGTERM with -term) once it has printed its first line (once FILE exists, with
// -when: e.g. a sink that says it has started), and write its stdout, stderr and exit code to
// NAME.stdout, NAME.stderr and NAME.code for grep. It fails if prog has not exited 10 s after
// the signal.
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	sig, when := os.Signal(os.Interrupt), ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-term":
			sig, args = syscall.SIGTERM, args[1:]
		case args[0] == "-when" && len(args) > 1:
			when, args = ts.MkAbs(args[1]), args[2:]
		default:
			ts.Fatalf("interrupt: unknown option %s", args[0])
		}
	}
	if neg || len(args) < 2 {
		ts.Fatalf("usage: interrupt [-term] [-when FILE] NAME prog [args...]")
	}
	name := ts.MkAbs(args[0])
	path, err := exec.LookPath(args[1])
	if err != nil {
		// The scripts' PATH is the test's, not this process's.
		for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
			if p := filepath.Join(dir, args[1]); fileExists(p) {
				path, err = p, nil
				break
			}
		}
	}
	ts.Check(err)
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "TMPDIR",
		"WAASCTL_CONFIG", "WAASCTL_KEYRING_BACKEND", "WAASCTL_KEYRING_DIR", "WAASCTL_KEYRING_PASSPHRASE", "WAASCTL_STATE_DIR"} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	var stdout strings.Builder
	r := bufio.NewReader(out)
	if when == "" {
		first, err := r.ReadString('\n')
		stdout.WriteString(first)
		if err != nil {
			ts.Fatalf("interrupt: %s printed no line before exiting: %v; stderr: %s", args[1], err, stderr.String())
		}
	} else {
		deadline := time.Now().Add(30 * time.Second)
		for !fileExists(when) {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				ts.Fatalf("interrupt: %s did not appear within 30s; stderr: %s", when, stderr.String())
			}
			time.Sleep(10 * time.Millisecond) // polling for a condition, bounded by the deadline
		}
	}
	ts.Check(cmd.Process.Signal(sig))
	rest, _ := io.ReadAll(r)
	stdout.Write(rest)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("interrupt: %s did not exit within 10s of %v", args[1], sig)
	}
	ts.Check(os.WriteFile(name+".stdout", []byte(stdout.String()), 0o600))
	ts.Check(os.WriteFile(name+".stderr", []byte(stderr.String()), 0o600))
	ts.Check(os.WriteFile(name+".code", []byte(strconv.Itoa(cmd.ProcessState.ExitCode())+"\n"), 0o600))
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// cmdNoCanary implements "nocanary KEYFILE PATH...": fail if any file under the PATHs holds any
// line of the private key in KEYFILE ({"name","privateKey"} JSON, or a .env file holding a key).
// The canary test runs every auth command on a key and saves every output under the PATHs.
func cmdNoCanary(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nocanary KEYFILE PATH...")
	}
	var kf struct {
		PrivateKey string `json:"privateKey"`
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if json.Unmarshal(data, &kf) != nil {
		// A .env file, such as a sink's: take the key it holds.
		k, err := credentials.ParseKeyInput(data, "canary")
		ts.Check(err)
		kf.PrivateKey, err = k.SecretText()
		ts.Check(err)
	}
	var needles []string
	for _, line := range strings.Split(kf.PrivateKey, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			needles = append(needles, line)
		}
	}
	if len(needles) == 0 {
		ts.Fatalf("nocanary: no key lines in %s", args[0])
	}
	checked := 0
	for _, root := range args[1:] {
		root = ts.MkAbs(root)
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || path == ts.MkAbs(args[0]) {
				return err
			}
			content, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			for _, n := range needles {
				if strings.Contains(string(content), n) {
					ts.Fatalf("the private key appears in %s", path)
				}
			}
			return nil
		})
		ts.Check(err)
	}
	ts.Logf("nocanary: %d files checked, no trace of the key", checked)
}

// cmdFindings implements "findings REPORT PLANTED": REPORT is the -o json output of `audit
// operations`, `audit resources` or `incident assess`; PLANTED is a file written by plant. The
// unknown operations, wallets and device groups in REPORT must be exactly the planted ones of
// the kinds REPORT covers: every plant found, nothing else reported.
func cmdFindings(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: findings REPORT PLANTED")
	}
	var rep struct {
		Unknown []struct {
			Operation string `json:"operation"`
			Kind      string `json:"kind"`
			Name      string `json:"name"`
		} `json:"unknown"`
		UnknownOperations []struct {
			Operation string `json:"operation"`
		} `json:"unknownOperations"`
		UnknownResources []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"unknownResources"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &rep); err != nil {
		ts.Fatalf("findings: %s is not a JSON report: %v", args[0], err)
	}
	var got []string
	kinds := map[string]bool{}
	for _, u := range rep.Unknown {
		if u.Operation != "" {
			got, kinds["operation"] = append(got, "operation "+u.Operation), true
		} else {
			got, kinds["wallet"], kinds["device_group"] = append(got, u.Kind+" "+u.Name), true, true
		}
	}
	if rep.UnknownOperations != nil || rep.UnknownResources != nil {
		kinds["operation"], kinds["wallet"], kinds["device_group"] = true, true, true
	}
	for _, u := range rep.UnknownOperations {
		got = append(got, "operation "+u.Operation)
	}
	for _, u := range rep.UnknownResources {
		got = append(got, u.Kind+" "+u.Name)
	}
	if len(kinds) == 0 { // an empty report: say which kinds it covers by its shape
		kinds["operation"], kinds["wallet"], kinds["device_group"] = true, true, true
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n") {
		kind, _, _ := strings.Cut(line, " ")
		if line != "" && kinds[kind] {
			want = append(want, line)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		ts.Fatalf("findings in %s:\n%s\nplanted (%s):\n%s", args[0], strings.Join(got, "\n"), args[1], strings.Join(want, "\n"))
	}
}
