package scan

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) of the calling thread, or of the whole process:
// on a machine shared with other jobs it moves much less than the wall clock does.
func cpuTime(wholeProcess bool) (time.Duration, bool) {
	who := 1 // RUSAGE_THREAD
	if wholeProcess {
		who = syscall.RUSAGE_SELF
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
