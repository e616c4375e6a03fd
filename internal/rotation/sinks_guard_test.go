package rotation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Once the old key's revocation was asked for, an abort is refused: WaaS may have revoked the
// key without showing it yet (propagation delay, or a check cut short by Ctrl-C), and rolling
// back to it while revoking the new key would leave no working key, with exit 0.
func TestAbortRefusedOnceRevocationRequested(t *testing.T) {
	r := newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 2}, RevocationDelay: 1000})
	_, pastGrace := stopInGrace(t, r)
	pastGrace()
	if _, err := r.e.Resume(context.Background()); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "still authenticates after it was revoked") || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("resume: %v, want the propagation delay as resumable (exit 5)", err)
	}
	cur := r.item().Current
	_, err := r.e.Abort(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot be aborted, only finished") {
		t.Fatalf("abort after the revocation was asked for: %v", err)
	}
	if it := r.item(); it.Current.Fingerprint != cur.Fingerprint || !r.authenticates(cur) {
		t.Fatalf("the abort changed or broke the CURRENT key: %v", it)
	}
}

// A sink the journal says got the new key, taken out of the profile before --abort: nothing can
// give it the old key back, so the abort does not revoke the new key under it. Without --force
// it stops before changing anything; with it, it ends and names the sink with the key.
func TestAbortKeepsTheKeyOfASinkRemovedFromTheProfile(t *testing.T) {
	r := newRig(t)
	broken := &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true}
	r.e.Sinks = append(r.e.Sinks, broken)
	old := r.item().Current
	ctx := context.Background()
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	newKey := r.item().Pending
	r.e.Sinks = []Sink{broken} // the operator takes the wrong sink out of the profile
	_, err := r.e.Abort(ctx)
	if err == nil || !strings.Contains(err.Error(), r.env.Path) || !strings.Contains(err.Error(), "no longer lists it") {
		t.Fatalf("abort: %v", err)
	}
	if !r.authenticates(newKey) || r.item().Pending == nil {
		t.Fatal("the refused abort changed something")
	}
	r.e.ForceAbort = true
	_, err = r.e.Abort(ctx)
	var manual *ManualRevokeError
	if !errors.As(err, &manual) || !strings.Contains(err.Error(), r.env.Path+" (no longer in the profile) still hold it") {
		t.Fatalf("abort --force: %v", err)
	}
	if !r.authenticates(newKey) {
		t.Fatal("the new key was revoked while a sink out of the profile holds it")
	}
	r.untouched(old)
}

// A sink added to the profile while the rotation waits out its grace period gets the CURRENT
// key before the old one is revoked.
func TestResumeDeliversToASinkAddedDuringTheGrace(t *testing.T) {
	r := newRig(t)
	old, pastGrace := stopInGrace(t, r)
	added := &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}
	if _, err := WriteEnvKey(added.Path, old.Name, old.PrivateKey); err != nil {
		t.Fatal(err)
	}
	r.e.Sinks = append(r.e.Sinks, added)
	pastGrace()
	if _, err := r.e.Resume(context.Background()); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if _, fp, _ := ReadEnvKey(added.Path); fp != r.item().Current.Fingerprint {
		t.Fatalf("the added sink holds %s, not the CURRENT key", fp)
	}
	if r.authenticates(old) {
		t.Fatal("the old key was not revoked")
	}
}

// A journal edited from deliver to promote (a sink never got the new key): the old key is not
// revoked while that sink cannot be given the CURRENT key.
func TestResumeDoesNotRevokeWhileASinkLacksTheCurrentKey(t *testing.T) {
	r := newRig(t)
	broken := &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true}
	r.e.Sinks = append(r.e.Sinks, broken)
	old := r.item().Current
	ctx := context.Background()
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	r.editJournal(func(j *Journal) { j.Step = StepPromote })
	if _, err := r.e.Resume(ctx); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "the old key is not revoked") {
		t.Fatalf("resume: %v", err)
	}
	if !r.authenticates(old) {
		t.Fatal("the old key was revoked while a sink lacks the new one")
	}
	broken.fail = false
	if _, err := r.e.Resume(ctx); err != nil {
		t.Fatalf("resume once the sink works: %v", err)
	}
	if _, fp, _ := ReadEnvKey(broken.Sink.(*EnvfileSink).Path); fp != r.item().Current.Fingerprint {
		t.Fatal("the sink does not hold the CURRENT key")
	}
}

// twoKeyIssuer makes two keys for a request and answers with something unreadable, as an exec
// plugin that prints both keys does.
type twoKeyIssuer struct {
	Issuer
	r *rig
}

func (i *twoKeyIssuer) Create(ctx context.Context, requestID string) (*NewKey, error) {
	for n := range 2 {
		if _, err := i.r.sb.CreateAPIKey(i.r.sb.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "twice", RequestID: requestID + strconv.Itoa(n)}); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: issuer command \"plugin\" create: its output is not JSON", ErrUnreadableAnswer)
}

// An issuer answer that cannot be read may stand for more keys than find can name: the abort
// revokes what find names and still lists the request for checking in the portal (exit 1),
// instead of exiting 0 with a key nobody knows of.
func TestUnreadableCreateAnswerIsListedForTheOperator(t *testing.T) {
	r := newRig(t)
	r.e.Issuer = &twoKeyIssuer{Issuer: r.e.Issuer, r: r}
	ctx := context.Background()
	j, err := r.e.Rotate(ctx)
	if !errors.Is(err, ErrUnreadableAnswer) || j == nil {
		t.Fatalf("rotate: %v", err)
	}
	_, err = r.e.Abort(ctx)
	var manual *ManualRevokeError
	if !errors.As(err, &manual) || !strings.Contains(err.Error(), j.RequestID) || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("abort: %v", err)
	}
}

// A rotation that cannot write the audit log does not start: every change to a key is logged.
// (A log whose head checkpoint was deleted no longer takes appends.)
func TestRotationDoesNotStartWithoutTheAuditLog(t *testing.T) {
	r := newRig(t)
	r.withAudit()
	if _, err := r.e.Audit.Append(auditlog.Entry{Command: "test", Action: "seed", Outcome: auditlog.OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.e.Audit.Dir(), auditlog.HeadName)); err != nil {
		t.Fatal(err)
	}
	old := r.item().Current
	_, err := r.e.Rotate(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the audit log cannot be written") {
		t.Fatalf("rotate with a damaged audit log: %v", err)
	}
	r.untouched(old)
	if active, _ := r.keys(); len(active) != 1 {
		t.Fatalf("a key was created: %v", active)
	}
}
