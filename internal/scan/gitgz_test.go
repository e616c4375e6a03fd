package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// a staged file whose name holds a newline desynchronises `git cat-file
// --batch` (ids are sent one a line as ":path"), so every staged file after it is not
// scanned, and the scan reports nothing and no error: a pre-commit hook passes a key.
func TestStagedNewlineNameDoesNotHideLaterKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	k := newP256(t)
	write(t, filepath.Join(dir, "a\nb"), []byte("hello\n"))
	write(t, filepath.Join(dir, "key.env"), []byte("KEY=\""+k.sec1+"\"\n"))
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	res := New(Options{Staged: true}).Scan(context.Background(), []string{dir})
	if len(res.Findings) != 1 && len(res.Errors) == 0 {
		t.Fatalf("staged key not found and no error: %+v", res)
	}
}

// with log.showRoot=false (a user's ~/.gitconfig or the repository's config),
// `git log --raw` prints no diff for root commits, so --git misses every blob of an initial
// commit (where key files are typically first committed). `git log --root` would not.
func TestGitHistoryScansRootCommitWhateverLogShowRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	k := newP256(t)
	write(t, filepath.Join(dir, "key.env"), []byte("KEY=\""+k.sec1+"\"\n"))
	git(t, dir, "init", "-q")
	git(t, dir, "config", "log.showRoot", "false")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-qm", "initial")
	if err := os.Remove(filepath.Join(dir, "key.env")); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-qm", "remove key")
	res := New(Options{Git: true}).Scan(context.Background(), []string{dir})
	if len(res.Findings) != 1 {
		t.Fatalf("key of the root commit not found: %+v", res)
	}
}

// a gzip layer is "not an archive level", so gzip inside gzip is unwrapped
// without any depth limit, each level holding a 64 KiB bufio.Reader and a decompressor
// (~75 KiB). Measured: 8000 levels (a 637 KB file) take 600 MB RSS; 100k levels (~8 MB)
// would take ~8 GB. Expected: a bounded number of layers, then an error record.
func TestGzipInGzipIsBounded(t *testing.T) {
	dir := t.TempDir()
	data := []byte("hello\n")
	for range 300 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	write(t, filepath.Join(dir, "nest.gz"), data)
	res := scanIn(t, dir, "nest.gz")
	if len(res.Errors) == 0 {
		t.Fatalf("300 nested gzip layers unwrapped with no limit: %+v", res)
	}
}

// --gitignore (and --staged) run git in the scanned folder, which honours
// that folder's .git/config: a core.fsmonitor hook there runs as the user. A folder from
// someone else (an unpacked tarball with its .git) gets to run code by being scanned. Passing
// `-c core.fsmonitor=false` to git would not run it.
func TestGitIgnoreDoesNotRunTheScannedRepositorysHooks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	marker := filepath.Join(t.TempDir(), "ran")
	hook := filepath.Join(t.TempDir(), "hook.sh")
	write(t, hook, []byte("#!/bin/sh\ntouch '"+marker+"'\n"))
	if err := os.Chmod(hook, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "a.txt"), []byte("hello\n"))
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "config", "core.fsmonitor", hook)
	ctx := context.Background()
	New(Options{Skip: GitIgnored(ctx)}).Scan(ctx, []string{dir})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("scanning the folder ran its core.fsmonitor hook")
	}
}
