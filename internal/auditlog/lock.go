package auditlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// lockTimeout bounds the wait for another appender. An append holds the lock for a few
// milliseconds; a wait this long means a process is stuck, and a rotation should say so rather
// than hang.
var lockTimeout = 30 * time.Second

// lock takes the audit log's lock at path: exclusive for an appender, which creates the lock
// file if need be, or shared for a reader, which takes none if the file does not exist (no
// appender has run, and a read-only copy of a log can still be verified).
//
// The lock is an advisory OS lock on an open file (flock, LockFileEx), so that it goes away
// with the process that held it: a waasctl killed mid-append cannot wedge every later one.
func lock(path string, exclusive bool) (unlock func(), err error) {
	flag := os.O_RDONLY
	if exclusive {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := fsutil.OpenNoFollow(path, flag, 0o600) // a planted link must not be created or locked

	if !exclusive && errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockTimeout)
	// Polling rather than a blocking call, so that the wait has a deadline.
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("the audit log is locked by another waasctl for more than %s; %s (%s)", lockTimeout, lockHint, path)
		}
		time.Sleep(wait)
	}
}
