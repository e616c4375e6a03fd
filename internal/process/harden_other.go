//go:build unix && !linux

package process

import "golang.org/x/sys/unix"

// Harden turns core dumps off (RLIMIT_CORE 0, inherited by every child); the
// platform has no PR_SET_DUMPABLE.
func Harden() error {
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
}
