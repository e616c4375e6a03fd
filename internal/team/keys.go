package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/credentials"
)

// BackendName is what KeyStore.Backend says.
const BackendName = "postgres"

// KeyStore is credentials.Store on the team database: each profile's item is encrypted with age
// to every recipient on Put and decrypted with this host's identity on Get. Profiles and Remove
// need no identity; Get does.
type KeyStore struct {
	s  *Store
	id *Identity // nil: this host has none (Get says so)
}

var _ credentials.Store = (*KeyStore)(nil)

// Keys returns the credentials store on s, reading with id (nil when this host has none).
func (s *Store) Keys(id *Identity) *KeyStore { return &KeyStore{s: s, id: id} }

func (k *KeyStore) Backend() string { return BackendName }

// Identity is the identity Get decrypts with, or nil.
func (k *KeyStore) Identity() *Identity { return k.id }

// NotARecipientError says that this host's identity cannot read a profile's key.
type NotARecipientError struct {
	Profile   string
	Recipient string // this host's public key
}

func (e *NotARecipientError) Error() string {
	return fmt.Sprintf("profile %s: this host's age identity (%s) is not one of the team's recipients for its key: ask a member to run 'waasctl team recipients add NAME %s'", e.Profile, e.Recipient, e.Recipient)
}

func (k *KeyStore) Get(ctx context.Context, profile string) (*credentials.Item, error) {
	if err := credentials.CheckProfile(profile); err != nil {
		return nil, err
	}
	var ct []byte
	var size int64
	err := k.s.pool.QueryRow(ctx, `SELECT `+itemCiphertext+` FROM waasctl.key_items WHERE profile = $1`, profile).Scan(&ct, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, credentials.ItemNotFound(profile, BackendName)
	}
	if err != nil {
		return nil, k.s.errorf("reading profile %s: %w", profile, err)
	}
	if err := checkItemSize(profile, size); err != nil {
		return nil, err
	}
	if k.id == nil {
		return nil, fmt.Errorf("profile %s: reading its key from the team store: %w", profile, ErrNoIdentity)
	}
	plain, err := decrypt(ct, k.id)
	if errors.Is(err, errNotARecipient) {
		return nil, &NotARecipientError{Profile: profile, Recipient: k.id.Recipient()}
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w (%w, team store)", profile, err, credentials.ErrItemDamaged)
	}
	defer clear(plain)
	return credentials.DecodeItem(plain, profile, BackendName)
}

func (k *KeyStore) Put(ctx context.Context, item *credentials.Item) error {
	plain, err := credentials.EncodeItem(item)
	if err != nil {
		return err
	}
	defer clear(plain)
	return k.s.inTx(ctx, func(tx pgx.Tx) error {
		// Shared: many items may be written at once, but not while the recipients change
		// (a Put encrypting to a member being removed would survive the re-encryption).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, recipientsKey); err != nil {
			return k.s.errorf("%w", err)
		}
		rs, err := k.s.recipients(ctx, tx)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return fmt.Errorf("profile %s: cannot store its key in the team store: %w", item.Profile, ErrNoRecipients)
		}
		keys, names, err := parseAll(rs)
		if err != nil {
			return err
		}
		ct, err := encrypt(plain, keys)
		if err != nil {
			return err
		}
		if len(ct) > maxItemCiphertext {
			return fmt.Errorf("profile %s: its key item encrypted to %d recipients is %d bytes, over the %d an item may be", item.Profile, len(keys), len(ct), maxItemCiphertext)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO waasctl.key_items (profile, ciphertext, encrypted_to, version, updated_by)
			VALUES ($1, $2, $3, 1, $4)
			ON CONFLICT (profile) DO UPDATE SET ciphertext = excluded.ciphertext, encrypted_to = excluded.encrypted_to,
				version = waasctl.key_items.version + 1, updated_at = now(), updated_by = excluded.updated_by`,
			item.Profile, ct, names, k.s.who()); err != nil {
			return k.s.errorf("storing profile %s: %w", item.Profile, err)
		}
		return nil
	})
}

func (k *KeyStore) Remove(ctx context.Context, profile string) error {
	if err := credentials.CheckProfile(profile); err != nil {
		return err
	}
	tag, err := k.s.pool.Exec(ctx, `DELETE FROM waasctl.key_items WHERE profile = $1`, profile)
	if err != nil {
		return k.s.errorf("removing profile %s: %w", profile, err)
	}
	if tag.RowsAffected() == 0 {
		return credentials.ItemNotFound(profile, BackendName)
	}
	return nil
}

func (k *KeyStore) Profiles(ctx context.Context) ([]string, error) {
	rows, err := k.s.pool.Query(ctx, `SELECT profile FROM waasctl.key_items ORDER BY profile COLLATE "C"`)
	if err != nil {
		return nil, k.s.errorf("listing profiles: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, k.s.errorf("listing profiles: %w", err)
	}
	return out, nil
}

// ItemInfo is what the team store says about a profile's item without decrypting it.
type ItemInfo struct {
	Profile     string   `json:"profile"`
	Version     int64    `json:"version"`
	EncryptedTo []string `json:"encryptedTo"`
	// Readable: this host's identity decrypts the item.
	Readable bool `json:"readable"`
}

// Items lists every profile's item: its version and whom it is encrypted to, and whether id can
// read it (false with no id).
func (s *Store) Items(ctx context.Context, id *Identity) ([]ItemInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT profile, version, encrypted_to, `+itemCiphertext+` FROM waasctl.key_items ORDER BY profile COLLATE "C"`)
	if err != nil {
		return nil, s.errorf("listing key items: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ItemInfo, error) {
		var x ItemInfo
		var ct []byte
		var size int64
		if err := r.Scan(&x.Profile, &x.Version, &x.EncryptedTo, &ct, &size); err != nil {
			return x, err
		}
		if id != nil && size <= maxItemCiphertext { // an oversized one is not readable
			plain, err := decrypt(ct, id)
			x.Readable = err == nil
			clear(plain)
		}
		return x, nil
	})
	if err != nil {
		return nil, s.errorf("listing key items: %w", err)
	}
	return out, nil
}
