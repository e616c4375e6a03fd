//go:build !unix

package fsutil

import (
	"io/fs"
	"os"
)

// ownerModeApplies: on Windows (and other non-Unix systems) Go reports no owner and mode bits
// that stand for the ACLs, so only the symlink checks apply there.
const ownerModeApplies = false

func ownerOf(os.FileInfo) (int, bool) { return 0, false }

// openNoFollow checks with Lstat before opening: without O_NOFOLLOW a link swapped in between
// the two is followed, a race only someone able to write the folder can run.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, symlinkError(path)
	}
	return os.OpenFile(path, flag, perm)
}

func tightenDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	return checkDirInfo(dir, fi)
}
