package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/textsafe"
)

// StoredKey is one API key in the keyring, with its provenance. PrivateKey is
// the secret (SEC1 PEM for ECDSA, as the official client needs; base64 of the
// 64 bytes for Ed25519).
//
// Every fmt verb, String, GoString and MarshalJSON print the name and short
// fingerprint at most: a StoredKey can be logged, wrapped into an error or
// printed with -o json by mistake without leaking the secret.
type StoredKey struct {
	Name        string
	PrivateKey  string
	Fingerprint string
	Algorithm   string // "ES256" or "Ed25519", as APIKey.Algorithm says
	AddedAt     time.Time
	AddedBy     string // the command that stored it: "auth add", "keys rotate"
	Source      string // where the secret came from: "file ./key.json", "stdin", "prompt", "issuer sandbox"
}

// String and GoString have value receivers so that k and &k behave alike.
func (k StoredKey) String() string {
	return fmt.Sprintf("%s (%s)", k.Name, ShortFingerprint(k.Fingerprint))
}

func (k StoredKey) GoString() string { return "credentials.StoredKey{" + k.String() + "}" }

// Format makes every verb go through String or GoString. Without it, verbs
// that do not consult Stringer (%d, %t, %08v with flags, ...) would print the
// struct field by field, PrivateKey included.
func (k StoredKey) Format(f fmt.State, verb rune) { formatRedacted(f, verb, k) }

// MarshalJSON writes everything but the secret. The keyring's own encoding
// uses storedKeyJSON, which has the secret.
func (k StoredKey) MarshalJSON() ([]byte, error) {
	w := toWire(&k)
	w.PrivateKey = ""
	return json.Marshal(w)
}

// Item is what the keyring holds for one profile: the CURRENT key, and room
// for the PENDING and PREVIOUS ones that rotation uses. All three live in one
// keyring item so that a Put moves keys between slots in one atomic write.
type Item struct {
	Profile                    string
	Current, Pending, Previous *StoredKey
}

func (it Item) String() string {
	slot := func(k *StoredKey) string {
		if k == nil {
			return "-"
		}
		return k.String()
	}
	return fmt.Sprintf("profile %s: current %s, pending %s, previous %s",
		it.Profile, slot(it.Current), slot(it.Pending), slot(it.Previous))
}

func (it Item) GoString() string { return "credentials.Item{" + it.String() + "}" }

// Format: see StoredKey.Format.
func (it Item) Format(f fmt.State, verb rune) { formatRedacted(f, verb, it) }

type redactedFormatter interface {
	fmt.Stringer
	fmt.GoStringer
}

func formatRedacted(f fmt.State, verb rune, v redactedFormatter) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, v.GoString())
		return
	}
	fmt.Fprint(f, v.String())
}

// Store keeps one Item per profile. Implementations are safe for concurrent
// use. Errors never contain a private key.
type Store interface {
	// Get returns the profile's item, or an error matching ErrNotFound.
	Get(ctx context.Context, profile string) (*Item, error)
	// Put creates or replaces the profile's item in one step: a reader sees
	// the old item or the new one, never a mix. The item needs a Current
	// key; every key's secret must parse, and an empty Fingerprint is filled
	// in (in the stored copy) while a wrong one is refused.
	Put(ctx context.Context, item *Item) error
	// Remove deletes the profile's item, or returns an error matching
	// ErrNotFound.
	Remove(ctx context.Context, profile string) error
	// Profiles lists the profiles that have an item, sorted.
	Profiles(ctx context.Context) ([]string, error)
	// Backend names where the items live: "secret-service", "keyctl",
	// "file", ..., or "memory" for the test fake.
	Backend() string
}

var (
	// ErrNotFound: the profile has no item in the keyring.
	ErrNotFound = errors.New("no API key stored for this profile")
	// ErrItemDamaged: the profile's keyring item cannot be read as waasctl wrote it. Removing
	// the profile is the way out.
	ErrItemDamaged = errors.New("the keyring item is damaged")
	// ErrTimeout: a keyring call did not return in time. The error that
	// matches it names the backend and what to do.
	ErrTimeout = errors.New("the keyring did not answer in time")
)

// profileName keeps profiles usable as keyring keys everywhere: the file
// backend makes them file names (no ':' for Windows, no '/'), pass makes
// them paths.
var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckProfile says whether profile is usable as a profile name, without quoting a long one.
func CheckProfile(profile string) error {
	if !profileName.MatchString(profile) {
		return fmt.Errorf("invalid profile name %s: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", textsafe.Value(profile))
	}
	return nil
}

func notFound(profile, backend string) error {
	return fmt.Errorf("profile %q: %w (keyring backend %s)", profile, ErrNotFound, backend)
}

// storedKeyJSON and itemJSON are the keyring encoding. They are separate from
// the exported types so that StoredKey.MarshalJSON can drop the secret.
type storedKeyJSON struct {
	Name        string    `json:"name"`
	PrivateKey  string    `json:"privateKey,omitempty"`
	Fingerprint string    `json:"fingerprint"`
	Algorithm   string    `json:"algorithm,omitempty"`
	AddedAt     time.Time `json:"addedAt"`
	AddedBy     string    `json:"addedBy,omitempty"`
	Source      string    `json:"source,omitempty"`
}

type itemJSON struct {
	Version  int            `json:"version"`
	Profile  string         `json:"profile"`
	Current  *storedKeyJSON `json:"current,omitempty"`
	Pending  *storedKeyJSON `json:"pending,omitempty"`
	Previous *storedKeyJSON `json:"previous,omitempty"`
}

// itemVersion is bumped when the encoding changes incompatibly, so that an
// older waasctl refuses a newer item instead of misreading it.
const itemVersion = 1

func toWire(k *StoredKey) *storedKeyJSON {
	if k == nil {
		return nil
	}
	w := storedKeyJSON(*k)
	return &w
}

func fromWire(w *storedKeyJSON) *StoredKey {
	if w == nil {
		return nil
	}
	k := StoredKey(*w)
	return &k
}

// prepareItem validates item and returns the copy to store, with
// fingerprints filled in. Its errors name the slot and the key, never the
// secret.
func prepareItem(item *Item) (*Item, error) {
	if item == nil {
		return nil, errors.New("nothing to store: the item is nil")
	}
	if err := CheckProfile(item.Profile); err != nil {
		return nil, err
	}
	if item.Current == nil {
		// Rotation's invariant: a profile always has exactly one current
		// key. An item without one is removed, not stored.
		return nil, fmt.Errorf("profile %q: refusing to store an item without a current key", item.Profile)
	}
	out := &Item{Profile: item.Profile}
	for _, s := range []struct {
		name string
		in   *StoredKey
		out  **StoredKey
	}{{"current", item.Current, &out.Current}, {"pending", item.Pending, &out.Pending}, {"previous", item.Previous, &out.Previous}} {
		if s.in == nil {
			continue
		}
		k := *s.in
		if k.Name == "" {
			return nil, fmt.Errorf("profile %q: the %s key has no name", item.Profile, s.name)
		}
		if err := CheckKeyName(k.Name); err != nil {
			return nil, fmt.Errorf("profile %q: the %s key: %w", item.Profile, s.name, err)
		}
		signer, err := ParsePrivateKey(k.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("profile %q: the %s key %s: %w", item.Profile, s.name, k.Name, err)
		}
		fp := Fingerprint(signer.Public())
		switch k.Fingerprint {
		case "":
			k.Fingerprint = fp
		case fp:
		default:
			return nil, fmt.Errorf("profile %q: the %s key %s: its fingerprint %s is not that of its private key (%s)",
				item.Profile, s.name, k.Name, ShortFingerprint(k.Fingerprint), ShortFingerprint(fp))
		}
		*s.out = &k
	}
	return out, nil
}

func encodeItem(item *Item) ([]byte, error) {
	return json.Marshal(itemJSON{
		Version:  itemVersion,
		Profile:  item.Profile,
		Current:  toWire(item.Current),
		Pending:  toWire(item.Pending),
		Previous: toWire(item.Previous),
	})
}

// decodeItem's errors are fixed strings: a json error can quote the
// offending byte, which may be part of the secret.
func decodeItem(data []byte, profile, backend string) (*Item, error) {
	var w itemJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("profile %q: %w (backend %s): it is not a waasctl item; remove it with 'waasctl auth remove %s'", profile, ErrItemDamaged, backend, profile)
	}
	if w.Version != itemVersion {
		return nil, fmt.Errorf("profile %q: the keyring item (backend %s) has format version %d; this waasctl reads version %d (upgrade waasctl)", profile, backend, w.Version, itemVersion)
	}
	if w.Profile != profile {
		return nil, fmt.Errorf("profile %q: the keyring item (backend %s) belongs to profile %q", profile, backend, w.Profile)
	}
	// A name is checked here, where it is read back, because list and status print it without
	// parsing the key: a name that is not one (a secret stored by an older waasctl, or an edited
	// item) must not reach them.
	for _, s := range []struct {
		slot string
		k    *storedKeyJSON
	}{{"current", w.Current}, {"pending", w.Pending}, {"previous", w.Previous}} {
		if s.k == nil {
			continue
		}
		if err := CheckKeyName(s.k.Name); err != nil {
			return nil, fmt.Errorf("profile %q: %w (backend %s): the %s key: %w; remove it with 'waasctl auth remove %s' and add the key again", profile, ErrItemDamaged, backend, s.slot, err, profile)
		}
	}
	return &Item{Profile: profile, Current: fromWire(w.Current), Pending: fromWire(w.Pending), Previous: fromWire(w.Previous)}, nil
}

// NewMemoryStore returns an in-memory Store for tests of commands. It
// validates and copies like the real one, so a test cannot pass by
// mutating what it stored.
func NewMemoryStore() Store {
	return &memoryStore{items: map[string][]byte{}}
}

type memoryStore struct {
	mu      sync.Mutex
	items   map[string][]byte // profile -> encoded item, so copies are deep
	secrets map[string]string // SecretStore's
}

func (m *memoryStore) Backend() string { return "memory" }

func (m *memoryStore) Get(ctx context.Context, profile string) (*Item, error) {
	if err := CheckProfile(profile); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	data, ok := m.items[profile]
	m.mu.Unlock()
	if !ok {
		return nil, notFound(profile, m.Backend())
	}
	return decodeItem(data, profile, m.Backend())
}

func (m *memoryStore) Put(ctx context.Context, item *Item) error {
	it, err := prepareItem(item)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := encodeItem(it)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.items[it.Profile] = data
	m.mu.Unlock()
	return nil
}

func (m *memoryStore) Remove(ctx context.Context, profile string) error {
	if err := CheckProfile(profile); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[profile]; !ok {
		return notFound(profile, m.Backend())
	}
	delete(m.items, profile)
	return nil
}

func (m *memoryStore) Profiles(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.items))
	for p := range m.items {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// EncodeItem validates item as Put does and returns the encoding every Store
// keeps (the secret included): for stores that keep the bytes elsewhere,
// encrypted (the team store). Errors name slots and keys, never the secret.
func EncodeItem(item *Item) ([]byte, error) {
	it, err := prepareItem(item)
	if err != nil {
		return nil, err
	}
	return encodeItem(it)
}

// DecodeItem reads back what EncodeItem wrote for profile; backend names the
// store in errors. Errors are fixed strings: they never quote the data.
func DecodeItem(data []byte, profile, backend string) (*Item, error) {
	return decodeItem(data, profile, backend)
}

// ItemNotFound returns the error Get and Remove return for a profile without
// an item, matching ErrNotFound, for Store implementations outside this
// package.
func ItemNotFound(profile, backend string) error { return notFound(profile, backend) }
