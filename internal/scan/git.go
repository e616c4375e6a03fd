package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/process"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// maxGitListing caps what git may print when listing paths or objects.
const maxGitListing = 1 << 30

// GitIgnored returns a Skip function for Options that skips what .gitignore (and the other
// standard exclude files) ignore, asking git once per PATH argument. A PATH that is not in a
// git work tree skips nothing.
func GitIgnored(ctx context.Context) func(root, rel string, dir bool) bool {
	var mu sync.Mutex
	cache := map[string]map[string]bool{}
	return func(root, rel string, dir bool) bool {
		mu.Lock()
		ignored, ok := cache[root]
		if !ok {
			ignored = map[string]bool{}
			cmd := process.Command(ctx, gitArgs(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"))
			if out, err := process.Output(ctx, cmd, maxGitListing); err == nil {
				for _, p := range strings.Split(string(out), "\x00") {
					if p = strings.TrimSuffix(p, "/"); p != "" {
						ignored[p] = true
					}
				}
			}
			cache[root] = ignored
		}
		mu.Unlock()
		return ignored[rel]
	}
}

// gitTopLevel is the top of the git work tree dir is inside, or "" when it is in none (or is
// not a folder). When git cannot say (not installed, a repository owned by another user that
// git refuses as "dubious ownership", as in a CI container, a .git file pointing at a moved
// repository), the nearest folder above dir holding a .git is the top: silence would read as
// "no key in history" when none of it was read.
func gitTopLevel(ctx context.Context, dir string) string {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	out, err := process.Output(ctx, process.Command(ctx, gitArgs(dir, "rev-parse", "--show-toplevel")), 64<<10)
	if err == nil {
		return strings.TrimSpace(string(out))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, ".git")); err == nil && (st.IsDir() || st.Mode().IsRegular()) {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// nestedRepoRefusal says why dir's history is not to be read, nil when it may be. A .git file
// ('gitdir: PATH', a submodule's or a worktree's), a commondir file (a worktree's) and
// objects/info/alternates can each name any repository on the host, so a scanned tarball
// could make waasctl read another repository's history and report it as its own; a submodule's
// .git file points into its superproject's .git/modules, inside the tree. Any of these that is
// not a small regular file (a FIFO, which blocked the scan past Ctrl-C; a symlink, which git
// would follow anywhere) is refused too.
func nestedRepoRefusal(root, dir string) error {
	resolve := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return p
	}
	top := resolve(root)
	outside := func(p string) error {
		rel, err := filepath.Rel(top, resolve(p))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("history not scanned: its .git names a repository outside the scanned folder (%s); scan that repository itself if it is yours", textsafe.Line(p))
		}
		return nil
	}
	// relTo is p, a path git reads relative to base.
	relTo := func(base, p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	gitDir := filepath.Join(dir, ".git")
	if st, err := os.Lstat(gitDir); err == nil && st.Mode().IsRegular() {
		data, _, err := readGitPointer(gitDir)
		if err != nil {
			return err
		}
		line, _, _ := strings.Cut(data, "\n")
		target, isGitFile := strings.CutPrefix(line, "gitdir:")
		if target = strings.TrimSpace(target); !isGitFile || target == "" {
			return nil // not a .git file git reads: git fails on it, and says so
		}
		gitDir = relTo(dir, target)
	}
	if err := outside(gitDir); err != nil {
		return err
	}
	common := gitDir
	data, ok, err := readGitPointer(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return err
	}
	if c := strings.TrimSpace(data); ok && c != "" {
		common = relTo(gitDir, c)
		if err := outside(common); err != nil {
			return err
		}
	}
	objects := filepath.Join(common, "objects")
	data, _, err = readGitPointer(filepath.Join(objects, "info", "alternates"))
	if err != nil {
		return err
	}
	for a := range strings.Lines(data) {
		if a = strings.TrimSpace(a); a != "" && !strings.HasPrefix(a, "#") {
			if err := outside(relTo(objects, a)); err != nil {
				return err
			}
		}
	}
	return nil
}

// readGitPointer reads one of git's small pointer files, up to 64 KiB: false when there is
// none, an error when it is not a regular file (opened without following a symlink and
// without blocking on a FIFO, as the walk opens files) or is larger.
func readGitPointer(path string) (string, bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	f, _, err := openNoFollow(path)
	if err == nil {
		var data []byte
		data, err = fsutil.ReadAll(f, path, 64<<10)
		f.Close()
		if err == nil {
			return string(data), true, nil
		}
	}
	return "", true, fmt.Errorf("history not scanned: git would read %s, which is not a small regular file (%v)", textsafe.Line(path), textsafe.Line(err.Error()))
}

// IsGitRepo reports whether dir is the top of a git work tree or a bare repository.
func IsGitRepo(dir string) bool {
	if st, err := os.Stat(filepath.Join(dir, ".git")); err == nil && (st.IsDir() || st.Mode().IsRegular()) {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "HEAD"))
	_, err2 := os.Stat(filepath.Join(dir, "objects"))
	return err == nil && err2 == nil
}

// blobRef is a blob of history with where it was first seen.
type blobRef struct {
	id, path, commit, author string
}

// ScanGitHistory scans every blob reachable from every ref of the repository at dir once,
// reading them through one `git cat-file --batch`. Findings name the commit that introduced
// the path (the newest one reaching it first), its author, and the path as dir/path.
func (s *Scanner) ScanGitHistory(ctx context.Context, dir string) {
	blobs, err := s.historyBlobs(ctx, dir)
	if err != nil {
		s.addError(dir, fmt.Errorf("git history not scanned: %w", err))
		return
	}
	s.scanBlobs(ctx, dir, blobs, func(b blobRef) string { return filepath.Join(dir, b.path) })
}

// ScanStaged scans what `git commit` would record: the index's version of every staged file
// that is added, copied or modified.
func (s *Scanner) ScanStaged(ctx context.Context, dir string) {
	// --raw names each staged blob by its id, so no path (which may hold a newline) is ever a
	// line of cat-file's input.
	cmd := process.Command(ctx, gitArgs(dir, "diff", "--cached", "--raw", "--no-abbrev", "--no-renames", "--no-ext-diff", "-z", "--diff-filter=ACMR"))
	out, err := process.Output(ctx, cmd, maxGitListing)
	if err != nil {
		s.addError(dir, fmt.Errorf("staged changes not listed: %w", gitErr(err)))
		return
	}
	var blobs []blobRef
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		// ":100644 100644 <old> <new> M", then the path.
		parts := strings.Fields(fields[i])
		if len(parts) < 5 || !strings.HasPrefix(parts[1], "100") {
			continue // a symlink or a submodule
		}
		blobs = append(blobs, blobRef{id: parts[3], path: fields[i+1]})
	}
	s.scanBlobs(ctx, dir, blobs, func(b blobRef) string { return filepath.Join(dir, b.path) })
}

// gitArgs is a git command in dir that runs none of the repository's own programs: a scanned
// folder is not trusted, and its config could name an fsmonitor hook or an external diff.
func gitArgs(dir string, args ...string) []string {
	return append([]string{"git", "-c", "core.fsmonitor=false", "-c", "diff.external=", "-C", dir}, args...)
}

func gitErr(err error) error {
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) {
		return fmt.Errorf("git failed (exit %d): is it a git repository?", ee.ExitCode())
	}
	return err
}

// historyBlobs lists every blob reachable from every ref, once, with the first commit (in
// `git log --all` order, newest first) that holds it at a path.
func (s *Scanner) historyBlobs(ctx context.Context, dir string) ([]blobRef, error) {
	// One git log with raw diffs names, per commit, each blob it added or changed, so a blob
	// is attributed to the commit that introduced it.
	// --root: the blobs of a root commit too, whatever log.showRoot says.
	cmd := process.Command(ctx, gitArgs(dir, "log", "--all", "--root", "--no-renames", "--no-ext-diff", "--raw", "--no-abbrev", "-z", "--format=%x00commit %H%x00%an <%ae>", "--diff-merges=first-parent"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var blobs []blobRef
	br := bufio.NewReaderSize(stdout, 1<<16)
	var commit, author string
	readField := func() (string, error) {
		f, err := br.ReadString(0)
		return strings.TrimSuffix(f, "\x00"), err
	}
	for {
		f, err := readField()
		if err != nil {
			break
		}
		f = strings.TrimLeft(f, "\n")
		switch {
		case strings.HasPrefix(f, "commit "):
			commit = strings.TrimPrefix(f, "commit ")
			if author, err = readField(); err != nil {
				break
			}
		case strings.HasPrefix(f, ":"):
			// ":100644 100644 <old> <new> M", then the path.
			parts := strings.Fields(f)
			path, err := readField()
			if err != nil || len(parts) < 5 {
				continue
			}
			id := parts[3]
			if strings.Trim(id, "0") == "" || seen[id] || !strings.HasPrefix(parts[1], "100") {
				continue // a deletion, a blob seen already, a symlink or submodule
			}
			seen[id] = true
			blobs = append(blobs, blobRef{id: id, path: path, commit: commit, author: author})
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, gitErr(err)
	}
	return blobs, nil
}

// scanBlobs reads blobs through one `git cat-file --batch` and scans each like a file.
func (s *Scanner) scanBlobs(ctx context.Context, dir string, blobs []blobRef, pathOf func(blobRef) string) {
	if len(blobs) == 0 {
		return
	}
	cmd := process.Command(ctx, gitArgs(dir, "cat-file", "--batch"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		s.addError(dir, err)
		return
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.addError(dir, err)
		return
	}
	if err := cmd.Start(); err != nil {
		s.addError(dir, err)
		return
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, b := range blobs {
			if _, err := w.WriteString(b.id + "\n"); err != nil {
				break
			}
		}
		w.Flush()
		stdin.Close()
	}()
	br := bufio.NewReaderSize(stdout, 1<<16)
	for _, b := range blobs {
		if ctx.Err() != nil {
			break
		}
		header, err := br.ReadString('\n')
		if err != nil {
			s.addError(dir, fmt.Errorf("git cat-file ended early: %w", err))
			break
		}
		fields := strings.Fields(header)
		if len(fields) != 3 {
			s.addError(pathOf(b), fmt.Errorf("git cat-file: %s", textsafe.Line(strings.TrimSpace(header))))
			continue // "<id> missing": one line, nothing follows
		}
		size, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			s.addError(dir, fmt.Errorf("git cat-file answered %q: the rest of the blobs are not scanned", textsafe.Line(strings.TrimSpace(header))))
			break
		}
		path := pathOf(b)
		sub := New(s.opts)
		sub.vshare = &s.verified
		sub.mem = s.mem
		blob := io.LimitReader(br, size)
		pkg := newBudget()
		sub.scanStream(ctx, path, blob, 0, pkg)
		sub.flushPackage(ctx, pkg)
		// Whatever the scan left unread of the blob (an archive past a cap).
		if _, err := io.Copy(io.Discard, blob); err != nil {
			s.addError(dir, fmt.Errorf("git cat-file ended early: %w", err))
			break
		}
		r := sub.Finish()
		for _, f := range r.Findings {
			f.Commit, f.Author = b.commit, b.author
			s.addFinding(f)
		}
		for _, e := range r.Errors {
			s.addError(e.Path, errors.New(e.Reason))
		}
		s.files.Add(r.Files)
		s.bytes.Add(r.Bytes)
		br.Discard(1)
	}
	stdout.Close()
	_ = cmd.Wait()
}
