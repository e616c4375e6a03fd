//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package rotation

import (
	"errors"
	"os"
	"runtime"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// Without flock or LockFileEx there is no lock that dies with its process, and a lock that
// outlives a crash would need a human to clear it; rotation refuses instead of pretending.

// openLockFile never follows a symlink: a link planted in locks/ would have the lock's
// truncate and write land on its target.
func openLockFile(path string) (*os.File, error) {
	return fsutil.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
}

func tryLock(*os.File) (bool, error) {
	return false, errors.New("rotation locks need flock or LockFileEx, which " + runtime.GOOS + " lacks")
}

func unlockFile(*os.File) {}

func processAlive(int) bool { return true }
