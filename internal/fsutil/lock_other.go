//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package fsutil

import (
	"errors"
	"io/fs"
	"os"
)

// Without flock or LockFileEx, a second file created with O_EXCL is the lock, shared or not.
// Unlike an OS lock it outlives a killed process; the timeout error in lock says what to check.

const lockHint = "if no waasctl is running, delete the .held file beside it"

// TryLock takes a lock on f without waiting: exclusive, or shared.
func TryLock(f *os.File, _ bool) (bool, error) {
	g, err := os.OpenFile(f.Name()+".held", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, g.Close()
}

// UnlockFile releases TryLock's lock.
func UnlockFile(f *os.File) { _ = os.Remove(f.Name() + ".held") }
