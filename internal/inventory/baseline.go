package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// An incident assessment diffs the estate now against a baseline: what was
// added since is what a leaked key may have made. A baseline taken after
// the leak hides what the key did before it, so the baseline must predate
// the suspected key's coming into use, and a snapshot records the key that
// took it (its fingerprint) so that this can be told. The rules, in order:
//
//  1. --leaked-since T: the newest snapshot taken before T. The responder
//     placed the leak; whatever key took the snapshot, it predates T.
//  2. The suspected key's promotion snapshot: the one `keys rotate` took
//     with that key as it became CURRENT (the estate as it first saw it).
//  3. The newest snapshot known to predate the key: taken before the
//     rotation that created it started, or taken with another (earlier)
//     key before the profile held the suspected key (when it was added to
//     the profile's keyring). A moment the key is merely known to have been
//     in use (its first snapshot, the start of a rotation away from it,
//     now) is no such bound: a CI job or a --key-file snapshots the profile
//     with another key while the suspected one is held, and maybe leaked.
//  4. Otherwise the newest snapshot before it was in use (or, with none, the
//     first one after it), marked as NOT known to predate the leak: its
//     key is unknown (a version 1 snapshot), or it was taken with the
//     suspected key after it came into use. Findings still count; a quiet
//     diff is inconclusive, never clean.
//
// An incident assessment's own snapshots are taken after a leak and are
// never a baseline.

// SnapshotFile is a snapshot's path and what its header says.
type SnapshotFile struct {
	Path string `json:"path"`
	SnapshotMeta
}

// ListSnapshots returns the snapshots of profile in dir taken against
// endpoint and organization, oldest first, by their headers (a file is
// verified when it is read). Files that are not snapshots, or not of this
// estate, are skipped; none is an empty list.
func ListSnapshots(dir, profile, endpoint, org string) ([]SnapshotFile, error) {
	// A baseline planted by whoever can write the folder would hide what a leaked key did.
	if err := fsutil.CheckPrivateDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	matches, err := filepath.Glob(filepath.Join(dir, safeName(profile)+"-*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []SnapshotFile
	for _, path := range matches {
		meta, err := snapshotHeader(path)
		if err != nil {
			continue // not a snapshot, or unreadable: not a baseline
		}
		// The glob for "prod" also matches "prod-eu": the header decides.
		if meta.Profile == profile && meta.Endpoint == endpoint && meta.Organization == org {
			out = append(out, SnapshotFile{Path: path, SnapshotMeta: meta})
		}
	}
	slices.SortStableFunc(out, func(a, b SnapshotFile) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// SuspectKey is the key an assessment suspects, and what is known of when
// it came into use.
type SuspectKey struct {
	Name        string `json:"name,omitempty"`
	Fingerprint string `json:"fingerprint"`
	// Why says how the key was picked: the profile's current key, the key an
	// emergency rotation replaced, --key.
	Why string `json:"why"`
	// CreatedAt is when the rotation that created the key started: it
	// cannot have leaked before. Zero when unknown (a key added by hand).
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// InUseAt is a moment the key is known to have been in use: when it
	// was added to the profile's keyring, or the start of the rotation that
	// replaced it, whichever is first. Zero when unknown.
	InUseAt time.Time `json:"inUseAt,omitzero"`
	// InUseBy says what InUseAt is, for the report.
	InUseBy string `json:"inUseBy,omitempty"`
	// HeldSince is when the profile's keyring got the key (auth add, keys rotate): the
	// profile did not sign with it before. Zero when unknown. Only a snapshot taken with
	// another key before this moment is known to predate the key: one taken after it, or
	// merely before a moment the key is known to have been in use, may be a CI job's or a
	// --key-file's snapshot of the profile while the key was already held, and leaked.
	HeldSince time.Time `json:"heldSince,omitzero"`
}

// Baseline is the snapshot an assessment diffs against, and why it was chosen.
type Baseline struct {
	SnapshotFile
	// Reason says why this snapshot was chosen.
	Reason string `json:"reason"`
	// PredatesLeak is true when the snapshot is known to have been taken
	// before the suspected key came into use (or before --leaked-since).
	// Only then can an assessment that finds nothing say "clean".
	PredatesLeak bool `json:"predatesLeak"`
	// Caveat says why the snapshot may postdate the leak; "" when it does not.
	Caveat string `json:"caveat,omitempty"`
}

// keyChronology is what the snapshots and the key tell of when the key came into use.
type keyChronology struct {
	key SuspectKey
	// promotion is the key's promotion snapshot; nil when it has none.
	promotion *SnapshotFile
	// inUse is the first moment the key is known to have been in use;
	// zero when unknown. Another key's snapshot before it came first.
	inUse time.Time
	// inUseBy says what inUse is.
	inUseBy string
}

func chronology(snaps []SnapshotFile, k SuspectKey) keyChronology {
	ch := keyChronology{key: k, inUse: k.InUseAt, inUseBy: k.InUseBy}
	if k.Fingerprint == "" {
		return ch
	}
	for i := range snaps {
		s := &snaps[i]
		if s.KeyFingerprint != k.Fingerprint || s.Source == SourceIncident {
			continue
		}
		if s.Source == SourceRotation && ch.promotion == nil && !s.Time.Before(k.CreatedAt) {
			ch.promotion = s
		}
		if ch.inUse.IsZero() || s.Time.Before(ch.inUse) {
			ch.inUse, ch.inUseBy = s.Time, "its first snapshot, "+s.Time.UTC().Format(time.RFC3339)
		}
	}
	return ch
}

// predates says whether s is known to have been taken before the key came
// into use, and if so why.
func (ch keyChronology) predates(s SnapshotFile) (bool, string) {
	k := ch.key
	if !k.CreatedAt.IsZero() && s.Time.Before(k.CreatedAt) {
		return true, fmt.Sprintf("it was taken before the rotation that created the suspected key started (%s)", k.CreatedAt.UTC().Format(time.RFC3339))
	}
	// HeldSince is when the keyring last got the key: a key removed and added again, or its
	// keyring rebuilt, was in use before it, as its own snapshots or rotations may show.
	if s.KeyFingerprint != "" && s.KeyFingerprint != k.Fingerprint && !k.HeldSince.IsZero() && s.Time.Before(k.HeldSince) && (ch.inUse.IsZero() || s.Time.Before(ch.inUse)) {
		return true, fmt.Sprintf("it was taken with an earlier key (%s) before the suspected key was added to the profile's keyring (%s)", credentials.ShortFingerprint(s.KeyFingerprint), k.HeldSince.UTC().Format(time.RFC3339))
	}
	return false, ""
}

// caveat says why s is not known to predate the key's coming into use.
func (ch keyChronology) caveat(s SnapshotFile) string {
	k := ch.key
	switch {
	case s.KeyFingerprint == "":
		return "the key that took it is unknown (a version 1 snapshot, from before snapshots recorded their key): it may have been taken with the suspected key after the leak"
	case s.KeyFingerprint == k.Fingerprint:
		return "it was taken with the suspected key itself after that key came into use, so possibly after the leak: whatever the key did before it looks old here"
	case ch.inUse.IsZero():
		return fmt.Sprintf("it was taken with another key (%s), and nothing shows whether that was before or after the suspected key came into use", credentials.ShortFingerprint(s.KeyFingerprint))
	case s.Time.Before(ch.inUse) && (k.HeldSince.IsZero() || !s.Time.Before(k.HeldSince)):
		return fmt.Sprintf("it was taken with another key (%s) before the suspected key is known to have been in use (%s), but not known to be before the profile held it: another key (a CI job's, a --key-file) can snapshot the profile while the suspected one is in use", credentials.ShortFingerprint(s.KeyFingerprint), ch.inUseBy)
	}
	return fmt.Sprintf("it was taken with another key (%s) after the suspected key was already in use", credentials.ShortFingerprint(s.KeyFingerprint))
}

// ChooseBaseline picks the baseline of an assessment of key k among snaps
// (ListSnapshots' list, oldest first), by the rules above. leakedSince,
// when not zero, is when the responder says the key may first have leaked.
// It returns nil when no snapshot can serve.
func ChooseBaseline(snaps []SnapshotFile, k SuspectKey, leakedSince time.Time) *Baseline {
	var cands []SnapshotFile
	for _, s := range snaps {
		if s.Source != SourceIncident {
			cands = append(cands, s)
		}
	}
	if !leakedSince.IsZero() {
		for i := len(cands) - 1; i >= 0; i-- {
			if s := cands[i]; s.Time.Before(leakedSince) {
				b := &Baseline{SnapshotFile: s, PredatesLeak: true,
					Reason: fmt.Sprintf("the newest snapshot taken before --leaked-since %s", leakedSince.UTC().Format(time.RFC3339))}
				if k.Fingerprint != "" && s.KeyFingerprint == k.Fingerprint {
					b.Reason += "; it was taken with the suspected key itself, before the time given for the leak"
				}
				return b
			}
		}
		return nil
	}
	ch := chronology(cands, k)
	if ch.promotion != nil {
		return &Baseline{SnapshotFile: *ch.promotion, PredatesLeak: true,
			Reason: "the snapshot `keys rotate` took with the suspected key when it was promoted: the estate as that key first saw it"}
	}
	for i := len(cands) - 1; i >= 0; i-- {
		if ok, why := ch.predates(cands[i]); ok {
			return &Baseline{SnapshotFile: cands[i], PredatesLeak: true, Reason: "the newest snapshot known to predate the suspected key: " + why}
		}
	}
	// Nothing is known to predate the key. The snapshot closest to its
	// coming into use still shows what was added after it, as findings.
	for i := len(cands) - 1; i >= 0; i-- {
		if ch.inUse.IsZero() || cands[i].Time.Before(ch.inUse) {
			return &Baseline{SnapshotFile: cands[i], Caveat: ch.caveat(cands[i]),
				Reason: "no snapshot is known to predate the suspected key; this is the newest before it is known to have been in use"}
		}
	}
	if len(cands) > 0 {
		return &Baseline{SnapshotFile: cands[0], Caveat: ch.caveat(cands[0]),
			Reason: "no snapshot is known to predate the suspected key; this is the oldest there is"}
	}
	return nil
}

// JudgeBaseline says whether s, a baseline the responder named with
// --since, is known to predate the leak of k, given the profile's other
// snapshots (for the key's chronology) and leakedSince (zero: not given).
func JudgeBaseline(s SnapshotFile, snaps []SnapshotFile, k SuspectKey, leakedSince time.Time) Baseline {
	b := Baseline{SnapshotFile: s, Reason: "named with --since"}
	if !leakedSince.IsZero() {
		if b.PredatesLeak = s.Time.Before(leakedSince); !b.PredatesLeak {
			b.Caveat = fmt.Sprintf("it was taken after --leaked-since %s", leakedSince.UTC().Format(time.RFC3339))
		}
		return b
	}
	if s.Source == SourceIncident {
		b.Caveat = "it was taken by an incident assessment, after a suspected leak"
		return b
	}
	var cands []SnapshotFile
	for _, o := range snaps {
		if o.Source != SourceIncident {
			cands = append(cands, o)
		}
	}
	ch := chronology(cands, k)
	if p := ch.promotion; p != nil && s.KeyFingerprint == k.Fingerprint && s.Source == SourceRotation && s.Time.Equal(p.Time) {
		b.PredatesLeak = true
		b.Reason += "; it is the suspected key's promotion snapshot"
		return b
	}
	if ok, why := ch.predates(s); ok {
		b.PredatesLeak = true
		b.Reason += "; " + why
		return b
	}
	b.Caveat = ch.caveat(s)
	return b
}

// EarlierKey is a key of the profile other than the suspected one that the snapshots show in
// use before the baseline: if it is the key that leaked (a rotation since the leak), what it
// made predates the baseline and a diff against that baseline cannot see it.
type EarlierKey struct {
	Name        string    `json:"name,omitempty"`
	Fingerprint string    `json:"fingerprint"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
}

// KeyUse is a key seen in use at a time other than in a snapshot: the old key of a rotation
// that started then.
type KeyUse struct {
	Name, Fingerprint string
	At                time.Time
}

// EarlierKeys lists, oldest first, the keys other than k's seen in use at or before the time
// before: those that took a snapshot (not an incident's), and those of uses (a key rotated
// away on a schedule may never have taken one, yet its rotation's promotion snapshot holds
// what it made). The key that took the baseline itself counts: it was in use then, and what it
// made before is old in a diff against that baseline.
func EarlierKeys(snaps []SnapshotFile, k SuspectKey, before time.Time, uses ...KeyUse) []EarlierKey {
	all := make([]KeyUse, 0, len(snaps)+len(uses))
	for _, s := range snaps {
		if s.Source != SourceIncident {
			all = append(all, KeyUse{Name: s.KeyName, Fingerprint: s.KeyFingerprint, At: s.Time})
		}
	}
	all = append(all, uses...)
	var out []EarlierKey
	index := map[string]int{}
	for _, u := range all {
		if u.Fingerprint == "" || u.Fingerprint == k.Fingerprint || u.At.After(before) {
			continue
		}
		i, ok := index[u.Fingerprint]
		if !ok {
			index[u.Fingerprint] = len(out)
			out = append(out, EarlierKey{Name: u.Name, Fingerprint: u.Fingerprint, FirstSeen: u.At, LastSeen: u.At})
			continue
		}
		if u.At.Before(out[i].FirstSeen) {
			out[i].FirstSeen = u.At
		}
		if u.At.After(out[i].LastSeen) {
			out[i].LastSeen = u.At
		}
	}
	slices.SortStableFunc(out, func(a, b EarlierKey) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return out
}
