package waasapi

import "strings"

// PoolOf returns "pools/P" for a resource name under a pool (a wallet,
// device group or MPC operation), and "" for any other name.
func PoolOf(name string) string {
	segs := strings.SplitN(name, "/", 3)
	if len(segs) < 2 || segs[0] != "pools" || segs[1] == "" {
		return ""
	}
	return segs[0] + "/" + segs[1]
}
