//go:build !unix

package scan

import (
	"os"

	"github.com/waasctl/waasctl/internal/fsutil"
)

func openNoFollow(path string) (randomAccessFile, int64, error) {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}
