//go:build unix

package rotation

import (
	"os"
	"slices"
	"syscall"
)

func fileOwner(fi os.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// canChown reports whether this process may give a file it creates to uid and gid: root may,
// and the owner may pick any group it belongs to.
func canChown(uid, gid int) bool {
	euid := os.Geteuid()
	if euid == 0 {
		return true
	}
	if euid != uid {
		return false
	}
	if os.Getegid() == gid {
		return true
	}
	groups, err := os.Getgroups()
	return err == nil && slices.Contains(groups, gid)
}
