package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
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
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"waitfile": cmdWaitFile,
			"dirempty": cmdDirEmpty,
			"filemode": cmdFileMode,
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
