//go:build unix

package fsutil

import (
	"errors"
	"os"
	"syscall"
)

// ownerModeApplies: Unix folders have an owner and group/other write bits worth checking.
const ownerModeApplies = true

func ownerOf(fi os.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// openNoFollow uses O_NOFOLLOW, so that the check and the open are one step: a symlink swapped
// in after a check cannot redirect the open.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if err != nil && errors.Is(err, syscall.ELOOP) {
		return nil, symlinkError(path)
	}
	return f, err
}

// tightenDir checks dir through an open handle (O_NOFOLLOW, so a symlink swapped in after
// MkdirAll is refused, not followed) and drops group and other access from it with fchmod.
func tightenDir(dir string) error {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return &PrivateDirError{Path: dir, Reason: "is a symlink", Fix: "use the folder it points to instead, or replace the link with a folder of your own"}
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := checkDirInfo(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return f.Chmod(0o700)
	}
	return nil
}
