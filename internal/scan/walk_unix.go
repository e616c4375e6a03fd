//go:build unix

package scan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/waasctl/waasctl/internal/fsutil"
	"golang.org/x/sys/unix"
)

// walkTree hands the workers every regular file under the folder root, holding each folder
// open while its files wait to be scanned: a subfolder is opened relative to its parent and
// a file relative to its folder, neither following a link (os.Root's idea, without its walk of
// every path element per file). So a folder swapped for a symlink while the scan runs is
// refused, not walked into, and each open resolves one name instead of the whole path.
func (s *Scanner) walkTree(ctx context.Context, root string, jobs chan<- fileJob) {
	f, err := os.Open(root) // the PATH argument: a symlink is followed, as grep -r does
	if err != nil {
		s.addError(root, err)
		return
	}
	s.walkFolder(ctx, root, root, "", newHeldFolder(f), jobs)
}

// heldFolder is a folder kept open until the walk has listed it and every file of it that was
// handed to a worker has been scanned.
type heldFolder struct {
	f    *os.File
	fd   int
	refs atomic.Int64
}

func newHeldFolder(f *os.File) *heldFolder {
	h := &heldFolder{f: f, fd: int(f.Fd())}
	h.refs.Store(1) // the walk's
	return h
}

func (h *heldFolder) openFile(name, path string) (randomAccessFile, int64, error) {
	return openNoFollowAt(h.fd, name, path)
}

func (h *heldFolder) release() {
	if h.refs.Add(-1) == 0 {
		h.f.Close()
	}
}

// walkFolder walks the folder held as dir, spelled path (as the user gave root) and rel
// (from root, with '/'), in name order, depth first, as filepath.WalkDir does.
func (s *Scanner) walkFolder(ctx context.Context, root, path, rel string, dir *heldFolder, jobs chan<- fileJob) {
	defer dir.release()
	entries, err := dir.f.ReadDir(-1)
	if err != nil {
		s.addError(path, err) // what was listed before the error is still walked
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		p := path + string(os.PathSeparator) + name
		if strings.HasSuffix(path, string(os.PathSeparator)) {
			p = path + name
		}
		r := "" // the path from root, built only when something needs it
		if s.opts.Skip != nil || e.IsDir() {
			r = name
			if rel != "" {
				r = rel + "/" + name
			}
		}
		if s.opts.Skip != nil && s.opts.Skip(root, r, e.IsDir()) {
			continue
		}
		if name == ".git" && rel != "" && (e.IsDir() || e.Type().IsRegular()) {
			s.noteNestedRepo(path)
		}
		switch {
		case e.IsDir():
			if name == ".git" {
				continue // history is --git's; its object files are compressed
			}
			fd, err := unix.Openat(dir.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				var st unix.Stat_t
				if (errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR)) &&
					unix.Fstatat(dir.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
					err = fsutil.ErrSymlink // swapped for a link after it was listed
				}
				s.addError(p, &os.PathError{Op: "open", Path: p, Err: err})
				continue
			}
			s.walkFolder(ctx, root, p, r, newHeldFolder(os.NewFile(uintptr(fd), p)), jobs)
		case e.Type().IsRegular():
			dir.refs.Add(1)
			jobs <- fileJob{path: p, dir: dir, name: name}
		}
		// Symlinks, FIFOs, devices and sockets are not followed or read.
	}
}
