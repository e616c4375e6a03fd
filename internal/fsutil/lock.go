package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// LockTimeoutError says that another process held a lock for longer than the caller waits.
type LockTimeoutError struct {
	Path    string
	Timeout time.Duration
	Hint    string // what to check, for this platform's kind of lock
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("%s is locked by another process for more than %s; %s", e.Path, e.Timeout, e.Hint)
}

// Lock takes the lock at path, waiting up to timeout for another holder: exclusive for a
// writer, which creates the lock file if need be, or shared for a reader, which takes none if
// the file does not exist (nobody has written, and a read-only copy can still be read).
//
// The lock is an advisory OS lock on an open file (flock, LockFileEx), so that it goes away
// with the process that held it: one killed mid-write cannot wedge every later one. A symbolic
// link at path is refused, not followed: a planted link must not be created or locked.
func Lock(path string, exclusive bool, timeout time.Duration) (unlock func(), err error) {
	flag := os.O_RDONLY
	if exclusive {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := OpenNoFollow(path, flag, 0o600)
	if !exclusive && errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	// Polling rather than a blocking call, so that the wait has a deadline.
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		ok, err := TryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			return func() {
				UnlockFile(f)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, &LockTimeoutError{Path: path, Timeout: timeout, Hint: lockHint}
		}
		time.Sleep(wait)
	}
}
