//go:build !unix

package rotation

import "os"

// Files have no Unix owner here; a replacement inherits the folder's access rules.
func fileOwner(os.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

func canChown(int, int) bool { return true }
