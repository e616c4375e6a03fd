package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Private folders. waasctl keeps locks, journals, snapshots, censuses, the audit log and (with
// the file backend) keys in its state folder. Whoever can write a folder there, or plant a
// symlink in it, can make waasctl truncate, chmod or create files elsewhere, or feed it a forged
// journal. So, as ssh does for ~/.ssh, a folder waasctl keeps private files in must be a real
// folder (not a symlink), belong to the user running waasctl, and be writable by nobody else;
// and the files in it are opened without following a symlink.
//
// Only the folder itself is checked, not its ancestors: a state folder under a symlinked /tmp
// (macOS) or a home folder reached through a link is fine, because what matters is who can
// change the entries of the folder waasctl writes in.

// PrivateDirError says why a folder is not fit for private files. Its message is one line,
// naming the folder and what to do.
type PrivateDirError struct {
	Path   string
	Reason string // "is a symlink", ...
	Fix    string // what to do
}

func (e *PrivateDirError) Error() string {
	return fmt.Sprintf("refusing to use folder %s: it %s; %s", e.Path, e.Reason, e.Fix)
}

// ErrSymlink is matched by the error of OpenNoFollow when path is a symlink.
var ErrSymlink = errors.New("is a symlink")

// ErrNotRegular is matched by the error of OpenNoFollow when path is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// CheckPrivateDir returns nil when dir is a folder (not a symlink to one) that belongs to the
// current user and that group and others cannot write, else a *PrivateDirError. A folder that
// does not exist is an error matching fs.ErrNotExist. It changes nothing: MkdirPrivate is the
// one that creates and tightens.
func CheckPrivateDir(dir string) error {
	// "link/" and "link/." resolve the link before Lstat sees it: clean first.
	dir = filepath.Clean(dir)
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	return checkDirInfo(dir, fi)
}

func checkDirInfo(dir string, fi os.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &PrivateDirError{Path: dir, Reason: "is a symlink", Fix: "use the folder it points to instead, or replace the link with a folder of your own"}
	case !fi.IsDir():
		return &PrivateDirError{Path: dir, Reason: "is not a folder", Fix: "move it aside"}
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return &PrivateDirError{Path: dir, Reason: fmt.Sprintf("belongs to uid %d, not to you (uid %d)", uid, os.Geteuid()),
			Fix: "use a folder of your own, or have it chowned to you"}
	}
	if ownerModeApplies && fi.Mode().Perm()&0o022 != 0 {
		return &PrivateDirError{Path: dir, Reason: fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm()),
			Fix: "check that nobody planted files in it, then run chmod 700 " + dir}
	}
	return nil
}

// MkdirPrivate creates dir and its missing parents with mode 0700, then checks dir with
// CheckPrivateDir. An existing dir that others can read but not write is tightened to 0700
// (through the open folder, never through a symlink); one they can write is refused, since
// they may have planted files in it already.
func MkdirPrivate(dir string) error {
	dir = filepath.Clean(dir) // "link/" would let Lstat follow the link
	if fi, err := os.Lstat(dir); err == nil {
		if err := checkDirInfo(dir, fi); err != nil {
			return err // before MkdirAll, which would follow a symlink
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return tightenDir(dir)
}

// OpenNoFollow opens path like os.OpenFile, but fails (matching ErrSymlink) when path is a
// symlink, even a dangling one, instead of opening or creating what it points to; and it
// refuses anything but a regular file. Use it for every file in a private folder.
func OpenNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := openNoFollow(path, flag, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return f, nil
}

// ReadFileNoFollow is os.ReadFile through OpenNoFollow.
func ReadFileNoFollow(path string) ([]byte, error) {
	f, err := OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, maxPrivateFile)
}

// maxPrivateFile caps what ReadFileNoFollow reads: the files in waasctl's
// private folders (an audit head, a census) are far smaller.
const maxPrivateFile = 64 << 20

// TightenFile makes the file at path mode 0600 if it is more open, through the open file:
// never through a symlink (which is refused).
func TightenFile(path string) error {
	f, err := OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if ownerModeApplies && fi.Mode().Perm()&0o077 != 0 {
		return f.Chmod(0o600)
	}
	return nil
}

func symlinkError(path string) error {
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w; waasctl does not follow symlinks in its private folders: remove the link", ErrSymlink)}
}

// CheckTrustedFile returns nil when nobody but the current user (or root) can change what the
// file at path holds: the file, after following symlinks, and the folder it is in must belong
// to the user or root and be writable by nobody else (a folder with the sticky bit, like /tmp,
// may be, since others cannot replace a file of yours there). It is for files that are read,
// not written, and that tell waasctl what to run, like the config file: a symlink is fine
// (dotfile managers use them), and so is a file owned by root that a service account reads.
func CheckTrustedFile(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	for _, p := range []string{real, filepath.Dir(real)} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		uid, ok := ownerOf(fi)
		if !ok {
			continue
		}
		what := "it"
		if p != path {
			what = p
		}
		if uid != os.Geteuid() && uid != 0 {
			return fmt.Errorf("refusing %s: %s belongs to uid %d, neither you (uid %d) nor root; whoever owns it decides what waasctl runs: have it chowned to you", path, what, uid, os.Geteuid())
		}
		sticky := fi.IsDir() && fi.Mode()&fs.ModeSticky != 0
		if fi.Mode().Perm()&0o022 != 0 && !sticky {
			return fmt.Errorf("refusing %s: %s is writable by group or others (mode %04o), who could change what waasctl runs: check it, then run chmod go-w %s", path, what, fi.Mode().Perm(), p)
		}
	}
	return nil
}
