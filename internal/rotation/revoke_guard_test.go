package rotation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
)

// The revoke step revokes the old key only while the keyring's CURRENT key is the new one:
// if anything put the old key back as CURRENT, or undid the promotion, between promote and
// revoke, revoking it would leave the profile's consumers on a dead key. Each case stops a
// rotation in its grace period (after promote), changes the keyring, and resumes after the
// grace: the engine must refuse, and the old key must still authenticate at WaaS.
func TestEngineRefusesToRevokeWhenTheNewKeyIsNotCurrent(t *testing.T) {
	cases := map[string]func(it *credentials.Item) *credentials.Item{
		// Someone (an `auth add --force`, a restore) made the old key CURRENT again,
		// keeping the new one as PREVIOUS.
		"old key back as CURRENT": func(it *credentials.Item) *credentials.Item {
			return &credentials.Item{Profile: it.Profile, Current: it.Previous, Previous: it.Current}
		},
		// The promotion is undone: the old key CURRENT, the new one PENDING again.
		"promotion undone": func(it *credentials.Item) *credentials.Item {
			return &credentials.Item{Profile: it.Profile, Current: it.Previous, Pending: it.Current}
		},
		// The old key is CURRENT and the new one is gone from the keyring.
		"new key dropped": func(it *credentials.Item) *credentials.Item {
			return &credentials.Item{Profile: it.Profile, Current: it.Previous}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			r.e.Now = func() time.Time { return now }
			r.e.Grace = time.Hour
			old := r.item().Current
			ctx := context.Background()

			if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("rotate within the grace: %v", err)
			}
			promoted := r.item()
			if promoted.Current.Fingerprint == old.Fingerprint || promoted.Previous == nil || promoted.Previous.Fingerprint != old.Fingerprint {
				t.Fatalf("after promote: %v", promoted)
			}
			if err := r.store.Put(ctx, change(promoted)); err != nil {
				t.Fatal(err)
			}
			changed := r.item()

			now = now.Add(2 * time.Hour)
			j, err := r.e.Resume(ctx)
			// The journal's cross-check with the keyring refuses first; the revoke step's own
			// guard is behind it. Either way: a refusal, and nothing revoked.
			if err == nil || !strings.Contains(err.Error(), "refusing to revoke the old one") && !strings.Contains(err.Error(), "does not match the keyring") {
				t.Fatalf("resume with %s: err = %v, want a refusal to revoke", name, err)
			}
			noSecret(t, err)
			if j != nil && !j.RevokedAt.IsZero() {
				t.Fatalf("the journal records a revocation at %s", j.RevokedAt)
			}
			if !r.authenticates(old) {
				t.Fatal("the old key, CURRENT again, was revoked at WaaS")
			}
			if _, revoked := r.keys(); len(revoked) != 0 {
				t.Fatalf("keys revoked at the sandbox: %v", revoked)
			}
			after := r.item()
			if after.Current.Fingerprint != changed.Current.Fingerprint || (after.Previous == nil) != (changed.Previous == nil) || (after.Pending == nil) != (changed.Pending == nil) {
				t.Fatalf("the keyring was changed by the refused revoke: %v, was %v", after, changed)
			}
		})
	}
}
