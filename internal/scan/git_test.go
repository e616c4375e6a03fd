package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/process"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := process.Command(context.Background(), append([]string{"git", "-C", dir}, args...),
		"GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.test",
		"GIT_COMMITTER_NAME=Ann Author", "GIT_COMMITTER_EMAIL=ann@example.test", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestGitHistoryFindsADeletedKeyOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	k := newP256(t)
	write(t, filepath.Join(dir, "README"), []byte("hello\n"))
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "one")
	write(t, filepath.Join(dir, "config/key.json"), []byte(keyFileJSON(testName, k.sec1)))
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "add key")
	// The same blob on a second branch, then the key deleted on main.
	git(t, dir, "checkout", "-qb", "other")
	write(t, filepath.Join(dir, "copy.json"), []byte(keyFileJSON(testName, k.sec1)))
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "copy")
	git(t, dir, "checkout", "-q", "main")
	git(t, dir, "rm", "-q", "config/key.json")
	git(t, dir, "commit", "-qm", "remove key")

	res := New(Options{Git: true}).Scan(context.Background(), []string{dir})
	if len(res.Errors) != 0 {
		t.Fatalf("errors %+v", res.Errors)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("want the blob once, got %+v", res.Findings)
	}
	f := res.Findings[0]
	if len(f.Commit) != 40 || f.Author != "Ann Author <ann@example.test>" || f.Fingerprint != k.fp || f.KeyName != testName ||
		(f.Path != filepath.Join(dir, "config/key.json") && f.Path != filepath.Join(dir, "copy.json")) {
		t.Fatalf("finding %+v", f)
	}
}

func TestStagedScansTheIndexNotTheWorkTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	k := newP256(t)
	write(t, filepath.Join(dir, "a.env"), []byte("KEY=\""+k.sec1+"\"\n"))
	write(t, filepath.Join(dir, "b.env"), []byte("nothing\n"))
	git(t, dir, "init", "-q")
	git(t, dir, "add", "a.env")
	// The key is staged, then removed from the work tree: the commit would still hold it.
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("clean\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := New(Options{Staged: true}).Scan(context.Background(), []string{dir})
	if len(res.Findings) != 1 || !strings.HasSuffix(res.Findings[0].Path, "a.env") || res.Findings[0].Line != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestIgnoreFileAndBaseline(t *testing.T) {
	fs := []Finding{{Path: "a", Fingerprint: "SHA256:x"}, {Path: "b", Fingerprint: "SHA256:x"}, {Path: "c", Fingerprint: "SHA256:y"}, {Path: "d", Fingerprint: "SHA256:z"}}
	ig, err := ParseIgnore([]byte("# comment\nSHA256:x a  # only in a\nSHA256:y\n"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := ParseBaseline([]byte(`{"type":"finding","path":"d","fingerprint":"SHA256:z"}` + "\n" + `{"type":"error","path":"e","reason":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	Suppress(fs, ig, base)
	got := []string{fs[0].Suppressed, fs[1].Suppressed, fs[2].Suppressed, fs[3].Suppressed}
	if strings.Join(got, ",") != "ignore file,,ignore file,baseline" {
		t.Fatalf("%q", got)
	}
	if _, err := ParseIgnore([]byte("not-a-fingerprint\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err %v", err)
	}
}

func TestTieMarksLiveKeys(t *testing.T) {
	fs := []Finding{{Fingerprint: "SHA256:a"}, {Fingerprint: "SHA256:b"}}
	Tie(fs, []KeySlot{{Profile: "prod", Slot: "PREVIOUS", Fingerprint: "SHA256:b"}})
	if fs[0].Live || !fs[1].Live || fs[1].Profile != "prod" || fs[1].Slot != "PREVIOUS" {
		t.Fatalf("%+v", fs)
	}
}
