package team

import (
	"context"
	"errors"
	"fmt"
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
// nil. A name or key already there is refused, naming it.
func (s *Store) AddRecipients(ctx context.Context, add []Recipient, id *Identity) error {
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
	_, err := s.changeRecipients(ctx, id, func(tx pgx.Tx, current []Recipient) ([]Recipient, error) {
		for _, r := range add {
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
	})
	return err
}

// Removal is what RemoveRecipient did.
type Removal struct {
	Recipient Recipient
	// Exposed are the profiles whose keys the removed member could read: every key item that
	// was encrypted to it. They must be rotated, since the member may have kept a copy.
	Exposed []string
	// Reencrypted is how many key items were re-encrypted to the remaining recipients.
	Reencrypted int
}

// RemoveRecipient removes the named recipient and re-encrypts every stored key item to the
// others, in one transaction: after it commits, no row the removed identity can decrypt is left
// in the database. id (this host's) must be able to read every item. Removing the last recipient
// is refused while items are stored.
func (s *Store) RemoveRecipient(ctx context.Context, name string, id *Identity) (*Removal, error) {
	if err := CheckRecipientName(name); err != nil {
		return nil, err
	}
	var out Removal
	n, err := s.changeRecipients(ctx, id, func(tx pgx.Tx, current []Recipient) ([]Recipient, error) {
		i := slices.IndexFunc(current, func(r Recipient) bool { return r.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no recipient named %s in the team ('waasctl team recipients list' shows them)", name)
		}
		out.Recipient = current[i]
		if _, err := tx.Exec(ctx, `DELETE FROM waasctl.recipients WHERE name = $1`, name); err != nil {
			return nil, s.errorf("removing recipient %s: %w", name, err)
		}
		rows, err := tx.Query(ctx, `SELECT profile FROM waasctl.key_items WHERE $1 = ANY(encrypted_to) ORDER BY profile`, name)
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		out.Exposed, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		return slices.Delete(current, i, i+1), nil
	})
	if err != nil {
		return nil, err
	}
	out.Reencrypted = n
	return &out, nil
}

// changeRecipients runs change under the exclusive recipients lock (no key item is written
// meanwhile), then re-encrypts every key item to the set change returns.
func (s *Store) changeRecipients(ctx context.Context, id *Identity, change func(pgx.Tx, []Recipient) ([]Recipient, error)) (n int, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, recipientsKey); err != nil {
			return s.errorf("taking the recipients lock: %w", err)
		}
		current, err := s.recipients(ctx, tx)
		if err != nil {
			return err
		}
		next, err := change(tx, current)
		if err != nil {
			return err
		}
		n, err = s.reencryptAll(ctx, tx, next, id)
		return err
	})
	return n, err
}

// reencryptAll re-encrypts every key item to rs, bumping each version.
func (s *Store) reencryptAll(ctx context.Context, tx pgx.Tx, rs []Recipient, id *Identity) (int, error) {
	type row struct {
		profile    string
		ciphertext []byte
		size       int64
	}
	rows, err := tx.Query(ctx, `SELECT profile, `+itemCiphertext+` FROM waasctl.key_items ORDER BY profile FOR UPDATE`)
	if err != nil {
		return 0, s.errorf("reading key items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.profile, &x.ciphertext, &x.size)
		return x, err
	})
	if err != nil {
		return 0, s.errorf("reading key items: %w", err)
	}
	if len(items) == 0 {
		return 0, nil
	}
	if len(rs) == 0 {
		return 0, fmt.Errorf("refusing to leave the team without recipients while %d profiles' keys are stored: nobody could read them", len(items))
	}
	if id == nil {
		return 0, fmt.Errorf("re-encrypting the stored keys needs this host to read them: %w", ErrNoIdentity)
	}
	keys, names, err := parseAll(rs)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if err := checkItemSize(it.profile, it.size); err != nil {
			return 0, fmt.Errorf("%w (nothing was changed)", err)
		}
		plain, err := decrypt(it.ciphertext, id)
		if errors.Is(err, errNotARecipient) {
			return 0, fmt.Errorf("profile %s: this host's %s cannot read its key, so it cannot re-encrypt it; run this on a host that can (nothing was changed)", it.profile, id)
		}
		if err != nil {
			return 0, fmt.Errorf("profile %s: %w (nothing was changed)", it.profile, err)
		}
		ct, err := encrypt(plain, keys)
		clear(plain)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE waasctl.key_items SET ciphertext = $2, encrypted_to = $3, version = version + 1, updated_at = now(), updated_by = $4 WHERE profile = $1`,
			it.profile, ct, names, s.who()); err != nil {
			return 0, s.errorf("re-encrypting profile %s: %w", it.profile, err)
		}
	}
	return len(items), nil
}

// who names this process's host and user in rows it writes.
func (s *Store) who() string { return s.User + "@" + s.Host }
