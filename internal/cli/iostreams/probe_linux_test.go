package iostreams

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the master and slave sides of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// probe runs answersCursorQuery with a deadline of its own, so that a probe that waits forever
// (what survey does) fails the test in seconds instead of hanging it.
func probe(t *testing.T, slave *os.File) bool {
	t.Helper()
	done := make(chan bool, 1)
	go func() { done <- answersCursorQuery(slave, slave) }()
	select {
	case got := <-done:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("the probe is still waiting for the terminal's answer")
		return false
	}
}

// A PTY that nothing reads (script(1) with stdin from /dev/null) never answers: the probe says
// so, instead of waiting forever as survey's prompts did.
func TestProbeOfATerminalThatDoesNotAnswer(t *testing.T) {
	_, slave := openPTY(t)
	if probe(t, slave) {
		t.Fatal("a terminal that never answered was taken for one that does")
	}
	// The descriptor is blocking again afterwards: stdin's later reads must not fail with EAGAIN.
	flags, err := unix.FcntlInt(slave.Fd(), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Fatalf("the terminal was left non-blocking (flags %#x, %v)", flags, err)
	}
}

// A terminal emulator answers ESC [ 6 n with ESC [ row ; col R.
func TestProbeOfATerminalThatAnswers(t *testing.T) {
	master, slave := openPTY(t)
	go func() {
		var seen []byte
		buf := make([]byte, 64)
		for !bytes.Contains(seen, []byte("\x1b[6n")) {
			n, err := master.Read(buf)
			if err != nil {
				return
			}
			seen = append(seen, buf[:n]...)
		}
		master.Write([]byte("\x1b[12;1R"))
	}()
	if !probe(t, slave) {
		t.Fatal("a terminal that answered was taken for one that does not")
	}
}

// CanPrompt asks once, and only on a terminal that is not dumb.
func TestCanPromptProbesOnce(t *testing.T) {
	asked := 0
	ios := &IOStreams{stdinTTY: true, stdoutTTY: true, answers: func() bool { asked++; return false }}
	if ios.CanPrompt() || ios.CanPrompt() || asked != 1 {
		t.Fatalf("CanPrompt on a silent terminal: asked %d times", asked)
	}
	dumb := &IOStreams{stdinTTY: true, stdoutTTY: true, dumbTerminal: true, answers: func() bool { asked++; return false }}
	if !dumb.CanPrompt() || asked != 1 {
		t.Fatal("a dumb terminal is probed, or cannot prompt")
	}
	if dumb.ColorEnabled() {
		t.Fatal("TERM=dumb gets colour")
	}
}
