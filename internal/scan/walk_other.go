//go:build !unix

package scan

import (
	"context"
	"io/fs"
	"path/filepath"
)

// walkTree hands the workers every regular file under the folder root, by path.
func (s *Scanner) walkTree(ctx context.Context, root string, jobs chan<- fileJob) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p = asGiven(root, p)
		if err != nil {
			s.addError(p, err)
			return nil
		}
		if p != root && s.opts.Skip != nil {
			rel, _ := filepath.Rel(root, p)
			if s.opts.Skip(root, filepath.ToSlash(rel), d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Name() == ".git" && filepath.Dir(p) != filepath.Clean(root) && (d.IsDir() || d.Type().IsRegular()) {
			s.noteNestedRepo(filepath.Dir(p))
		}
		switch {
		case d.IsDir():
			if d.Name() == ".git" && p != root {
				return filepath.SkipDir // history is --git's; its object files are compressed
			}
		case d.Type().IsRegular():
			jobs <- fileJob{path: p}
		}
		// Symlinks, FIFOs, devices and sockets are not followed or read.
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.addError(root, err)
	}
}
