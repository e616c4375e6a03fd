package auditlog

import (
	"os"
	"path/filepath"
	"testing"
)

// An audit log restored from a backup, or copied in, with a looser mode (0644: readable by
// everyone on the host) is made private again (0600) when waasctl opens it, and still verifies.
func TestOpenMakesARestoredLogPrivateAgain(t *testing.T) {
	dir := t.TempDir()
	l := newLog(t, dir)
	if _, err := l.Append(Entry{Command: "auth add", Action: "add", Outcome: OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, HeadName} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, HeadName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s after Open: mode %v, err %v; want 0600", name, fi.Mode().Perm(), err)
		}
	}
	if rep, err := Verify(dir); err != nil || rep.Problem != nil {
		t.Fatalf("verify after Open: %+v, %v", rep, err)
	}
}
