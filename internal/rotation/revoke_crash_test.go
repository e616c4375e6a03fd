package rotation

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"

	"github.com/waasctl/waasctl/internal/testctx"
)

// crashCopyIssuer copies the state folder and the keyring's item at the moment the old key's
// revocation is sent: what a SIGKILL there would leave.
type crashCopyIssuer struct {
	currentIssuer
	stateDir, copyTo string
	copied           bool
	item             *credentials.Item
}

func (c *crashCopyIssuer) Revoke(ctx context.Context, name string) error {
	if !c.copied {
		c.copied = true
		c.item = c.r.item()
		if err := os.CopyFS(c.copyTo, os.DirFS(c.stateDir)); err != nil {
			return err
		}
	}
	return c.currentIssuer.Revoke(ctx, name)
}

// A crash right after the revocation of the old key was sent (WaaS may have revoked it)
// must leave a journal that refuses --abort: an abort would make the old key, maybe dead,
// CURRENT again and revoke the new one, leaving no working key. The journal records the
// request before it is sent. WaaS here takes a while to refuse a revoked key (a revocation
// delay), so the abort cannot learn from WaaS that the old key is gone.
func TestACrashDuringTheRevocationLeavesARotationThatCannotBeAborted(t *testing.T) {
	r := newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 2}, RevocationDelay: 1000})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	crashed := t.TempDir() + "/state"
	iss := &crashCopyIssuer{currentIssuer: currentIssuer{r: r}, stateDir: r.e.StateDir, copyTo: crashed}
	r.e.Issuer = iss
	ctx := testctx.New(t)
	if _, err := r.e.Rotate(ctx); err != nil && !errors.Is(err, ErrIncomplete) {
		t.Fatal(err) // ErrIncomplete: the old key still authenticates, for now
	}
	if !iss.copied {
		t.Fatal("the old key was never revoked")
	}

	// The operator, after the crash, runs keys rotate --abort on what the crash left.
	if err := r.store.Put(ctx, iss.item); err != nil {
		t.Fatal(err)
	}
	after := &Engine{
		Profile: "prod", StateDir: crashed, Store: r.store, Issuer: &currentIssuer{r: r},
		Sinks: r.e.Sinks, Check: r.check, Now: r.e.Now, VerifyTries: 3, VerifyBackoff: time.Millisecond,
	}
	j, err := after.Abort(ctx)
	if err == nil || !strings.Contains(err.Error(), "asked for the old key") || !strings.Contains(err.Error(), "cannot be aborted, only finished") {
		t.Fatalf("abort after a crash mid-revocation: %v; want a refusal saying the old key's revocation was asked for", err)
	}
	if j != nil && j.Step == StepAborted {
		t.Fatal("the journal says aborted")
	}
	if it := r.item(); it.Current.Fingerprint != iss.item.Current.Fingerprint {
		t.Fatal("the abort made the old key, whose revocation was sent, CURRENT again")
	}
	if !r.authenticates(iss.item.Current) {
		t.Fatal("the abort revoked the new key")
	}
	noSecret(t, err)
}
