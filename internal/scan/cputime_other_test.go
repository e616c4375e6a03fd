//go:build !linux

package scan

import "time"

func cpuTime(bool) (time.Duration, bool) { return 0, false }
