package process

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEnvironDropsEverySecretVariable(t *testing.T) {
	in := []string{
		"PATH=/usr/bin",
		"WAASCTL_KEYRING_PASSPHRASE=pw",
		"WAASCTL_KEYRING_DIR=/k",
		"WAASCTL_KEYRING_BACKEND=file",
		"WAASCTL_API_KEY_NAME=organizations/o/apiKeys/k",
		"WAASCTL_API_KEY_PRIVATE_KEY=-----BEGIN",
		"COINBASE_CLOUD_API_KEY_NAME=n",
		"COINBASE_CLOUD_API_KEY_PRIVATE_KEY=k",
		"CDP_API_KEY_SECRET=s",
		"WAASCTL_AGE_IDENTITY=AGE-SECRET-KEY-1",
		"WAASCTL_STATE_DSN=postgres://u:pw@h/db",
		"PGPASSWORD=team-db-password",
		"PGPASSFILE=/home/u/.pgpass", // a path: the child can read the file anyway
		"WAASCTL_PROFILE=prod",
		"WAASCTL_KEYRINGX=kept", // not the prefix WAASCTL_KEYRING_
		"HOME=/root",
	}
	got := Environ(in)
	want := []string{"PATH=/usr/bin", "PGPASSFILE=/home/u/.pgpass", "WAASCTL_PROFILE=prod", "WAASCTL_KEYRINGX=kept", "HOME=/root"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Environ kept:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if in[1] != "WAASCTL_KEYRING_PASSPHRASE=pw" {
		t.Error("Environ changed its argument")
	}
}

func TestCommandsChildSeesNoSecretAndItsExtraVariables(t *testing.T) {
	t.Setenv("WAASCTL_KEYRING_PASSPHRASE", "canary-passphrase")
	t.Setenv("COINBASE_CLOUD_API_KEY_PRIVATE_KEY", "canary-key")
	t.Setenv("SOMETHING_ELSE", "kept")
	cmd := Command(t.Context(), []string{"env"}, "WAASCTL_REQUEST_ID=r1")
	var out strings.Builder
	cmd.Stdout = &out
	if err := Run(t.Context(), cmd); err != nil {
		t.Fatal(err)
	}
	env := out.String()
	if strings.Contains(env, "canary") {
		t.Errorf("the child's environment holds a secret:\n%s", env)
	}
	for _, want := range []string{"SOMETHING_ELSE=kept\n", "WAASCTL_REQUEST_ID=r1\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("the child's environment lacks %q", want)
		}
	}
}

// alive reports whether pid is a process that has not exited (a zombie
// waiting for its reaper has exited).
func alive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(data)
	rest := s[strings.LastIndexByte(s, ')')+2:]
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still running 10 s after its command was cancelled", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runUntilGrandchild runs script, which starts a grandchild and prints its
// PID, cancels the command once the PID is printed, and returns the PID.
func runUntilGrandchild(t *testing.T, script string) int {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := Command(ctx, []string{"sh", "-c", script})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	pidc := make(chan int, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		pid, _ := strconv.Atoi(strings.TrimSpace(line))
		pidc <- pid
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := <-pidc
	if pid == 0 {
		t.Fatal("the script printed no PID")
	}
	cancel()
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not end after cancel")
	}
	// Run's part after Wait: end what is left of the group.
	killGroup(cmd)
	return pid
}

func TestCancelEndsTheWholeProcessGroup(t *testing.T) {
	pid := runUntilGrandchild(t, `sleep 1000 & echo $!; wait`)
	waitGone(t, pid)
}

func TestCancelEndsAGrandchildThatIgnoresSIGTERM(t *testing.T) {
	old := StopGrace
	StopGrace = 50 * time.Millisecond
	defer func() { StopGrace = old }()
	pid := runUntilGrandchild(t, `trap "" TERM; sleep 1000 & echo $!; wait; wait`)
	waitGone(t, pid)
}

func TestRunReportsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cmd := Command(ctx, []string{"true"})
	if err := Run(ctx, cmd); err == nil {
		t.Fatal("Run with a cancelled context returned nil")
	}
}

// Every child waasctl starts goes through Command (or, for auth exec's
// replacement of the process, Environ): a new exec.Command elsewhere would
// hand a sink the keyring's passphrase again.
func TestNoChildIsStartedOutsideThisPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := map[string]bool{
		filepath.Join("internal", "cli", "auth", "exec.go"): true, // syscall.Exec with process.Environ
	}
	start := regexp.MustCompile(`exec\.Command(Context)?\(|syscall\.Exec\(|os\.StartProcess\(`)
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if strings.HasPrefix(rel, filepath.Join("internal", "process")) || allowed[rel] ||
				strings.HasPrefix(rel, filepath.Join("internal", "sandbox", "sandboxtest")) || strings.HasPrefix(rel, filepath.Join("cmd", "gen-docs")) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if start.Match(data) {
				t.Errorf("%s starts a process without process.Command: its child would inherit the keyring's passphrase", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A hook that prompts on the terminal must fail at once, not stop in the
// background and hang the rotation: children have no controlling terminal.
// The check runs in a copy of this test under script(1), which gives it a
// terminal, as an operator's shell would.
func TestChildHasNoControllingTerminal(t *testing.T) {
	if os.Getenv("PROCESS_TEST_UNDER_TTY") == "1" {
		if _, err := os.Stat("/dev/tty"); err != nil {
			t.Fatal("no terminal under script(1)")
		}
		if f, err := os.Open("/dev/tty"); err != nil {
			t.Fatalf("this process has no terminal to hide: %v", err)
		} else {
			f.Close()
		}
		cmd := Command(t.Context(), []string{"sh", "-c", "exec 3</dev/tty && echo has-a-terminal"})
		var out strings.Builder
		cmd.Stdout = &out
		err := Run(t.Context(), cmd)
		if err == nil || strings.Contains(out.String(), "has-a-terminal") {
			t.Fatalf("the child opened /dev/tty (err %v): a prompt there would stop it in the background", err)
		}
		return
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script(1) (util-linux) is needed to give this test a terminal")
	}
	cmd := exec.CommandContext(t.Context(), script, "-qec", os.Args[0]+" -test.run=^TestChildHasNoControllingTerminal$ -test.count=1", "/dev/null")
	cmd.Env = append(os.Environ(), "PROCESS_TEST_UNDER_TTY=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("under a terminal: %v\n%s", err, out)
	}
}
