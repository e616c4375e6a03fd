package rotation

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustLockedError(t *testing.T, err error) *LockedError {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("want a *LockedError, got %v", err)
	}
	return le
}

func TestLockedErrorNamesHolderHostPIDAndStart(t *testing.T) {
	e := &LockedError{Profile: "prod", Running: true, Holder: Holder{
		Command: "keys rotate", User: "alice", Host: "host1", PID: 4242,
		Started: time.Date(2026, 11, 25, 15, 2, 11, 0, time.FixedZone("CET", 3600)),
	}}
	want := "profile prod is being rotated by alice@host1 (pid 4242, keys rotate) since 2026-11-25 14:02:11 UTC; "
	if got := e.Error(); !strings.HasPrefix(got, want) {
		t.Fatalf("got  %q\nwant %q...", got, want)
	}
	// A record written by someone else cannot break the message onto several lines.
	e.Holder.User = "mallory\nprofile prod is free"
	if got := e.Error(); strings.Contains(got, "\n") {
		t.Fatalf("multi-line error: %q", got)
	}
	if got := (&LockedError{Profile: "prod", Path: "/s/locks/prod.lock"}).Error(); !strings.Contains(got, "no record") || !strings.Contains(got, "--force") {
		t.Fatalf("unknown holder: %q", got)
	}
}

func TestLockSecondProcessIsToldWhoHoldsIt(t *testing.T) {
	dir := t.TempDir()
	h := startLockHolder(t, dir, "prod")

	_, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate"}, false)
	le := mustLockedError(t, err)
	host, _ := os.Hostname()
	if le.Holder.PID != h.cmd.Process.Pid || le.Holder.Host != host || le.Holder.Command != "keys rotate" || le.Holder.User == "" || le.Holder.Started.IsZero() {
		t.Fatalf("holder %+v, helper pid %d", le.Holder, h.cmd.Process.Pid)
	}
	if !le.Running || le.Remote {
		t.Fatalf("running %v remote %v, want a running local holder", le.Running, le.Remote)
	}
	msg := err.Error()
	for _, want := range []string{"profile prod is being rotated by ", "@" + host, "(pid " + strconv.Itoa(h.cmd.Process.Pid) + ", keys rotate)", " since ", " UTC"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}

	// Force does not take a lock from a process that is running here.
	_, err = AcquireLock(dir, "prod", Holder{}, true)
	if le := mustLockedError(t, err); !le.Running {
		t.Fatalf("force against a running holder: %v", err)
	}
	h.send("verify")
	if got := h.line(); got != "ok" {
		t.Fatalf("the holder lost its lock to a refused force: %s", got)
	}

	// Another profile is not affected.
	l, err := AcquireLock(dir, "staging", Holder{}, false)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
}

func TestLockIsFreeAfterTheHolderDies(t *testing.T) {
	for _, how := range []string{"exit without release", "kill -9"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			h := startLockHolder(t, dir, "prod")
			pid := h.cmd.Process.Pid
			if how == "kill -9" {
				_ = h.cmd.Process.Kill()
			} else {
				h.send("crash")
			}
			h.exited()

			l, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate --resume"}, false)
			if err != nil {
				t.Fatalf("lock of a dead holder: %v", err)
			}
			defer l.Release()
			if l.TookOver != nil {
				t.Fatalf("TookOver = %v: a dead holder's lock is free, not taken over", l.TookOver)
			}
			if l.Abandoned == nil || l.Abandoned.PID != pid {
				t.Fatalf("Abandoned = %v, want the dead holder (pid %d)", l.Abandoned, pid)
			}
			if l.Holder.PID != os.Getpid() || l.Holder.Command != "keys rotate --resume" {
				t.Fatalf("holder %+v", l.Holder)
			}
		})
	}
}

func TestLockReleasedCleanlyIsNotAbandoned(t *testing.T) {
	dir := t.TempDir()
	h := startLockHolder(t, dir, "prod")
	h.send("release")
	if got := h.line(); got != "released" {
		t.Fatal(got)
	}
	h.exited()
	l, err := AcquireLock(dir, "prod", Holder{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Abandoned != nil || l.TookOver != nil {
		t.Fatalf("abandoned %v took over %v", l.Abandoned, l.TookOver)
	}
}

func TestLockForceTakesOverAHolderOnAnotherHost(t *testing.T) {
	dir := t.TempDir()
	h := startLockHolder(t, dir, "prod", "HELPER_HOST=far-away", "HELPER_PID=777")

	_, err := AcquireLock(dir, "prod", Holder{}, false)
	le := mustLockedError(t, err)
	if !le.Remote || le.Running || !strings.Contains(err.Error(), "if that host is down, --force takes the lock over") {
		t.Fatalf("remote %v running %v: %v", le.Remote, le.Running, err)
	}

	l, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate --force"}, true)
	if err != nil {
		t.Fatalf("force: %v", err)
	}
	defer l.Release()
	if l.TookOver == nil || l.TookOver.Host != "far-away" || l.TookOver.PID != 777 {
		t.Fatalf("TookOver = %+v", l.TookOver)
	}
	if err := l.Verify(); err != nil {
		t.Fatalf("the new holder: %v", err)
	}

	// The displaced process learns of it, and is told who has the lock now.
	h.send("verify")
	got := h.line()
	if !strings.HasPrefix(got, "lost:") || !strings.Contains(got, "taken over by") || !strings.Contains(got, "keys rotate --force") {
		t.Fatalf("displaced holder: %s", got)
	}
	// Later contenders see the new holder, which is running here: no second takeover.
	_, err = AcquireLock(dir, "prod", Holder{}, true)
	if le := mustLockedError(t, err); le.Holder.PID != os.Getpid() || !le.Running {
		t.Fatalf("after the takeover: %v", err)
	}
	// The displaced holder releasing its old file does not free the new lock.
	h.send("release")
	h.line()
	h.exited()
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(dir, "prod", Holder{}, false); err == nil {
		t.Fatal("lock free after the displaced holder released")
	}
}

func TestLockForceTakesOverAHolderWhosePIDIsGone(t *testing.T) {
	dir := t.TempDir()
	gone := deadPID(t)
	startLockHolder(t, dir, "prod", "HELPER_PID="+strconv.Itoa(gone))

	_, err := AcquireLock(dir, "prod", Holder{}, false)
	le := mustLockedError(t, err)
	if le.Running || le.Remote || !strings.Contains(err.Error(), "that process is gone") {
		t.Fatalf("running %v remote %v: %v", le.Running, le.Remote, err)
	}
	l, err := AcquireLock(dir, "prod", Holder{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.TookOver == nil || l.TookOver.PID != gone {
		t.Fatalf("TookOver = %+v, want pid %d", l.TookOver, gone)
	}
}

func TestLockTwiceInOneProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		_, err := AcquireLock(dir, "prod", Holder{}, force)
		if le := mustLockedError(t, err); le.Holder.PID != os.Getpid() || !le.Running {
			t.Fatalf("force=%v: %v", force, err)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if err := l.Verify(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("verify after release: %v", err)
	}
	l2, err := AcquireLock(dir, "prod", Holder{}, false)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

func TestLockFilesArePrivateAndNameTheHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate", User: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path != filepath.Join(dir, "locks", "prod.lock") {
		t.Fatalf("path %s", l.Path)
	}
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "locks"): 0o700, l.Path: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	data, _ := os.ReadFile(l.Path)
	if h, ok := parseHolder(data); !ok || h.User != "alice" || h.PID != os.Getpid() {
		t.Fatalf("lock file %q", data)
	}
	l.Release()
	if data, _ := os.ReadFile(l.Path); len(data) != 0 {
		t.Fatalf("after release the lock file still says %q", data)
	}
}

func TestLockRefusesBadProfileNames(t *testing.T) {
	for _, p := range []string{"", "../etc", "a/b", ".hidden", strings.Repeat("x", 65)} {
		if _, err := AcquireLock(t.TempDir(), p, Holder{}, false); err == nil || !strings.Contains(err.Error(), "invalid profile name") {
			t.Errorf("%q: %v", p, err)
		}
	}
}
