package auditlog

import (
	"errors"
	"fmt"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// lockTimeout bounds the wait for another appender. An append holds the lock for a few
// milliseconds; a wait this long means a process is stuck, and a rotation should say so rather
// than hang.
var lockTimeout = 30 * time.Second

// lock takes the audit log's lock at path: exclusive for an appender, shared for a reader
// (fsutil.Lock: an OS lock that goes away with a killed process).
func lock(path string, exclusive bool) (unlock func(), err error) {
	unlock, err = fsutil.Lock(path, exclusive, lockTimeout)
	var te *fsutil.LockTimeoutError
	if errors.As(err, &te) {
		return nil, fmt.Errorf("the audit log is locked by another waasctl for more than %s; %s (%s)", te.Timeout, te.Hint, te.Path)
	}
	return unlock, err
}
