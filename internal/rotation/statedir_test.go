//go:build unix

package rotation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// A symlink planted in locks/ must not have the lock's truncate and write land on its target
// (what `keys rotate prod --resume` did to whatever locks/prod.lock pointed at).
func TestLockRefusesASymlinkAndLeavesItsTargetAlone(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "locks"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "locks", "prod.lock")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	_, err := AcquireLock(dir, "prod", Holder{Command: "keys rotate"}, true)
	if !errors.Is(err, fsutil.ErrSymlink) || !strings.Contains(err.Error(), link) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Fatalf("the victim now holds %q", got)
	}
}

func TestLockDoesNotCreateADanglingSymlinksTarget(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "locks"), 0o700)
	target := filepath.Join(t.TempDir(), "created-by-waasctl")
	os.Symlink(target, filepath.Join(dir, "locks", "prod.lock"))
	if _, err := AcquireLock(dir, "prod", Holder{}, false); err == nil {
		t.Fatal("took a lock through a dangling symlink")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the dangling link's target was created")
	}
}

func TestStateSubfoldersMustBePrivate(t *testing.T) {
	elsewhere := t.TempDir()
	os.Chmod(elsewhere, 0o755)
	for _, sub := range []string{"locks", "journals"} {
		t.Run(sub+" symlink", func(t *testing.T) {
			dir := t.TempDir()
			os.Symlink(elsewhere, filepath.Join(dir, sub))
			checkStateRefused(t, dir, sub)
			if fi, _ := os.Stat(elsewhere); fi.Mode().Perm() != 0o755 {
				t.Fatalf("the link's target was chmodded to %v", fi.Mode().Perm())
			}
		})
		t.Run(sub+" world-writable", func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, sub), 0o700)
			os.Chmod(filepath.Join(dir, sub), 0o777)
			checkStateRefused(t, dir, sub)
		})
		t.Run(sub+" owned by nobody", func(t *testing.T) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a folder to another user")
			}
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, sub), 0o700)
			os.Chown(filepath.Join(dir, sub), 65534, 65534)
			checkStateRefused(t, dir, sub)
		})
	}
}

// checkStateRefused checks that the rotation refuses to use dir/sub, naming it.
func checkStateRefused(t *testing.T, dir, sub string) {
	t.Helper()
	var errs []error
	switch sub {
	case "locks":
		_, err := AcquireLock(dir, "prod", Holder{}, false)
		errs = append(errs, err)
	case "journals":
		_, err := LoadJournal(dir, "prod")
		errs = append(errs, err, newTestJournal(t).Save(dir))
	}
	for _, err := range errs {
		var pe *fsutil.PrivateDirError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), filepath.Join(dir, sub)) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
	}
}
