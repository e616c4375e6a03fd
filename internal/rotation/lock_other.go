//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package rotation

import (
	"errors"
	"os"
	"runtime"
)

// Without flock or LockFileEx there is no lock that dies with its process, and a lock that
// outlives a crash would need a human to clear it; rotation refuses instead of pretending.

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

func tryLock(*os.File) (bool, error) {
	return false, errors.New("rotation locks need flock or LockFileEx, which " + runtime.GOOS + " lacks")
}

func unlockFile(*os.File) {}

func processAlive(int) bool { return true }
