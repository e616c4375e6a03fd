package rotation

import (
	"context"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/testctx"
)

// The new key revoked behind waasctl's back during the grace period (a portal mistake, a
// colleague's cleanup): the resume after the grace must not revoke the old key, the only one
// that still works, and must say why and what to do. The issuer revokes with credentials of
// its own (as the exec issuer's program does), so WaaS would take the revocation.
func TestResumeKeepsTheOldKeyWhenTheNewOneWasRevokedMeanwhile(t *testing.T) {
	r := newRig(t)
	old, pastGrace := stopInGrace(t, r)
	newKey := r.item().Current
	if err := r.sb.RevokeAPIKey(newKey.Name); err != nil {
		t.Fatal(err)
	}
	r.e.Issuer = &adminIssuer{currentIssuer{r: r}}
	pastGrace()
	j, err := r.e.Resume(testctx.New(t))
	if err == nil || !strings.Contains(err.Error(), "refused by WaaS") || !strings.Contains(err.Error(), "--abort") {
		t.Fatalf("resume with the new key revoked: %v; want a refusal naming --abort", err)
	}
	noSecret(t, err)
	if j != nil && !j.RevokedAt.IsZero() {
		t.Fatalf("the journal records a revocation at %s", j.RevokedAt)
	}
	if !r.authenticates(old) {
		t.Fatal("the old key, the only working one, was revoked")
	}
}

// adminIssuer revokes at the sandbox directly, whatever key the keyring holds.
type adminIssuer struct{ currentIssuer }

func (a *adminIssuer) Revoke(ctx context.Context, name string) error {
	return a.r.sb.RevokeAPIKey(name)
}

// A rotation of a profile whose CURRENT key WaaS already refuses stops at preflight, saying
// so, before anything is created or changed: a new key could not be verified against a dead
// one, and the operator's fix is `auth add --force`, not a half rotation.
func TestRotateRefusesADeadCurrentKeyAtPreflight(t *testing.T) {
	r := newRig(t)
	r.e.Issuer = &adminIssuer{currentIssuer{r: r}}
	was := r.item()
	if err := r.sb.RevokeAPIKey(was.Current.Name); err != nil {
		t.Fatal(err)
	}
	before := len(r.sb.APIKeys(r.sb.DefaultOrg()))
	j, err := r.e.Rotate(testctx.New(t))
	if err == nil || !strings.Contains(err.Error(), "the current key") || !strings.Contains(err.Error(), "does not work") {
		t.Fatalf("rotate with a revoked CURRENT key: %v; want a refusal at preflight", err)
	}
	noSecret(t, err)
	if j != nil && j.Step != StepPreflight && j.Step != StepAborted {
		t.Fatalf("the rotation went on to %s", j.Step)
	}
	if n := len(r.sb.APIKeys(r.sb.DefaultOrg())); n != before {
		t.Fatalf("%d keys at WaaS, were %d: a key was created", n, before)
	}
	if after := r.item(); after.Current.Fingerprint != was.Current.Fingerprint || after.Pending != nil || after.Previous != nil {
		t.Fatalf("the keyring changed: %v", after)
	}
}
