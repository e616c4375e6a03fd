//go:build unix

package scan

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/waasctl/waasctl/internal/fsutil"
	"golang.org/x/sys/unix"
)

// openNoFollow opens a file met in a folder walk for reading, and returns it with its size:
// O_NOFOLLOW, so a symlink swapped in after the walk saw a file is refused, and O_NONBLOCK,
// so a FIFO swapped in does not block the open; anything but a regular file is then refused.
// It is fsutil.OpenNoFollow without an *os.File: os.NewFile costs two system calls per file
// (fcntl, then an epoll registration that a regular file refuses), os.File.Stat a third and
// its finalizer some more, and scans open tens of thousands of files.
func openNoFollow(path string) (randomAccessFile, int64, error) {
	return openNoFollowAt(unix.AT_FDCWD, path, path)
}

// openNoFollowAt is openNoFollow of name in the folder open as dirfd (path names it for errors):
// one name resolved, not a whole path, and no folder on the way that could have been swapped.
func openNoFollowAt(dirfd int, name, path string) (randomAccessFile, int64, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, &os.PathError{Op: "open", Path: path, Err: fsutil.ErrSymlink}
		}
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, 0, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: fsutil.ErrNotRegular}
	}
	// O_NONBLOCK means nothing for a regular file's reads.
	return &rawFile{fd: fd, path: path}, st.Size, nil
}

// rawFile is a regular file read through its descriptor alone.
type rawFile struct {
	fd   int
	path string
}

func (f *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Pread(f.fd, p[done:], off+int64(done))
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return done, &os.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0:
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

func (f *rawFile) Close() error { return syscall.Close(f.fd) }
