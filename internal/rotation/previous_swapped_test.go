package rotation

import (
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/testctx"
)

// During the grace period the keyring's PREVIOUS slot is given another secret under the old
// key's name (a wrong file stored by hand): that secret never authenticated, so an HTTP 401 for
// it would "confirm" a revocation that proves nothing. The resume refuses, naming the
// disagreement, and the old key is not revoked.
func TestResumeRefusesAPreviousKeyThatIsTheOldKeysNameOnly(t *testing.T) {
	r := newRig(t)
	old, pastGrace := stopInGrace(t, r)
	it := r.item()
	impostor := storetest.Key(t, 0, "impostor")
	impostor.Name = old.Name
	it.Previous = impostor
	if err := r.store.Put(testctx.New(t), it); err != nil {
		t.Fatal(err)
	}
	pastGrace()
	j, err := r.e.Resume(testctx.New(t))
	if err == nil || !strings.Contains(err.Error(), "does not match the keyring") {
		t.Fatalf("resume with another secret as PREVIOUS: %v; want a refusal", err)
	}
	noSecret(t, err)
	if j != nil && !j.RevokedAt.IsZero() {
		t.Fatal("the journal records a revocation")
	}
	if !r.authenticates(old) {
		t.Fatal("the old key was revoked")
	}
}
