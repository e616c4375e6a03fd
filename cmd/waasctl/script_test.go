package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// TestMain lets the test binary double as the waasctl binary: testscript puts a copy named
// "waasctl" on the scripts' PATH, and when run under that name it calls main. Scripts therefore
// test exactly what users run, in a separate process with real exit codes.
func TestMain(m *testing.M) {
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
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring:secret-service":
				// Only the private daemon of scripts/with-keyring.sh, never a
				// developer's real keyring.
				return os.Getenv("WAASCTL_TEST_KEYRING") == "private", nil
			case "keyring:keyctl":
				_, err := exec.LookPath("keyctl")
				return runtime.GOOS == "linux" && err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitCode,
			"waitfile":  cmdWaitFile,
			"dirempty":  cmdDirEmpty,
			"filemode":  cmdFileMode,
			"sandbox":   cmdSandbox,
			"interrupt": cmdInterrupt,
			"nocanary":  cmdNoCanary,
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

// cmdSandbox implements "sandbox [flags]": start a sandbox in the test process for the rest of
// the script, write its bootstrap key to $WORK/key.json and set $SANDBOX_URL. Flags:
// -pools N -wallets N -addresses N -ops N -latency D -fault-rate P -rate-limit N/PERIOD -seed N.
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
	ts.Defer(func() {
		cancel()
		<-done
	})
}

// cmdInterrupt implements "interrupt NAME prog [args...]": run prog, send it SIGINT once it has
// printed its first line, and write its stdout, stderr and exit code to NAME.stdout,
// NAME.stderr and NAME.code for grep. It fails if prog has not exited 10 s after the signal.
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: interrupt NAME prog [args...]")
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
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "TMPDIR"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	var stdout strings.Builder
	r := bufio.NewReader(out)
	first, err := r.ReadString('\n')
	stdout.WriteString(first)
	if err != nil {
		ts.Fatalf("interrupt: %s printed no line before exiting: %v; stderr: %s", args[1], err, stderr.String())
	}
	ts.Check(cmd.Process.Signal(os.Interrupt))
	rest, _ := io.ReadAll(r)
	stdout.Write(rest)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("interrupt: %s did not exit within 10s of SIGINT", args[1])
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
