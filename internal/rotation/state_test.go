package rotation_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/rotation"
	"github.com/waasctl/waasctl/internal/rotation/statetest"
)

// The state folder passes the StateBackend contract: two processes of one host share it.
func TestLocalStateContract(t *testing.T) {
	statetest.Run(t, statetest.Options{
		New: func(t *testing.T) (rotation.StateBackend, rotation.StateBackend) {
			dir := t.TempDir()
			open := func() rotation.StateBackend {
				log, err := auditlog.Open(filepath.Join(dir, "audit"))
				if err != nil {
					t.Fatal(err)
				}
				return &rotation.LocalState{Dir: dir, Audit: log}
			}
			return open(), open()
		},
		LoseLock: func(t *testing.T, a rotation.StateBackend, profile string) {
			// As a --force takeover does: the held file is moved aside.
			path := filepath.Join(a.(*rotation.LocalState).Dir, "locks", profile+".lock")
			if err := os.Rename(path, path+".stale"); err != nil {
				t.Fatal(err)
			}
		},
		VerifyAudit: func(t *testing.T, a rotation.StateBackend) uint64 {
			rep, err := auditlog.Verify(a.(*rotation.LocalState).Audit.Dir())
			if err != nil || !rep.OK {
				t.Fatalf("audit log: %+v, %v", rep, err)
			}
			return uint64(rep.Entries)
		},
	})
}
