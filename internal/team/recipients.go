package team

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Recipient is a member of the team: a person's laptop or a CI job, by its age public key.
type Recipient struct {
	Name      string    `json:"name"`
	PublicKey string    `json:"publicKey"`
	AddedAt   time.Time `json:"addedAt"`
	AddedBy   string    `json:"addedBy"`
}

// ErrNoRecipients: there is nobody to encrypt to.
var ErrNoRecipients = errors.New("the team has no recipients: add one with 'waasctl team recipients add NAME age1...'")

var recipientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckRecipientName says whether name is usable for a recipient, without quoting a long one.
func CheckRecipientName(name string) error {
	if !recipientName.MatchString(name) {
		return fmt.Errorf("invalid recipient name %s: use up to 64 letters, digits, '.', '_', '@' and '-', starting with a letter or digit", textsafe.Value(name))
	}
	return nil
}

// Recipients lists the team's recipients by name.
func (s *Store) Recipients(ctx context.Context) ([]Recipient, error) {
	return s.recipients(ctx, s.pool)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) recipients(ctx context.Context, q querier) ([]Recipient, error) {
	rows, err := q.Query(ctx, `SELECT name, public_key, added_at, added_by FROM waasctl.recipients ORDER BY name`)
	if err != nil {
		return nil, s.errorf("listing recipients: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recipient, error) {
		var x Recipient
		err := r.Scan(&x.Name, &x.PublicKey, &x.AddedAt, &x.AddedBy)
		return x, err
	})
	if err != nil {
		return nil, s.errorf("listing recipients: %w", err)
	}
	return out, nil
}

func parseAll(rs []Recipient) ([]*age.X25519Recipient, []string, error) {
	var keys []*age.X25519Recipient
	var names []string
	for _, r := range rs {
		k, err := ParseRecipient(r.PublicKey)
		if err != nil {
			return nil, nil, fmt.Errorf("recipient %s in the team store: %w", r.Name, err)
		}
		keys = append(keys, k)
		names = append(names, r.Name)
	}
	return keys, names, nil
}

// AddRecipients adds recipients (name to age1... key) and re-encrypts every stored key item to
// the new set, all in one transaction: a new member can read every key at once, and a crash
// leaves the old state. Re-encrypting needs id to read the items; with no items stored, id may be
// nil. A recipient already there with the same key is left as it is (so that 'team init
// --recipient' can run again); a name with another key, or a key under another name, is
// refused. The database must agree with s.Pins but for the recipients added; repin (nil: none)
// records the new pins in config.yaml before the transaction commits, and s.Pins becomes them.
func (s *Store) AddRecipients(ctx context.Context, add []Recipient, id *Identity, repin func(*Pins) error) error {
	add = slices.Clone(add)
	for i, r := range add {
		if err := CheckRecipientName(r.Name); err != nil {
			return err
		}
		k, err := ParseRecipient(r.PublicKey)
		if err != nil {
			return fmt.Errorf("recipient %s: %w", r.Name, err)
		}
		add[i].PublicKey = k.String() // one spelling, so that the same key is found again
	}
	before := s.pins()
	for _, r := range add {
		if p, ok := before.byKey(r.PublicKey); ok && p.Name != r.Name {
			return fmt.Errorf("that public key is pinned as %s in %s", p.Name, before.Where)
		}
		if i := slices.IndexFunc(before.recipients, func(x Recipient) bool { return x.Name == r.Name }); i >= 0 && before.recipients[i].PublicKey != r.PublicKey {
			return fmt.Errorf("%s pins recipient %s with another key (%s): fix the pin, or pick another name", before.Where, r.Name, shortKey(before.recipients[i].PublicKey))
		}
	}
	after := before.with(add)
	return s.changeRecipients(ctx, id, before, after, repin, func(tx pgx.Tx, current []Recipient) ([]Recipient, error) {
		for _, r := range add {
			if slices.ContainsFunc(current, func(c Recipient) bool { return c.Name == r.Name && c.PublicKey == r.PublicKey }) {
				continue // already there: nothing to do
			}
			for _, c := range current {
				if c.Name == r.Name {
					return nil, fmt.Errorf("recipient %s is already in the team (%s); remove it first to change its key", r.Name, c.PublicKey)
				}
				if c.PublicKey == r.PublicKey {
					return nil, fmt.Errorf("that public key is already in the team as %s", c.Name)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO waasctl.recipients (name, public_key, added_by) VALUES ($1, $2, $3)`,
				r.Name, r.PublicKey, s.who()); err != nil {
				return nil, s.errorf("adding recipient %s: %w", r.Name, err)
			}
			current = append(current, r)
		}
		return current, nil
	}, nil)
}

// Removal is what RemoveRecipient did.
type Removal struct {
	Recipient Recipient
	// Exposed are the profiles whose keys the removed member could read: every key item whose
	// seal shows it was encrypted to it (not the encrypted_to column, which anyone who can
	// write the database can edit). They must be rotated, since the member may have kept a copy.
	Exposed []string
	// Reencrypted is how many key items were re-encrypted to the remaining recipients.
	Reencrypted int
}

// RemoveRecipient removes the named recipient and re-encrypts and re-seals every stored key
// item to the others, in one transaction: after it commits, no row the removed identity can
// decrypt is left in the database, and no row sealed before is accepted (the pinned set
// changed). id (this host's) must be able to read every item. Removing the last recipient is
// refused while items are stored. A recipient in the database that config.yaml does not pin (a
// row someone inserted) can be removed this way too. repin is as for AddRecipients.
func (s *Store) RemoveRecipient(ctx context.Context, name string, id *Identity, repin func(*Pins) error) (*Removal, error) {
	if err := CheckRecipientName(name); err != nil {
		return nil, err
	}
	var out Removal
	var res resealed
	before := s.pins()
	after := before.with(nil, name)
	err := s.changeRecipients(ctx, id, before, after, repin, func(tx pgx.Tx, current []Recipient) ([]Recipient, error) {
		i := slices.IndexFunc(current, func(r Recipient) bool { return r.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no recipient named %s in the team ('waasctl team recipients list' shows them)", name)
		}
		out.Recipient = current[i]
		if _, err := tx.Exec(ctx, `DELETE FROM waasctl.recipients WHERE name = $1`, name); err != nil {
			return nil, s.errorf("removing recipient %s: %w", name, err)
		}
		return slices.Delete(current, i, i+1), nil
	}, &res)
	if err != nil {
		return nil, err
	}
	out.Reencrypted = res.n
	removed := out.Recipient.PublicKey
	if k, err := ParseRecipient(removed); err == nil {
		removed = k.String()
	}
	for _, p := range slices.Sorted(maps.Keys(res.sealedFor)) {
		if _, ok := res.sealedFor[p].byKey(removed); ok {
			out.Exposed = append(out.Exposed, p)
		}
	}
	return &out, nil
}

// pins is s.Pins, or an empty set when config.yaml pins none.
func (s *Store) pins() *Pins {
	if s.Pins != nil {
		return s.Pins
	}
	return &Pins{Where: "state.recipients in config.yaml"}
}

// changeRecipients runs change under the exclusive recipients lock (no key item is written
// meanwhile); the set it returns must be after, the new pins. Every key item is then checked
// (sealed by a member pinned before, for the database's set or the pins before) and
// re-encrypted and re-sealed to after; repin records after before the commit.
func (s *Store) changeRecipients(ctx context.Context, id *Identity, before, after *Pins, repin func(*Pins) error, change func(pgx.Tx, []Recipient) ([]Recipient, error), res *resealed) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, recipientsKey); err != nil {
			return s.errorf("taking the recipients lock: %w", err)
		}
		current, err := s.recipients(ctx, tx)
		if err != nil {
			return err
		}
		dbBefore, err := tablePins(current)
		if err != nil {
			return err
		}
		next, err := change(tx, slices.Clone(current))
		if err != nil {
			return err
		}
		if len(next) > 0 || len(after.recipients) > 0 {
			if err := after.checkMatches(next); err != nil {
				return fmt.Errorf("nothing was changed: %w", err)
			}
		}
		if !slices.Equal(current, next) { // else nothing changed in the database ('team init' again)
			r, err := s.reencryptAll(ctx, tx, id, before, []*Pins{dbBefore, before}, after)
			if err != nil {
				return err
			}
			if res != nil {
				*res = r
			}
		}
		if repin != nil && !slices.Equal(before.recipients, after.recipients) {
			if err := repin(after); err != nil {
				return fmt.Errorf("recording the pinned recipients (nothing was changed): %w", err)
			}
		}
		return nil
	})
	if err == nil {
		s.Pins = after
	}
	return err
}

// tablePins is the recipients table as a set of pins, to check seals made for it.
func tablePins(rs []Recipient) (*Pins, error) {
	m := map[string]string{}
	for _, r := range rs {
		m[r.Name] = r.PublicKey
	}
	p, err := NewPins(m, "the team store's recipients table")
	if err != nil {
		return nil, fmt.Errorf("the team store's recipients table: %w", err)
	}
	return p, nil
}

// resealed is what reencryptAll did: how many items, and the set each was sealed for before.
type resealed struct {
	n         int
	sealedFor map[string]*Pins
}

// reencryptAll checks every key item's seal (a writer pinned in writers, for one of the sets
// sealedFor), then re-encrypts it to after and re-seals it, bumping each version.
func (s *Store) reencryptAll(ctx context.Context, tx pgx.Tx, id *Identity, writers *Pins, sealedFor []*Pins, after *Pins) (resealed, error) {
	type row struct {
		profile    string
		ciphertext []byte
		size       int64
		version    int64
		seal       string
	}
	rows, err := tx.Query(ctx, `SELECT profile, `+itemCiphertext+`, version, `+itemSealColumn+` FROM waasctl.key_items ORDER BY profile FOR UPDATE`)
	if err != nil {
		return resealed{}, s.errorf("reading key items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.profile, &x.ciphertext, &x.size, &x.version, &x.seal)
		return x, err
	})
	if err != nil {
		return resealed{}, s.errorf("reading key items: %w", err)
	}
	if len(items) == 0 {
		return resealed{}, nil
	}
	if len(after.recipients) == 0 {
		return resealed{}, fmt.Errorf("refusing to leave the team without recipients while %d profiles' keys are stored: nobody could read them", len(items))
	}
	if id == nil {
		return resealed{}, fmt.Errorf("re-encrypting the stored keys needs this host to read them: %w", ErrNoIdentity)
	}
	if _, ok := after.byKey(id.Recipient()); !ok {
		return resealed{}, fmt.Errorf("this host's %s would not be pinned afterwards, so it cannot seal the re-encrypted keys: run this on another member's host (nothing was changed)", id)
	}
	keys, names, err := parseAll(after.recipients)
	if err != nil {
		return resealed{}, err
	}
	out := resealed{n: len(items), sealedFor: map[string]*Pins{}}
	for _, it := range items {
		if err := checkItemSize(it.profile, it.size); err != nil {
			return resealed{}, fmt.Errorf("%w (nothing was changed)", err)
		}
		var plain []byte
		for _, set := range sealedFor {
			plain, err = s.open(id, writers, set, it.profile, it.version, it.ciphertext, it.seal)
			if err == nil {
				out.sealedFor[it.profile] = set
				break
			}
		}
		var na *NotARecipientError
		if errors.As(err, &na) {
			return resealed{}, fmt.Errorf("profile %s: this host's %s cannot read its key, so it cannot re-encrypt it; run this on a host that can (nothing was changed)", it.profile, id)
		}
		if err != nil {
			return resealed{}, fmt.Errorf("%w (nothing was changed)", err)
		}
		ct, err := encrypt(plain, keys)
		clear(plain)
		if err != nil {
			return resealed{}, err
		}
		if _, err := tx.Exec(ctx, `UPDATE waasctl.key_items SET ciphertext = $2, encrypted_to = $3, version = $5, updated_at = now(), updated_by = $4 WHERE profile = $1`,
			it.profile, ct, names, s.who(), it.version+1); err != nil {
			return resealed{}, s.errorf("re-encrypting profile %s: %w", it.profile, err)
		}
		if err := s.writeSeal(ctx, tx, id, after, it.profile, it.version+1, ct); err != nil {
			return resealed{}, err
		}
	}
	return out, nil
}

// who names this process's host and user in rows it writes.
func (s *Store) who() string { return s.User + "@" + s.Host }

// CheckPins says in one line how the recipients table differs from the pins (ErrNoPins when
// config.yaml pins none); nil when they agree, which every write requires.
func (s *Store) CheckPins(ctx context.Context) error {
	rs, err := s.Recipients(ctx)
	if err != nil {
		return err
	}
	return s.pins().checkMatches(rs)
}
