package rotation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// Step is a stage of a rotation. The journal's Step is the stage in progress: it is recorded
// (and saved) before the stage's work starts, and since every stage is idempotent, --resume
// simply runs it again.
type Step string

// The steps in order (docs/architecture.md), then aborted, which any unfinished step may go to.
const (
	StepPreflight Step = "preflight" // lock, current key works, issuer and sinks reachable
	StepCreate    Step = "create"    // the issuer makes the new key; it is stored as PENDING
	StepVerify    Step = "verify"    // the new key authenticates and sees the same pools
	StepDeliver   Step = "deliver"   // every sink gets the new key
	StepObserve   Step = "observe"   // the consumers are seen using it
	StepPromote   Step = "promote"   // PENDING -> CURRENT, CURRENT -> PREVIOUS
	StepRevoke    Step = "revoke"    // PREVIOUS is revoked after the grace period, and rejected
	StepDone      Step = "done"
	StepAborted   Step = "aborted"
)

// order lists the forward steps; aborted stands outside it.
var order = []Step{StepPreflight, StepCreate, StepVerify, StepDeliver, StepObserve, StepPromote, StepRevoke, StepDone}

// Steps returns the forward steps in order.
func Steps() []Step { return slices.Clone(order) }

func (s Step) index() int { return slices.Index(order, s) }

// Valid reports whether s is one of the steps.
func (s Step) Valid() bool { return s == StepAborted || s.index() >= 0 }

// Finished reports whether a rotation at s is over: done or aborted.
func (s Step) Finished() bool { return s == StepDone || s == StepAborted }

// JournalVersion is the format written. An older waasctl refuses a newer journal rather than
// misread it half way through a rotation.
const JournalVersion = 1

// maxEvents bounds the journal's history: it is rewritten at every step, and a rotation stuck
// retrying a sink for days must not grow it without end. The audit log keeps everything.
const maxEvents = 100

// KeyRef names a key without its secret.
type KeyRef struct {
	Name        string `json:"name,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// SinkResult is what the deliver step did for one sink.
type SinkResult struct {
	Name                 string    `json:"name"` // unique among the profile's sinks
	Type                 string    `json:"type"` // envfile | exec | keyring
	DeliveredFingerprint string    `json:"delivered_fingerprint,omitempty"`
	At                   time.Time `json:"at,omitzero"`
	Error                string    `json:"error,omitempty"`
}

// Event is one line of the journal's history.
type Event struct {
	At      time.Time `json:"at"`
	Step    Step      `json:"step"`
	Message string    `json:"message"`
}

// Journal records how far a profile's rotation got, so that --resume can finish it and --abort
// undo it after a crash. It holds names and fingerprints only, never a secret (invariant 6):
// Save refuses one that looks like it holds key material.
type Journal struct {
	Version   int       `json:"version"`
	Profile   string    `json:"profile"`
	ID        string    `json:"id"` // the rotation's id, also in the audit log
	Step      Step      `json:"step"`
	StartedAt time.Time `json:"started_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Issuer    string    `json:"issuer,omitempty"`
	// RequestID is the idempotency token of the issuer's create call. It is saved before the
	// call, so that a key created by a call whose answer was lost can be found again and
	// revoked (invariant 4) instead of a second one being made.
	RequestID  string       `json:"request_id,omitempty"`
	OldKey     KeyRef       `json:"old_key,omitzero"`
	NewKey     KeyRef       `json:"new_key,omitzero"`
	Sinks      []SinkResult `json:"sinks,omitempty"`
	Grace      string       `json:"grace,omitempty"` // the grace the rotation started with
	GraceUntil time.Time    `json:"grace_until,omitzero"`
	RevokedAt  time.Time    `json:"revoked_at,omitzero"`
	// RevokeRequestedAt is saved before the old key's revocation is asked of the issuer: from
	// then on the old key may be revoked although RevokedAt is not set yet (WaaS's propagation
	// delay, an interrupted check), so the rotation can only be finished, never rolled back.
	RevokeRequestedAt time.Time `json:"revoke_requested_at,omitzero"`
	// ManualChecks are keys waasctl could not revoke, or could not tell were safe to revoke:
	// the operator was told to delete them in the portal.
	ManualChecks []ManualCheck `json:"manual_checks,omitempty"`
	Events       []Event       `json:"events,omitempty"` // the last maxEvents

	// Emergency marks a rotation started by `keys revoke --rotate-first`: the old key may have
	// leaked, so no inventory snapshot is taken when it ends (one taken now would postdate the
	// leak and hide what the key did), however many --resume runs it takes to finish.
	Emergency bool `json:"emergency,omitempty"`
	// EmergencyReason is the --reason of that `keys revoke` (operator text, checked by the
	// secret guard like every field), for the audit entry of the --resume that finishes it.
	EmergencyReason string `json:"emergency_reason,omitempty"`
	// Aborting is set when an --abort starts to roll the rotation back (the old key CURRENT
	// again, sinks given it back): from then on only --abort may go on, since a --resume
	// would promote the new key again while some sinks hold the old one, and revoke it.
	Aborting bool `json:"aborting,omitempty"`

	guard *credentials.Guard // nil: Save refuses any key material, but knows no key in particular
	clock func() time.Time   // nil: the wall clock
}

// GuardAgainst makes Save refuse, besides anything that looks like a private key, the exact
// keys g was built with in any encoding. The engine passes the profile's keys.
func (j *Journal) GuardAgainst(g *credentials.Guard) { j.guard = g }

// SetClock makes the journal stamp its steps with now (the engine's clock, which also times the
// grace period) instead of the wall clock; nil: the wall clock.
func (j *Journal) SetClock(now func() time.Time) { j.clock = now }

func (j *Journal) now() time.Time {
	if j.clock != nil {
		return j.clock().UTC()
	}
	return time.Now().UTC()
}

// NewJournal starts the journal of a new rotation of profile, at preflight. It is not saved.
func NewJournal(profile, issuer string) (*Journal, error) {
	return newJournalAt(profile, issuer, time.Now())
}

// newJournalAt is NewJournal started at now (the engine's clock).
func newJournalAt(profile, issuer string, now time.Time) (*Journal, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7() // time-ordered, so ids sort like the rotations
	if err != nil {
		return nil, fmt.Errorf("making a rotation id: %w", err)
	}
	now = now.UTC()
	j := &Journal{
		Version:   JournalVersion,
		Profile:   profile,
		ID:        id.String(),
		Step:      StepPreflight,
		StartedAt: now,
		UpdatedAt: now,
		Issuer:    issuer,
	}
	j.addEvent(now, "rotation started")
	return j, nil
}

// Advance moves the journal to step and records msg. Staying at the same step records
// progress within it. Otherwise the only moves are to the next step, or to aborted from any
// unfinished one: no going back, and no skipping, so that a bug cannot, say, revoke before
// verify and deliver have been recorded (invariant 2). A step with nothing to do is advanced
// through with a message saying so.
func (j *Journal) Advance(step Step, msg string) error {
	if err := j.checkMove(step); err != nil {
		return err
	}
	now := j.now()
	j.Step = step
	j.UpdatedAt = now
	j.addEvent(now, msg)
	return nil
}

func (j *Journal) checkMove(to Step) error {
	from := j.Step
	switch {
	case !to.Valid():
		return fmt.Errorf("rotation %s: unknown step %q", j.ID, clean(string(to)))
	case to == from:
		return nil
	case from.Finished():
		return fmt.Errorf("rotation %s is %s; it cannot move to %s", j.ID, from, to)
	case to == StepAborted:
		return nil
	case to.index() < from.index():
		return fmt.Errorf("rotation %s is at %s; it cannot go back to %s", j.ID, from, to)
	case to.index() > from.index()+1:
		return fmt.Errorf("rotation %s is at %s; it cannot skip to %s (%s comes first)", j.ID, from, to, order[from.index()+1])
	}
	return nil
}

func (j *Journal) addEvent(at time.Time, msg string) {
	j.Events = append(j.Events, Event{At: at, Step: j.Step, Message: msg})
	if n := len(j.Events) - maxEvents; n > 0 {
		j.Events = slices.Delete(j.Events, 0, n)
	}
}

// RecordSink stores the outcome of delivering to one sink, replacing an earlier outcome for the
// same sink: deliver is retried until every sink has the key.
func (j *Journal) RecordSink(r SinkResult) {
	for i := range j.Sinks {
		if j.Sinks[i].Name == r.Name {
			j.Sinks[i] = r
			return
		}
	}
	j.Sinks = append(j.Sinks, r)
}

// journalPath is where a profile's journal lives in the state folder.
func journalPath(dir, profile string) string {
	return filepath.Join(dir, "journals", profile+".json")
}

// writeAtomic is fsutil.Write; tests swap it to fail half way.
var writeAtomic = fsutil.Write

// Save writes the journal to dir (the state folder) atomically and durably: a crash leaves the
// previous journal or this one, never a mix, and once Save returns the journal survives a power
// cut. The state machine saves before every remote action, so a failed Save must stop it; it
// holds the profile's lock, which is what keeps two writers apart.
func (j *Journal) Save(dir string) error {
	data, err := j.Encode()
	if err != nil {
		return err
	}
	journals := filepath.Join(dir, "journals")
	if err := fsutil.MkdirPrivate(journals); err != nil {
		return fmt.Errorf("creating the journal folder: %w", err)
	}
	path := journalPath(dir, j.Profile)
	err = writeAtomic(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving the rotation journal %s: %w", path, err)
	}
	return nil
}

// Encode checks the journal (what LoadJournal would check, and the secret guard: no key
// material in any field) and returns what Save writes. A backend other than the state folder
// (the team store) stores these bytes, so the guard runs whatever the backend.
func (j *Journal) Encode() ([]byte, error) {
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("rotation journal not saved: %w", err)
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rotation journal not saved: %w", err)
	}
	if field := secretField(data, j.guard); field != "" {
		return nil, fmt.Errorf("rotation journal of profile %s not saved: %s holds key material (a PEM private key, or a private key in base64 or hex); the journal holds key names and fingerprints only", j.Profile, field)
	}
	return append(data, '\n'), nil
}

// DecodeJournal reads profile's journal from data as Encode wrote it, checking it as
// LoadJournal does; where names where it came from in the error, which quotes nothing of data.
func DecodeJournal(data []byte, profile, where string) (*Journal, error) {
	if len(data) > maxJournalSize {
		return nil, damaged(where, fmt.Sprintf("it is larger than %d bytes, far more than waasctl writes", maxJournalSize))
	}
	j, reason := decodeJournal(data, profile)
	if reason != "" {
		return nil, damaged(where, reason)
	}
	return j, nil
}

// validate checks what LoadJournal would check, so that Save never writes a journal that
// cannot be read back.
func (j *Journal) validate() error {
	switch {
	case j.Version != JournalVersion:
		return fmt.Errorf("version %d, want %d", j.Version, JournalVersion)
	case checkProfile(j.Profile) != nil:
		return checkProfile(j.Profile)
	case j.ID == "":
		return errors.New("it has no rotation id")
	case !j.Step.Valid():
		return errors.New("its step is none of preflight, create, verify, deliver, observe, promote, revoke, done, aborted")
	case j.StartedAt.IsZero():
		return errors.New("it has no start time")
	}
	// The key names are read back by resume and abort, printed and revoked by name: one that is
	// not a key name (a secret in the wrong field) is refused here, and never quoted.
	for _, k := range []struct {
		field string
		ref   KeyRef
	}{{"old_key", j.OldKey}, {"new_key", j.NewKey}} {
		if k.ref.Name == "" {
			continue
		}
		if err := credentials.CheckKeyName(k.ref.Name); err != nil {
			return fmt.Errorf("its %s.name: %w", k.field, err)
		}
	}
	for i, m := range j.ManualChecks {
		if m.Name == "" {
			continue
		}
		if err := credentials.CheckKeyName(m.Name); err != nil {
			return fmt.Errorf("its manual_checks[%d].name: %w", i, err)
		}
	}
	return nil
}

// maxJournalSize bounds what LoadJournal reads. A journal is a few kilobytes: a hundred events
// and a handful of sinks.
const maxJournalSize = 1 << 20

// LoadJournal reads profile's journal from dir (the state folder); nil and no error when there
// is none, i.e. no rotation in progress or left unfinished. Its errors name the file and say
// how to recover, and quote nothing from it.
func LoadJournal(dir, profile string) (*Journal, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	// A journal tells --resume which keys to revoke: one planted by whoever can write the
	// folder (or the folder a symlink leads to) must not be read.
	if err := fsutil.CheckPrivateDir(filepath.Join(dir, "journals")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("rotation journal: %w", err)
	}
	path := journalPath(dir, profile)
	data, err := readLimited(path, maxJournalSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, fsutil.ErrTooLarge):
		return nil, damaged(path, fmt.Sprintf("it is larger than %d bytes, far more than waasctl writes", maxJournalSize))
	case err != nil:
		return nil, fmt.Errorf("reading the rotation journal: %w", err)
	}
	j, reason := decodeJournal(data, profile)
	if reason != "" {
		return nil, damaged(path, reason)
	}
	return j, nil
}

// readLimited reads a file of the state folder, never through a symlink.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fsutil.ReadAll(f, path, limit)
}

// damaged explains an unusable journal. Moving it aside is always safe: it only records
// progress; the keys themselves are in the keyring (CURRENT, and PENDING if the rotation got
// as far as creating one), which `keys status` shows.
func damaged(path, reason string) error {
	return fmt.Errorf("rotation journal %s is unusable: %s; move it aside to start over, after checking `waasctl keys status` for a PENDING key it left in the keyring", path, reason)
}

// decodeJournal returns the journal, or a reason it is unusable built from fixed strings and
// field names only: the file could hold anything, and the error must not echo it.
func decodeJournal(data []byte, profile string) (*Journal, string) {
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonReason(err)
	}
	if head.Version > JournalVersion {
		return nil, fmt.Sprintf("it has format version %d, and this waasctl reads up to %d (upgrade waasctl to resume it)", head.Version, JournalVersion)
	}
	// The whole of data is known to be one JSON value: Unmarshal above refuses trailing data.
	var j Journal
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, jsonReason(err)
	}
	if j.Profile != profile {
		if checkProfile(j.Profile) != nil {
			return nil, "it names no valid profile"
		}
		return nil, fmt.Sprintf("it belongs to profile %q", j.Profile)
	}
	if err := j.validate(); err != nil {
		return nil, err.Error()
	}
	return &j, ""
}

// jsonReason describes a JSON error by position or field name, never by content.
func jsonReason(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		tim *time.ParseError
	)
	switch {
	case errors.As(err, &syn):
		return "it is not valid JSON (at byte " + strconv.FormatInt(syn.Offset, 10) + ")"
	case errors.As(err, &typ) && typ.Field == "":
		return "it is not a JSON object"
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", clean(typ.Field))
	case errors.As(err, &tim):
		return "a time in it is not valid"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "it is truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "it has a field this waasctl does not know"
	default:
		return "it is not a rotation journal"
	}
}

// Archive moves the finished journal into dir/journals/history, named by profile, start time and
// rotation id, and returns the new path. Running it again after a crash half way is harmless:
// the name is the same and the active journal is saved first.
func (j *Journal) Archive(dir string) (string, error) {
	if !j.Step.Finished() {
		return "", fmt.Errorf("rotation %s is at %s; only a done or aborted rotation is archived", j.ID, j.Step)
	}
	if err := j.Save(dir); err != nil {
		return "", err
	}
	return j.moveToHistory(dir)
}

// syncDir makes a folder's entries durable. Some filesystems refuse to sync a folder; the
// change is made either way, so that is not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// secretField returns the JSON path of the first string in the encoded journal that looks like
// key material ("events[3].message"), or "" if none does. Walking the decoded JSON, rather than
// listing Journal's fields, keeps a field added later covered.
func secretField(data []byte, guard *credentials.Guard) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "the journal" // cannot happen for what json.Marshal made; refuse rather than guess
	}
	return findSecret(v, "", guard)
}

func findSecret(v any, path string, guard *credentials.Guard) string {
	switch v := v.(type) {
	case string:
		if guard.Refuses(v) {
			return path
		}
	case []any:
		for i, e := range v {
			if p := findSecret(e, fmt.Sprintf("%s[%d]", path, i), guard); p != "" {
				return p
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if guard.Refuses(k) {
				return p
			}
			if p := findSecret(v[k], p, guard); p != "" {
				return p
			}
		}
	}
	return ""
}
