//go:build !unix

package scan

import (
	"os"

	"github.com/waasctl/waasctl/internal/fsutil"
)

func openNoFollow(path string) (*os.File, error) { return fsutil.OpenNoFollow(path, os.O_RDONLY, 0) }
