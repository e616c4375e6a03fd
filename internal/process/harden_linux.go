package process

import (
	"golang.org/x/sys/unix"
)

// Harden keeps the process's memory, which holds private keys and the
// keyring's passphrase, out of core files: RLIMIT_CORE 0 (inherited by every
// child, so a sink or auth exec's program that crashes with the key in its
// environment leaves no core either) and PR_SET_DUMPABLE 0 (no core, and no
// ptrace or /proc/PID/mem by other processes of the same user). Called
// first thing in main.
func Harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
