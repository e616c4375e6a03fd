package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// MaxKeyFileSize caps what is read from a key file, --key-stdin or a .env
// file holding a key. A portal download is under 1 KiB and a .env file with
// a PEM key a few KiB; anything past the cap is not a key file (it may be
// /dev/zero), and is refused without reading the rest.
const MaxKeyFileSize = 64 << 10

// ReadKeyFile reads a key file of at most MaxKeyFileSize bytes. Errors name
// the path and the problem, never the content. ctx ends a wait for a FIFO's
// writer (`--key-file <(vault read ...)`) or a read that never ends.
func ReadKeyFile(ctx context.Context, path string) ([]byte, error) {
	data, err := fsutil.ReadFile(ctx, path, "key file", MaxKeyFileSize)
	if err != nil {
		var pe *os.PathError
		var tl *fsutil.TooLargeError
		switch {
		case errors.As(err, &tl):
			return nil, fmt.Errorf("%v: not a key file (a portal download is under 1 KiB)", err)
		case errors.As(err, &pe):
			err = pe.Err
		}
		return nil, fmt.Errorf("key file %s: %v", path, err)
	}
	return data, nil
}
