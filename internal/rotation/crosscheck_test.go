package rotation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// TestCheckRevokeOldRefusesEveryDisagreement: the cross-check before the old
// key is revoked passes only when the journal's new key is the keyring's
// CURRENT and its old key is another key (PREVIOUS's, if PREVIOUS holds one).
// Each refused case differs from an accepted one in one thing; a journal
// that names no old key would otherwise have an empty name revoked.
func TestCheckRevokeOldRefusesEveryDisagreement(t *testing.T) {
	oldKey := &credentials.StoredKey{Name: "organizations/o/apiKeys/old", Fingerprint: "SHA256:old"}
	newKey := &credentials.StoredKey{Name: "organizations/o/apiKeys/new", Fingerprint: "SHA256:new"}
	other := &credentials.StoredKey{Name: "organizations/o/apiKeys/other", Fingerprint: "SHA256:other"}
	oldRef, newRef := KeyRef{Name: oldKey.Name, Fingerprint: oldKey.Fingerprint}, KeyRef{Name: newKey.Name, Fingerprint: newKey.Fingerprint}
	e := &Engine{Profile: "prod"}
	for _, tc := range []struct {
		name       string
		old, new   KeyRef
		item       *credentials.Item
		wantRefuse bool
	}{
		{"promoted, the old key PREVIOUS", oldRef, newRef, &credentials.Item{Current: newKey, Previous: oldKey}, false},
		{"promoted, no PREVIOUS", oldRef, newRef, &credentials.Item{Current: newKey}, false},
		{"the journal names no old key", KeyRef{}, newRef, &credentials.Item{Current: newKey}, true},
		{"the journal names no new key", oldRef, KeyRef{}, &credentials.Item{Current: newKey, Previous: oldKey}, true},
		{"old and new the same name", KeyRef{Name: newKey.Name, Fingerprint: "SHA256:x"}, newRef, &credentials.Item{Current: newKey}, true},
		{"old and new the same fingerprint", KeyRef{Name: "organizations/o/apiKeys/x", Fingerprint: newKey.Fingerprint}, newRef, &credentials.Item{Current: newKey}, true},
		{"CURRENT is the old key", oldRef, newRef, &credentials.Item{Current: oldKey, Previous: newKey}, true},
		{"CURRENT has the new name, another fingerprint", oldRef, newRef, &credentials.Item{Current: &credentials.StoredKey{Name: newKey.Name, Fingerprint: "SHA256:x"}}, true},
		{"no CURRENT", oldRef, newRef, &credentials.Item{Previous: oldKey}, true},
		{"PREVIOUS is another key", oldRef, newRef, &credentials.Item{Current: newKey, Previous: other}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.checkRevokeOld(&Journal{ID: "r1", OldKey: tc.old, NewKey: tc.new}, tc.item)
			switch {
			case tc.wantRefuse && !errors.Is(err, ErrJournalMismatch):
				t.Fatalf("err %v, want a journal mismatch", err)
			case !tc.wantRefuse && err != nil:
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

// TestJournalSaysWhatDeliverAndObserveDid: the journal's history (and the
// audit entries, which carry the same words) says what each step did, for
// every combination of sinks and an observe hook; an operator reads it in
// `keys status` to know whether consumers were restarted and watched.
func TestJournalSaysWhatDeliverAndObserveDid(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		sinks, restart, observe bool
		deliver, observed       string
	}{
		{"a sink with a restart command and an observe hook", true, true, true, "the new key is in the sink", "1 sink's restart command ran and the consumers were observed"},
		{"a sink with a restart command", true, true, false, "the new key is in the sink", "1 sink's restart command ran"},
		{"a sink without one and an observe hook", true, false, true, "the new key is in the sink", "the consumers were observed"},
		{"a sink without one", true, false, false, "the new key is in the sink", "nothing to restart or observe"},
		{"an observe hook only", false, false, true, "no sinks configured: nothing to deliver", "the consumers were observed"},
		{"neither", false, false, false, "no sinks configured: nothing to deliver", "nothing to restart or observe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if !tc.sinks {
				r.e.Sinks = nil
			}
			restarted := filepath.Join(t.TempDir(), "restarted")
			if tc.restart {
				r.env.RestartCommand = []string{"touch", restarted}
			}
			observed := false
			if tc.observe {
				r.e.Observe = func(context.Context) error { observed = true; return nil }
			}
			j, err := r.e.Rotate(testctx.New(t))
			if err != nil {
				t.Fatal(err)
			}
			if observed != tc.observe {
				t.Fatalf("observe hook called: %v, want %v", observed, tc.observe)
			}
			if _, err := os.Stat(restarted); (err == nil) != tc.restart {
				t.Fatalf("the restart command ran: %v, want %v", err == nil, tc.restart)
			}
			var messages []string
			for _, ev := range j.Events {
				messages = append(messages, ev.Message)
			}
			for _, want := range []string{tc.deliver, tc.observed} {
				if !slices.Contains(messages, want) {
					t.Errorf("the journal's history %q lacks %q", messages, want)
				}
			}
		})
	}
}

// TestPromoteRefusesAPendingKeyThatIsNotTheJournals: a rotation stopped before
// promote (its observe hook failed) is resumed after PENDING was replaced by
// another key, or emptied: promote must refuse, and CURRENT stay the old key.
// Promoting whatever PENDING holds would hand the profile a key this rotation
// never delivered to its consumers.
func TestPromoteRefusesAPendingKeyThatIsNotTheJournals(t *testing.T) {
	for _, replace := range []string{"another key", "nothing"} {
		t.Run(replace, func(t *testing.T) {
			r := newRig(t)
			ctx := testctx.New(t)
			fail := true
			r.e.Observe = func(context.Context) error {
				if fail {
					return errors.New("consumers not healthy yet")
				}
				return nil
			}
			if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("rotate with a failing observe: %v", err)
			}
			it := r.item()
			if it.Pending == nil {
				t.Fatal("no PENDING key after deliver")
			}
			old := it.Current
			it.Pending = nil
			if replace == "another key" {
				k := newEnvKey(t, "0f0e0d0c-0b0a-4908-8706-050403020100")
				it.Pending = &credentials.StoredKey{Name: k.name, PrivateKey: k.pem, Fingerprint: k.fingerprint}
			}
			if err := r.store.Put(ctx, it); err != nil {
				t.Fatal(err)
			}
			fail = false
			if _, err := r.e.Resume(ctx); err == nil {
				t.Fatal("resume promoted with PENDING replaced")
			}
			if got := r.item(); got.Current == nil || got.Current.Fingerprint != old.Fingerprint {
				t.Fatalf("CURRENT is %v, want the old key %s still", got.Current, old.Fingerprint)
			}
		})
	}
}

// TestPlanSaysWhatObserveWillRun: --dry-run's observe line names the restart commands only when
// sinks have them, and the health check only when one is set.
func TestPlanSaysWhatObserveWillRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		restarts int
		observe  bool
		want     string
	}{
		{"two sinks with restart commands and a health check", 2, true, "observe: run 2 sinks' restart commands and the health check / confirmation"},
		{"one of two sinks with a restart command", 1, false, "observe: run 1 sink's restart command"},
		{"a health check only", 0, true, "observe: run the health check / confirmation"},
		{"sinks without restart commands", 0, false, "observe: nothing to restart or observe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			second := &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}
			r.e.Sinks = []Sink{r.env, second}
			for _, s := range []*EnvfileSink{r.env, second}[:tc.restarts] {
				s.RestartCommand = []string{"systemctl", "restart", "waas-proxy"}
			}
			if tc.observe {
				r.e.Observe = func(context.Context) error { return nil }
			}
			if plan := r.e.Plan(); !slices.Contains(plan, tc.want) {
				t.Fatalf("the plan %q lacks %q", plan, tc.want)
			}
		})
	}
}

// TestTheJournalKeepsTheEnginesClock: a rotation's journal is stamped with the engine's clock,
// the one that times its grace period (a grace given at --resume is counted from StartedAt),
// not the wall clock: two clocks disagreed by however far the injected one was set.
func TestTheJournalKeepsTheEnginesClock(t *testing.T) {
	r := newRig(t)
	at := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return at }
	j, err := r.e.Rotate(testctx.New(t))
	if err != nil {
		t.Fatal(err)
	}
	if !j.StartedAt.Equal(at) || !j.UpdatedAt.Equal(at) {
		t.Fatalf("started %v, updated %v; want both %v", j.StartedAt, j.UpdatedAt, at)
	}
	for _, ev := range j.Events {
		if !ev.At.Equal(at) {
			t.Fatalf("event %q at %v, want %v", ev.Message, ev.At, at)
		}
	}
}
