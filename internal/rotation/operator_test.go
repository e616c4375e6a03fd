package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Tests of the engine against what operators and the world do to it, beyond crashes: the wrong
// key handed over, a journal edited by hand, keys removed or shared behind its back, issuers
// that cannot do everything. Each reproduces a way a rotation once destroyed the key it protects
// or could not be left.

// opCtx bounds a test whose failure could be a wait that never ends (the manual issuer's, for a
// deletion nobody makes): it then fails at the deadline instead of hanging the suite.
func opCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// keyJSON is a portal download of a key.
func keyJSON(t *testing.T, name, secret string) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]string{"name": name, "privateKey": secret})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// manualWith is a manual issuer that is handed data as the new key, and watches for a deletion
// as the CLI's does: through the keyring's PREVIOUS slot.
func (r *rig) manualWith(data []byte) *ManualIssuer {
	return &ManualIssuer{
		Instruct: func(string) {},
		Obtain:   func(context.Context) ([]byte, string, error) { return data, "file download.json", nil },
		Rejected: func(ctx context.Context, name string) (bool, error) {
			it, err := r.store.Get(ctx, "prod")
			if err != nil || it.Previous == nil || it.Previous.Name != name {
				return false, ErrKeyNotHeld
			}
			return !r.authenticates(it.Previous), nil
		},
		PollEvery: 10 * time.Millisecond, Timeout: time.Hour,
	}
}

// auditText opens an audit log for the engine and returns a reader of its text.
func (r *rig) withAudit() func() string {
	r.t.Helper()
	audit, err := auditlog.Open(r.t.TempDir())
	if err != nil {
		r.t.Fatal(err)
	}
	r.e.Audit = audit
	return func() string {
		data, _ := os.ReadFile(filepath.Join(audit.Dir(), auditlog.FileName))
		return string(data)
	}
}

// untouched checks that the keyring still holds only the original key as CURRENT, that it works,
// and that no journal is in progress.
func (r *rig) untouched(old *credentials.StoredKey) {
	r.t.Helper()
	it := r.item()
	if it.Current.Fingerprint != old.Fingerprint || it.Pending != nil || it.Previous != nil {
		r.t.Fatalf("keyring: %v", it)
	}
	if !r.authenticates(old) {
		r.t.Fatal("the CURRENT key was revoked")
	}
}

// Reproduction 1: the operator hands over the CURRENT key's own file as the "new" key (a second
// download the browser renamed). It was stored as PENDING, promoted, and then revoked as the old
// key; now it is refused at create, before it is stored or delivered, and nothing is revoked.
func TestRotateCurrentAsNew(t *testing.T) {
	r := newRig(t)
	old := r.item().Current
	r.e.Issuer = r.manualWith(keyJSON(t, old.Name, old.PrivateKey))
	ctx := opCtx(t)

	j, err := r.e.Rotate(ctx)
	if err == nil || !strings.Contains(err.Error(), "is the profile's CURRENT key, not a new key") {
		t.Fatalf("rotate: %v", err)
	}
	noSecret(t, err)
	if j.Step != StepCreate || j.NewKey.Name != "" {
		t.Fatalf("journal %+v", j)
	}
	r.untouched(old)
	if _, fp, _ := ReadEnvKey(r.env.Path); fp != "" {
		t.Fatal("the key was delivered")
	}
	// Resuming with the same file is refused again; abort ends it and revokes nothing.
	if _, err := r.e.Resume(ctx); err == nil || !strings.Contains(err.Error(), "not a new key") {
		t.Fatalf("resume: %v", err)
	}
	if _, err := r.e.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	r.noEnv = true
	r.settled()
	if !r.authenticates(old) {
		t.Fatal("the CURRENT key was revoked")
	}
}

// The PREVIOUS key (the one a rotation in its grace period is to revoke) and a key another
// profile holds are no new keys either.
func TestRotateHeldKey(t *testing.T) {
	t.Run("previous", func(t *testing.T) {
		r := newRig(t)
		r.e.Grace = time.Hour
		now := time.Now()
		r.e.Now = func() time.Time { return now }
		old := r.item().Current
		ctx := opCtx(t)
		if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
			t.Fatal(err)
		}
		// The grace period ends; the next rotation is handed the old key.
		now = now.Add(2 * time.Hour)
		if _, err := r.e.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		r.e.Issuer = r.manualWith(keyJSON(t, old.Name, old.PrivateKey))
		// The old key is revoked now; the keyring is settled with only the new CURRENT.
		// Put the old key back as PREVIOUS, as an auth add --force would have.
		it := r.item()
		it.Previous = old
		if err := r.store.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := r.e.Rotate(ctx); err == nil || !strings.Contains(err.Error(), "is the profile's PREVIOUS key") {
			t.Fatalf("rotate: %v", err)
		}
	})
	t.Run("other", func(t *testing.T) {
		r := newRig(t)
		ctx := opCtx(t)
		other, err := r.sb.CreateAPIKey(r.sb.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "staging"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.store.Put(ctx, &credentials.Item{Profile: "staging", Current: &credentials.StoredKey{Name: other.Name, PrivateKey: other.PrivateKey}}); err != nil {
			t.Fatal(err)
		}
		old := r.item().Current
		r.e.Issuer = r.manualWith(keyJSON(t, other.Name, other.PrivateKey))
		if _, err := r.e.Rotate(ctx); err == nil || !strings.Contains(err.Error(), "is the CURRENT key of profile staging") {
			t.Fatalf("rotate: %v", err)
		}
		r.untouched(old)
		if _, err := r.e.Abort(ctx); err != nil {
			t.Fatal(err)
		}
		if !r.authenticates(&credentials.StoredKey{Name: other.Name, PrivateKey: other.PrivateKey}) {
			t.Fatal("staging's key was revoked")
		}
	})
}

// failIssuer is an exec-like issuer whose create fails and which has no find.
type failIssuer struct {
	Issuer
	createErr, revokeErr error
	noFind               bool
}

func (f *failIssuer) Create(ctx context.Context, id string) (*NewKey, error) {
	if f.createErr != nil {
		return nil, f.createErr
	}
	return f.Issuer.Create(ctx, id)
}

func (f *failIssuer) Find(ctx context.Context, id string) (string, bool, error) {
	if f.noFind {
		return "", false, ErrFindUnsupported
	}
	return f.Issuer.Find(ctx, id)
}

func (f *failIssuer) Revoke(ctx context.Context, name string) error {
	if f.revokeErr != nil {
		return f.revokeErr
	}
	return f.Issuer.Revoke(ctx, name)
}

// Reproduction 3: an exec issuer whose create fails and which has no find (exit 3). --abort
// failed every time, and every new rotation was refused as "in progress". Now the abort ends,
// lists the request for checking in the portal, and a new rotation runs.
func TestAbortNoFind(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "issuer.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncase \"$1\" in\ncreate) echo 'portal unreachable' >&2; exit 1 ;;\n*) exit 3 ;;\nesac\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := newRig(t)
	audit := r.withAudit()
	r.e.Issuer = &ExecIssuer{Command: []string{script}, Stderr: &strings.Builder{}}
	old := r.item().Current
	ctx := opCtx(t)
	j, err := r.e.Rotate(ctx)
	if err == nil || j == nil || j.RequestID == "" {
		t.Fatalf("rotate: %v %+v", err, j)
	}
	j, err = r.e.Abort(ctx)
	var manual *ManualRevokeError
	if !errors.As(err, &manual) || len(manual.Keys) != 1 || manual.Keys[0].RequestID != j.RequestID || !strings.Contains(err.Error(), "look in the portal") {
		t.Fatalf("abort: %v", err)
	}
	noSecret(t, err)
	if j.Step != StepAborted {
		t.Fatalf("step %s", j.Step)
	}
	if got, err := InProgress(r.e.StateDir, "prod"); got != nil || err != nil {
		t.Fatalf("still in progress: %v %v", got, err)
	}
	if !regexp.MustCompile(`"action":"rotate.abort".*"outcome":"manual-revoke"`).MatchString(audit()) || !strings.Contains(audit(), j.RequestID) {
		t.Fatalf("audit log:\n%s", audit())
	}
	r.untouched(old)
	// The way out is open: a new rotation runs.
	r.e.Issuer = &currentIssuer{r: r}
	if _, err := r.e.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
}

// An abort whose revocation of the new key keeps failing: without force it says how to finish;
// with force it ends, with the old key CURRENT and the new key named for deletion by hand.
func TestAbortForce(t *testing.T) {
	r := newRig(t)
	audit := r.withAudit()
	r.e.Sinks = append(r.e.Sinks, &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true})
	old := r.item().Current
	ctx := opCtx(t)
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	newKey := r.item().Pending
	r.e.Issuer = &failIssuer{Issuer: r.e.Issuer, revokeErr: errors.New("the portal is down")}
	if _, err := r.e.Abort(ctx); err == nil || !strings.Contains(err.Error(), "--abort --force") {
		t.Fatalf("abort: %v", err)
	}
	r.e.ForceAbort = true
	_, err := r.e.Abort(ctx)
	var manual *ManualRevokeError
	if !errors.As(err, &manual) || len(manual.Keys) != 1 || manual.Keys[0].Name != newKey.Name {
		t.Fatalf("forced abort: %v", err)
	}
	r.untouched(old)
	if active, _ := r.keys(); !slices.Contains(active, newKey.Name) {
		t.Fatalf("the new key is not active: %v", active)
	}
	if !strings.Contains(audit(), newKey.Name) || !strings.Contains(audit(), "manual-revoke") {
		t.Fatalf("audit log:\n%s", audit())
	}
	if _, fp, _ := ReadEnvKey(r.env.Path); fp != old.Fingerprint {
		t.Fatal("the .env does not hold the CURRENT key")
	}
}

// editJournal rewrites a field of the journal in progress, as someone with the state folder can.
func (r *rig) editJournal(edit func(j *Journal)) {
	r.t.Helper()
	j, err := LoadJournal(r.e.StateDir, "prod")
	if err != nil || j == nil {
		r.t.Fatalf("journal: %v %v", j, err)
	}
	edit(j)
	if err := j.Save(r.e.StateDir); err != nil {
		r.t.Fatal(err)
	}
}

// Reproduction 5: a journal edited so that new_key.name is the old key's name made --abort
// revoke the CURRENT key, leaving the real new key active and out of the keyring. Now the
// journal is checked against the keyring first, and a disagreement revokes nothing.
func TestJournalCrossCheck(t *testing.T) {
	t.Run("abort", func(t *testing.T) {
		r := newRig(t)
		r.e.Sinks = append(r.e.Sinks, &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true})
		ctx := opCtx(t)
		if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
			t.Fatal(err)
		}
		before := r.item()
		r.editJournal(func(j *Journal) { j.NewKey.Name = r.oldKey })
		_, err := r.e.Abort(ctx)
		if !errors.Is(err, ErrJournalMismatch) || !strings.Contains(err.Error(), "nothing was revoked") {
			t.Fatalf("abort: %v", err)
		}
		noSecret(t, err)
		if !r.authenticates(before.Current) || !r.authenticates(before.Pending) {
			t.Fatal("a key was revoked")
		}
		if it := r.item(); it.Pending == nil || it.Current.Fingerprint != before.Current.Fingerprint {
			t.Fatalf("keyring changed: %v", it)
		}
		// --abort --force closes it, revoking nothing, and names the keys to check.
		r.e.ForceAbort = true
		_, err = r.e.Abort(ctx)
		var manual *ManualRevokeError
		if !errors.As(err, &manual) || !strings.Contains(err.Error(), before.Pending.Name) {
			t.Fatalf("forced abort: %v", err)
		}
		// The .env got the new key before the other sink failed: deleting that key first would
		// break its consumer, so the sink is named with what to do first.
		if !strings.Contains(err.Error(), r.env.Path+" still hold it: put the profile's CURRENT key there first") {
			t.Fatalf("forced abort does not name the sink holding the key: %v", err)
		}
		if !r.authenticates(before.Current) || !r.authenticates(before.Pending) {
			t.Fatal("a key was revoked")
		}
		if j, _ := InProgress(r.e.StateDir, "prod"); j != nil {
			t.Fatal("still in progress")
		}
	})
	t.Run("resume", func(t *testing.T) {
		for name, edit := range map[string]func(r *rig, j *Journal){
			"old=new": func(r *rig, j *Journal) { j.OldKey = j.NewKey },
			"new=old": func(r *rig, j *Journal) { j.NewKey.Name = r.oldKey },
			"old=other": func(r *rig, j *Journal) {
				j.OldKey.Name = "organizations/" + r.sb.DefaultOrg() + "/apiKeys/" + uuid.NewString()
			},
		} {
			t.Run(name, func(t *testing.T) {
				r := newRig(t)
				r.e.Grace = time.Hour
				now := time.Now()
				r.e.Now = func() time.Time { return now }
				ctx := opCtx(t)
				if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
					t.Fatal(err)
				}
				before := r.item()
				r.editJournal(func(j *Journal) { edit(r, j) })
				now = now.Add(2 * time.Hour)
				if _, err := r.e.Resume(ctx); !errors.Is(err, ErrJournalMismatch) {
					t.Fatalf("resume: %v", err)
				}
				if !r.authenticates(before.Current) || !r.authenticates(before.Previous) {
					t.Fatal("a key was revoked")
				}
				if active, revoked := r.keys(); len(active) != 2 || len(revoked) != 0 {
					t.Fatalf("sandbox keys: %v %v", active, revoked)
				}
			})
		}
	})
}

// Reproduction 6: a key of another organization, where both organizations see zero pools, was
// "the same 0 pools" and got promoted. The organization is compared first.
func TestVerifyOrg(t *testing.T) {
	r := newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 0}})
	stranger, err := r.sb.CreateAPIKey(uuid.NewString(), waasapi.CreateAPIKeyRequest{Nickname: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	old := r.item().Current
	r.e.Issuer = r.manualWith(keyJSON(t, stranger.Name, stranger.PrivateKey))
	ctx := opCtx(t)
	_, err = r.e.Rotate(ctx)
	if err == nil || !strings.Contains(err.Error(), "a key of another organization is refused") {
		t.Fatalf("rotate: %v", err)
	}
	if it := r.item(); it.Current.Fingerprint != old.Fingerprint || it.Pending == nil {
		t.Fatalf("keyring: %v", it)
	}
	if _, fp, _ := ReadEnvKey(r.env.Path); fp != "" {
		t.Fatal("the key was delivered")
	}
}

// The same, with the stranger's key handed over by its bare ID (as CDP keys often are): no
// organization to compare, no pools to compare, so nothing proves it is the profile's own.
func TestVerifyOrgBareID(t *testing.T) {
	r := newRigWith(t, sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 0}})
	stranger, err := r.sb.CreateAPIKey(uuid.NewString(), waasapi.CreateAPIKeyRequest{Nickname: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	bare := stranger.Name[strings.LastIndex(stranger.Name, "/")+1:]
	old := r.item().Current
	r.e.Issuer = r.manualWith(keyJSON(t, bare, stranger.PrivateKey))
	_, err = r.e.Rotate(opCtx(t))
	if err == nil || !strings.Contains(err.Error(), "nothing shows that the new key") {
		t.Fatalf("rotate: %v", err)
	}
	if it := r.item(); it.Current.Fingerprint != old.Fingerprint {
		t.Fatalf("keyring: %v", it)
	}
	if _, fp, _ := ReadEnvKey(r.env.Path); fp != "" {
		t.Fatal("the key was delivered")
	}
}

// Reproduction 7: the same key stored in two profiles; rotating one revoked the other's key
// without a word. Now the rotation is refused at preflight, before anything is created, unless
// RevokeShared says to go on.
func TestSharedKey(t *testing.T) {
	r := newRig(t)
	ctx := opCtx(t)
	old := r.item().Current
	if err := r.store.Put(ctx, &credentials.Item{Profile: "twin", Current: old}); err != nil {
		t.Fatal(err)
	}
	j, err := r.e.Rotate(ctx)
	if err == nil || !strings.Contains(err.Error(), "is also the CURRENT key of profile twin") || j != nil {
		t.Fatalf("rotate: %v %v", err, j)
	}
	if got, _ := InProgress(r.e.StateDir, "prod"); got != nil {
		t.Fatal("a refused preflight left a journal")
	}
	r.untouched(old)
	if active, _ := r.keys(); len(active) != 1 {
		t.Fatalf("a key was created: %v", active)
	}
	r.e.RevokeShared = true
	if _, err := r.e.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
}

// ...and a profile that takes the key while the rotation waits out its grace period stops the
// revocation too.
func TestSharedAtRevoke(t *testing.T) {
	r := newRig(t)
	r.e.Grace = time.Hour
	now := time.Now()
	r.e.Now = func() time.Time { return now }
	ctx := opCtx(t)
	old := r.item().Current
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	if err := r.store.Put(ctx, &credentials.Item{Profile: "twin", Current: old}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := r.e.Resume(ctx); err == nil || !strings.Contains(err.Error(), "profile twin") {
		t.Fatalf("resume: %v", err)
	}
	if !r.authenticates(old) {
		t.Fatal("twin's key was revoked")
	}
}

// Reproduction 4, the engine's half: the key a manual rotation waits on at revoke left the
// keyring. The wait used to run out its 30 minutes in silence (and every --resume again); now it
// stops at once, the rotation finishes (the new key is CURRENT and works) and the old key is
// named for deletion in the portal.
func TestManualKeyGone(t *testing.T) {
	r := newRig(t)
	audit := r.withAudit()
	r.e.Grace = time.Hour
	now := time.Now()
	r.e.Now = func() time.Time { return now }
	ctx := opCtx(t)
	old := r.item().Current
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	it := r.item()
	it.Previous = nil
	if err := r.store.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	m := r.manualWith(nil)
	m.Timeout = time.Hour // a wait would fail the test by its deadline long before
	r.e.Issuer = m
	_, err := r.e.Resume(ctx)
	var manual *ManualRevokeError
	if !errors.As(err, &manual) || manual.Step != StepDone || manual.Keys[0].Name != old.Name {
		t.Fatalf("resume: %v", err)
	}
	if j, _ := InProgress(r.e.StateDir, "prod"); j != nil {
		t.Fatal("still in progress")
	}
	if !regexp.MustCompile(`"action":"rotate.done".*"outcome":"manual-revoke"`).MatchString(audit()) {
		t.Fatalf("audit:\n%s", audit())
	}
	if cur := r.item().Current; !r.authenticates(cur) || cur.Fingerprint == old.Fingerprint {
		t.Fatalf("CURRENT %v", cur)
	}
}

// Reproduction 8: a preflight failure used to leave a journal to --abort; an envfile sink in a
// folder that does not exist passed preflight and failed after the key was created.
func TestPreflightNoJournal(t *testing.T) {
	r := newRig(t)
	r.env.Path = filepath.Join(t.TempDir(), "missing", ".env")
	old := r.item().Current
	ctx := opCtx(t)
	j, err := r.e.Rotate(ctx)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || j != nil {
		t.Fatalf("rotate: %v %v", err, j)
	}
	if got, err := InProgress(r.e.StateDir, "prod"); got != nil || err != nil {
		t.Fatalf("journal left: %v %v", got, err)
	}
	r.untouched(old)
	if active, _ := r.keys(); len(active) != 1 {
		t.Fatalf("a key was created: %v", active)
	}
}

// A journal left at preflight (by a crash, or by an older waasctl) whose preflight now fails is
// closed by --resume: nothing was created, so there is nothing to abort.
func TestResumePreflight(t *testing.T) {
	r := newRig(t)
	j, err := NewJournal("prod", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Save(r.e.StateDir); err != nil {
		t.Fatal(err)
	}
	r.env.Path = filepath.Join(t.TempDir(), "missing", ".env")
	if _, err := r.e.Resume(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("resume: %v", err)
	}
	if got, err := InProgress(r.e.StateDir, "prod"); got != nil || err != nil {
		t.Fatalf("journal left: %v %v", got, err)
	}
}

// keys revoke, auth add and auth remove take the profile's lock too: the refusal names what
// holds it without calling it a rotation.
func TestLockedErrorNamesTheCommand(t *testing.T) {
	e := &LockedError{Profile: "prod", Holder: Holder{User: "alice", Host: "h", PID: 7, Command: "auth add"}, Running: true}
	if got := e.Error(); !strings.HasPrefix(got, "profile prod is locked by alice@h (pid 7, auth add)") {
		t.Fatalf("%q", got)
	}
	e.Holder.Command = "keys rotate"
	if got := e.Error(); !strings.HasPrefix(got, "profile prod is being rotated by alice@h (pid 7, keys rotate)") {
		t.Fatalf("%q", got)
	}
}
