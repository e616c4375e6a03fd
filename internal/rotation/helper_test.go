package rotation

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// The tests re-run their own binary as a second process (a lock holder that can crash, a
// journal writer that gets killed), chosen by this variable.
const helperEnv = "WAASCTL_ROTATION_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "lock":
		lockHelper()
	case "journal":
		journalHelper()
	case "exit":
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// lockHelper takes a lock (HELPER_HOST and HELPER_PID, when set, go into the holder record, to
// play a holder on another host or one whose pid is gone), says "locked", then obeys stdin:
// "verify", "release" (then exit), "crash" (exit without releasing). At EOF it exits without
// releasing, too.
func lockHelper() {
	h := Holder{Command: "keys rotate", Host: os.Getenv("HELPER_HOST")}
	h.PID, _ = strconv.Atoi(os.Getenv("HELPER_PID"))
	l, err := AcquireLock(os.Getenv("HELPER_DIR"), os.Getenv("HELPER_PROFILE"), h, false)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "verify":
			if err := l.Verify(); err != nil {
				fmt.Println("lost:", err)
			} else {
				fmt.Println("ok")
			}
		case "release":
			if err := l.Release(); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			fmt.Println("released")
			os.Exit(0)
		case "crash":
			os.Exit(3)
		}
	}
	os.Exit(0)
}

// helper is a running helper process.
type helper struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin interface {
		Write([]byte) (int, error)
		Close() error
	}
	out *bufio.Scanner
}

func startHelper(t *testing.T, mode string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{t: t, cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		stdin.Close()
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return h
}

// line returns the helper's next line of output, failing the test after a while.
func (h *helper) line() string {
	h.t.Helper()
	got := make(chan string, 1)
	go func() {
		if h.out.Scan() {
			got <- h.out.Text()
		} else {
			got <- "EOF"
		}
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		h.t.Fatal("the helper process said nothing for 10s")
		return ""
	}
}

func (h *helper) send(cmd string) {
	h.t.Helper()
	if _, err := h.stdin.Write([]byte(cmd + "\n")); err != nil {
		h.t.Fatal(err)
	}
}

// exited waits for the helper to end and returns its exit code.
func (h *helper) exited() int {
	h.t.Helper()
	_ = h.cmd.Wait()
	return h.cmd.ProcessState.ExitCode()
}

// startLockHolder starts a helper holding the lock of profile in dir.
func startLockHolder(t *testing.T, dir, profile string, env ...string) *helper {
	t.Helper()
	h := startHelper(t, "lock", append([]string{"HELPER_DIR=" + dir, "HELPER_PROFILE=" + profile}, env...)...)
	if got := h.line(); got != "locked" {
		t.Fatalf("helper: %s", got)
	}
	return h
}

// deadPID returns the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=exit")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// journalHelper saves a growing journal as fast as it can until it is killed.
func journalHelper() {
	dir := os.Getenv("HELPER_DIR")
	killAt, _ := strconv.Atoi(os.Getenv("HELPER_KILL_AT"))
	j, err := NewJournal("prod", "sandbox")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for i := 1; ; i++ {
		if i == killAt {
			// Save number killAt stops inside the atomic write, with its temporary file
			// created and part of the new journal written, and says so: the test's kill
			// lands exactly there.
			writeAtomic = func(path string, perm os.FileMode, write func(io.Writer) error) error {
				return fsutil.Write(path, perm, func(w io.Writer) error {
					var buf bytes.Buffer
					if err := write(&buf); err != nil {
						return err
					}
					w.Write(buf.Bytes()[:buf.Len()/2])
					if f, ok := w.(interface{ Flush() error }); ok {
						f.Flush()
					}
					fmt.Println("mid-save")
					select {} // until killed
				})
			}
		}
		_ = j.Advance(j.Step, "save "+strconv.Itoa(i)+" "+strings.Repeat("progress ", 1+i%50))
		if err := j.Save(dir); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
}
