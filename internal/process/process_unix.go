//go:build unix

package process

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a session of its own: a new process group (so
// that ending it ends all it started) with no controlling terminal. A child
// in a background group of waasctl's terminal would be stopped (SIGTTIN) the
// moment it prompted, and the rotation would hang without a word; without a
// terminal, a prompt (sudo's, polkit's) fails at once and the hook's error
// says why. Hooks must run unattended.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		// The group's ID is the leader's PID (a new session's leader leads its group).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH: nothing was left
	}
}
