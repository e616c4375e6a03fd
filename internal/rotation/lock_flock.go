//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package rotation

import (
	"errors"
	"os"
	"syscall"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// openLockFile never follows a symlink: a link planted in locks/ would have the lock's
// truncate and write land on its target.
func openLockFile(path string) (*os.File, error) {
	return fsutil.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// tryLock takes an exclusive flock without waiting (fsutil.TryLock).
func tryLock(f *os.File) (bool, error) { return fsutil.TryLock(f, true) }

func unlockFile(f *os.File) { fsutil.UnlockFile(f) }

// processAlive reports whether pid exists. EPERM means it exists but belongs to someone else;
// any answer but "no such process" counts as alive, so that doubt never allows a takeover.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
