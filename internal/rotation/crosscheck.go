package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/credentials"
)

// ErrJournalMismatch is matched by the error of a step that found the journal naming keys the
// keyring does not hold where the journal says: the journal was edited, or the keyring changed
// behind the rotation's back. Nothing is revoked then; the caller exits 1.
var ErrJournalMismatch = errors.New("the rotation journal does not match the keyring")

// ErrKeyNotHeld is what a manual issuer's Rejected check wraps when the key it is to watch is no
// longer in the keyring: it has no secret to try, so it cannot see WaaS refuse it.
var ErrKeyNotHeld = errors.New("the key is no longer in the keyring")

// ErrCannotConfirm is matched by an issuer's Revoke error when it cannot tell whether the key is
// revoked, and waiting longer would not tell it either (the manual issuer, for a key that left
// the keyring). The engine then lists the key for deletion by hand instead of waiting.
var ErrCannotConfirm = errors.New("the revocation cannot be confirmed")

// ErrFindUnsupported is matched by Find's error when the issuer cannot look keys up by request
// (an exec plugin without find): asking again will not help, so --abort lists the request for
// checking by hand rather than fail.
var ErrFindUnsupported = errors.New("the issuer cannot look keys up by request")

// ManualCheck is a key that waasctl could not revoke, or could not tell it was safe to revoke:
// the operator deletes it in the portal. It is kept in the archived journal and the audit log.
type ManualCheck struct {
	Name        string `json:"name,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// RequestID: a key that a create call with this token may have made, whose name is unknown.
	RequestID string `json:"request_id,omitempty"`
	Reason    string `json:"reason"`
}

func (m ManualCheck) String() string {
	if m.Name != "" {
		return m.Name + " (" + m.Reason + ")"
	}
	return "any key created by request " + m.RequestID + " (" + m.Reason + ")"
}

// addManual records a key for deletion by hand, once.
// deliveredTo says whether the journal records the key with fingerprint fp delivered to the
// sink called name.
func (j *Journal) deliveredTo(name, fp string) bool {
	for _, r := range j.Sinks {
		if r.Name == name && r.DeliveredFingerprint == fp {
			return true
		}
	}
	return false
}

func (j *Journal) addManual(m ManualCheck) {
	for _, have := range j.ManualChecks {
		if have.Name == m.Name && have.RequestID == m.RequestID {
			return
		}
	}
	j.ManualChecks = append(j.ManualChecks, m)
}

// ManualRevokeError says that a rotation finished (done or aborted: the profile's CURRENT key
// works) but left keys the operator must delete in the portal. The caller exits 1.
type ManualRevokeError struct {
	Profile string
	Step    Step // done or aborted
	Keys    []ManualCheck
}

func (e *ManualRevokeError) Error() string {
	what := "finished"
	if e.Step == StepAborted {
		what = "was aborted"
	}
	keys := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		keys[i] = k.String()
	}
	return fmt.Sprintf("the rotation of profile %s %s, but waasctl could not revoke every key: delete in the portal by hand: %s", e.Profile, what, strings.Join(keys, "; "))
}

// InProgress returns the profile's unfinished rotation, or nil when there is none. It is the one
// answer to "is a rotation in progress?": keys rotate (start, --resume, --abort), auth add, auth
// remove and keys revoke all ask it, under the profile's lock.
func InProgress(dir, profile string) (*Journal, error) {
	j, err := LoadJournal(dir, profile)
	if err != nil || j == nil || j.Step.Finished() {
		return nil, err
	}
	return j, nil
}

// InProgressIn is InProgress for the journal in st (the state folder or the team store).
func InProgressIn(ctx context.Context, st StateBackend, profile string) (*Journal, error) {
	j, _, err := st.LoadJournal(ctx, profile)
	if errors.Is(err, ErrNoJournal) || err == nil && j.Step.Finished() {
		return nil, nil
	}
	return j, err
}

// InProgressError is the refusal of a command that would change the profile's keys while the
// rotation j is in progress.
func (j *Journal) InProgressError() error {
	return fmt.Errorf("a rotation of profile %s is in progress (rotation %s, at %s): resume or abort it first (`waasctl keys rotate %s --resume` or `--abort`)", j.Profile, j.ID, j.Step, j.Profile)
}

// Holding is a keyring slot that holds a key.
type Holding struct {
	Profile string
	Slot    string // current, pending or previous
}

func (h Holding) String() string {
	return fmt.Sprintf("the %s key of profile %s", strings.ToUpper(h.Slot), h.Profile)
}

// sameKey reports whether a stored key is the key called name with fingerprint fp: the same
// name or the same fingerprint (either alone is enough to refuse).
func sameKey(k *credentials.StoredKey, name, fp string) bool {
	return k != nil && (name != "" && k.Name == name || fp != "" && k.Fingerprint == fp)
}

// slotsOf lists an item's keys by slot.
func slotsOf(it *credentials.Item) []struct {
	slot string
	key  *credentials.StoredKey
} {
	return []struct {
		slot string
		key  *credentials.StoredKey
	}{{"current", it.Current}, {"pending", it.Pending}, {"previous", it.Previous}}
}

// HoldersOf lists the slots of profiles other than except that hold the key called name or with
// fingerprint fp, among slots (all three when none are named). A profile whose item is gone or
// damaged is skipped: it holds nothing usable.
func HoldersOf(ctx context.Context, store credentials.Store, except, name, fp string, slots ...string) ([]Holding, error) {
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	var out []Holding
	for _, p := range profiles {
		if p == except {
			continue
		}
		it, err := store.Get(ctx, p)
		if errors.Is(err, credentials.ErrNotFound) || errors.Is(err, credentials.ErrItemDamaged) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, s := range slotsOf(it) {
			if (len(slots) == 0 || slices.Contains(slots, s.slot)) && sameKey(s.key, name, fp) {
				out = append(out, Holding{Profile: p, Slot: s.slot})
			}
		}
	}
	return out, nil
}

func holdingsText(hs []Holding) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.String()
	}
	return strings.Join(s, ", ")
}

// checkNew refuses a key an issuer created (or an earlier run left as PENDING) that is not new:
// the profile's CURRENT or PREVIOUS key, or a key another profile holds. Storing it as PENDING
// would end with the rotation revoking the very key it was to keep.
func (e *Engine) checkNew(ctx context.Context, it *credentials.Item, name, fp string) error {
	what := ""
	switch {
	case sameKey(it.Current, name, fp):
		what = "the profile's CURRENT key"
	case sameKey(it.Previous, name, fp):
		what = "the profile's PREVIOUS key"
	default:
		hs, err := HoldersOf(ctx, e.Store, e.Profile, name, fp)
		if err != nil {
			return fmt.Errorf("checking that the new key is new: %w", err)
		}
		if len(hs) == 0 {
			return nil
		}
		what = holdingsText(hs)
	}
	return fmt.Errorf("the key the %s issuer handed over, %s (%s), is %s, not a new key (a second download of the same key?); nothing was stored: create a new key and run `waasctl keys rotate %s --resume`, or `--abort`",
		e.Issuer.Name(), name, credentials.ShortFingerprint(fp), what, e.Profile)
}

// checkShared refuses to go on with a rotation whose old key another profile still holds as
// CURRENT or PENDING: revoking it would break that profile. RevokeShared says go on anyway.
func (e *Engine) checkShared(ctx context.Context, old KeyRef) error {
	if e.RevokeShared {
		return nil
	}
	hs, err := HoldersOf(ctx, e.Store, e.Profile, old.Name, old.Fingerprint, "current", "pending")
	if err != nil {
		return fmt.Errorf("checking whether another profile holds %s: %w", short(old), err)
	}
	if len(hs) == 0 {
		return nil
	}
	return fmt.Errorf("the key %s is also %s, which would stop working when it is revoked: give that profile its own key (`waasctl auth add PROFILE --force`), or pass --revoke-shared to revoke it anyway", short(old), holdingsText(hs))
}

// mismatch builds the error of a journal that disagrees with the keyring.
func (e *Engine) mismatch(j *Journal, format string, args ...any) error {
	return fmt.Errorf("%w: rotation %s: %s; nothing was revoked: compare with `waasctl keys status`; `waasctl keys rotate %s --abort --force` closes the rotation without revoking anything and lists its keys to check by hand",
		ErrJournalMismatch, j.ID, fmt.Sprintf(format, args...), e.Profile)
}

func sameRef(k *credentials.StoredKey, r KeyRef) bool {
	return k != nil && k.Name == r.Name && k.Fingerprint == r.Fingerprint
}

func describe(k *credentials.StoredKey) string {
	if k == nil {
		return "none"
	}
	return short(ref(k))
}

// checkRevokeOld cross-checks the journal with the keyring before the old key is revoked: the
// journal's new key is the CURRENT one, by name and fingerprint; its old key is another key,
// the one in PREVIOUS if PREVIOUS holds any.
func (e *Engine) checkRevokeOld(j *Journal, it *credentials.Item) error {
	switch {
	case j.OldKey.Name == "" || j.NewKey.Name == "":
		return e.mismatch(j, "it names no old key or no new key")
	case j.OldKey.Name == j.NewKey.Name || j.OldKey.Fingerprint == j.NewKey.Fingerprint:
		return e.mismatch(j, "its old and new key are the same key (%s)", short(j.OldKey))
	case !sameRef(it.Current, j.NewKey):
		return e.mismatch(j, "its new key is %s, the keyring's CURRENT %s", short(j.NewKey), describe(it.Current))
	case it.Previous != nil && !sameRef(it.Previous, j.OldKey):
		return e.mismatch(j, "its old key is %s, the keyring's PREVIOUS %s", short(j.OldKey), describe(it.Previous))
	}
	return nil
}

// checkAbort cross-checks the journal with the keyring before an abort revokes anything.
// promoted says the keyring's CURRENT is the journal's new key.
func (e *Engine) checkAbort(j *Journal, it *credentials.Item) (promoted bool, err error) {
	if j.NewKey.Name == "" {
		// Stopped in create: the keyring may hold the new key as PENDING (stored before a crash
		// kept the journal from naming it), never as CURRENT.
		if it.Pending != nil && (sameKey(it.Current, it.Pending.Name, it.Pending.Fingerprint) || sameKey(it.Previous, it.Pending.Name, it.Pending.Fingerprint)) {
			return false, e.mismatch(j, "the keyring's PENDING %s is also its CURRENT or PREVIOUS key", describe(it.Pending))
		}
		return false, nil
	}
	if j.NewKey.Name == j.OldKey.Name || j.NewKey.Fingerprint == j.OldKey.Fingerprint {
		return false, e.mismatch(j, "its old and new key are the same key (%s)", short(j.NewKey))
	}
	if sameKey(it.Current, j.NewKey.Name, j.NewKey.Fingerprint) {
		if !sameRef(it.Current, j.NewKey) {
			return false, e.mismatch(j, "its new key is %s, the keyring's CURRENT %s", short(j.NewKey), describe(it.Current))
		}
		return true, nil
	}
	if j.OldKey.Name != "" && !sameRef(it.Current, j.OldKey) {
		return false, e.mismatch(j, "its old key is %s, the keyring's CURRENT %s", short(j.OldKey), describe(it.Current))
	}
	if it.Pending != nil && !sameRef(it.Pending, j.NewKey) {
		return false, e.mismatch(j, "its new key is %s, the keyring's PENDING %s", short(j.NewKey), describe(it.Pending))
	}
	if sameKey(it.Previous, j.NewKey.Name, j.NewKey.Fingerprint) {
		return false, e.mismatch(j, "its new key %s is the keyring's PREVIOUS key", short(j.NewKey))
	}
	return false, nil
}

// heldElsewhere names the keyring slots, in this profile (CURRENT, PREVIOUS) or any other, that
// hold the key an abort is about to revoke; "" if none: then it is safe to revoke.
func (e *Engine) heldElsewhere(ctx context.Context, it *credentials.Item, name string) (string, error) {
	if sameKey(it.Current, name, "") {
		return "the profile's CURRENT key", nil
	}
	if sameKey(it.Previous, name, "") {
		return "the profile's PREVIOUS key", nil
	}
	hs, err := HoldersOf(ctx, e.Store, e.Profile, name, "")
	if err != nil || len(hs) == 0 {
		return "", err
	}
	return holdingsText(hs), nil
}

// keyOrg is the organization of a key name organizations/{org}/apiKeys/{id}; "" for a bare id.
func keyOrg(name string) string {
	rest, ok := strings.CutPrefix(name, "organizations/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(rest, "/")
	return org
}
