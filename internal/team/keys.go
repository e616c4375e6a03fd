package team

import (
	"context"
	"errors"
	"fmt"
	"os"

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
	var size, version int64
	var seal string
	err := k.s.pool.QueryRow(ctx, `SELECT `+itemCiphertext+`, version, `+itemSealColumn+` FROM waasctl.key_items WHERE profile = $1`, profile).Scan(&ct, &size, &version, &seal)
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
	plain, err := k.s.open(k.id, k.s.Pins, k.s.Pins, profile, version, ct, seal)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return credentials.DecodeItem(plain, profile, BackendName)
}

// open checks a row's seal (written by one of writers, for the set sealedFor) and then
// decrypts it with id: a row no pinned member wrote is refused before age reads it.
func (s *Store) open(id *Identity, writers, sealedFor *Pins, profile string, version int64, ct []byte, seal string) ([]byte, error) {
	if writers == nil || len(writers.recipients) == 0 {
		return nil, fmt.Errorf("profile %s: %w", profile, ErrNoPins)
	}
	if _, ok := sealedFor.byKey(id.Recipient()); !ok {
		return nil, &NotARecipientError{Profile: profile, Recipient: id.Recipient()}
	}
	if err := verifySeal(id, writers, sealedFor, profile, version, ct, seal); err != nil {
		return nil, err
	}
	plain, err := decrypt(ct, id)
	if errors.Is(err, errNotARecipient) {
		return nil, &NotARecipientError{Profile: profile, Recipient: id.Recipient()}
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w (%w, team store)", profile, err, credentials.ErrItemDamaged)
	}
	return plain, nil
}

func (k *KeyStore) Put(ctx context.Context, item *credentials.Item) error {
	if k.id == nil {
		return fmt.Errorf("profile %s: storing its key in the team store needs this host's identity to seal it: %w", item.Profile, ErrNoIdentity)
	}
	pins := k.s.Pins
	if pins == nil || len(pins.recipients) == 0 {
		return fmt.Errorf("profile %s: cannot store its key in the team store: %w", item.Profile, ErrNoPins)
	}
	if _, ok := pins.byKey(k.id.Recipient()); !ok {
		return fmt.Errorf("profile %s: this host's %s is not pinned in %s: only a pinned member can store the team's keys", item.Profile, k.id, pins.Where)
	}
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
		if err := k.s.refuseOthersLock(ctx, tx, item.Profile); err != nil {
			return err
		}
		rs, err := k.s.recipients(ctx, tx)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return fmt.Errorf("profile %s: cannot store its key in the team store: %w", item.Profile, ErrNoRecipients)
		}
		// Encrypt to the pinned set only, and only while the table agrees with it: a row
		// someone inserted is never encrypted to, and is reported.
		if err := pins.checkMatches(rs); err != nil {
			return fmt.Errorf("profile %s: not stored: %w", item.Profile, err)
		}
		keys, names, err := parseAll(pins.recipients)
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
		var version int64
		if err := tx.QueryRow(ctx, `INSERT INTO waasctl.key_items (profile, ciphertext, encrypted_to, version, updated_by)
			VALUES ($1, $2, $3, 1, $4)
			ON CONFLICT (profile) DO UPDATE SET ciphertext = excluded.ciphertext, encrypted_to = excluded.encrypted_to,
				version = waasctl.key_items.version + 1, updated_at = now(), updated_by = excluded.updated_by
			RETURNING version`,
			item.Profile, ct, names, k.s.who()).Scan(&version); err != nil {
			return k.s.errorf("storing profile %s: %w", item.Profile, err)
		}
		return k.s.writeSeal(ctx, tx, k.id, pins, item.Profile, version, ct)
	})
}

// writeSeal seals the row just written (its version known, the row locked by this
// transaction).
func (s *Store) writeSeal(ctx context.Context, tx pgx.Tx, id *Identity, pins *Pins, profile string, version int64, ct []byte) error {
	seal, err := sealItem(id, pins, profile, version, ct)
	if err != nil {
		return fmt.Errorf("profile %s: %w", profile, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE waasctl.key_items SET seal = $2 WHERE profile = $1`, profile, seal); err != nil {
		return s.errorf("sealing profile %s: %w", profile, err)
	}
	return nil
}

func (k *KeyStore) Remove(ctx context.Context, profile string) error {
	if err := credentials.CheckProfile(profile); err != nil {
		return err
	}
	return k.s.inTx(ctx, func(tx pgx.Tx) error {
		if err := k.s.refuseOthersLock(ctx, tx, profile); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM waasctl.key_items WHERE profile = $1`, profile)
		if err != nil {
			return k.s.errorf("removing profile %s: %w", profile, err)
		}
		if tag.RowsAffected() == 0 {
			return credentials.ItemNotFound(profile, BackendName)
		}
		return nil
	})
}

// refuseOthersLock refuses, within tx, a write of profile's key item while another process
// holds the profile's rotation lock (its holder row names a live session that is not this
// process's): a holder frozen between its lock check and its write, and taken over meanwhile,
// must not overwrite the item the new holder wrote. The holder row is read FOR SHARE, so that
// a host taking the lock waits for this write to end.
func (s *Store) refuseOthersLock(ctx context.Context, tx pgx.Tx, profile string) error {
	var host, user string
	var pid int
	err := tx.QueryRow(ctx, `SELECT h.host, h.username, h.pid FROM waasctl.lock_holders h
		WHERE h.profile = $1 AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.backend_pid)
		FOR SHARE OF h`, profile).Scan(&host, &user, &pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return s.errorf("checking the lock of profile %s: %w", profile, err)
	}
	if host == s.Host && pid == os.Getpid() {
		return nil
	}
	return fmt.Errorf("profile %s: %w: %s@%s (pid %d) holds its lock now, so this process stores nothing", profile, ErrLockLost, user, host, pid)
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
	Profile string `json:"profile"`
	Version int64  `json:"version"`
	// EncryptedTo names the recipients: the pinned ones when the seal verifies, else what the
	// row's encrypted_to column says (unverified).
	EncryptedTo []string `json:"encryptedTo"`
	// Readable: this host's identity decrypts the item, and its seal shows that a pinned
	// member wrote it for the pinned set.
	Readable bool `json:"readable"`
	// Problem says why an item this host is a recipient of is refused ("" otherwise).
	Problem string `json:"problem,omitempty"`
}

// Items lists every profile's item: its version and whom it is encrypted to, and whether id can
// read it (false with no id).
func (s *Store) Items(ctx context.Context, id *Identity) ([]ItemInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT profile, version, encrypted_to, `+itemCiphertext+`, `+itemSealColumn+` FROM waasctl.key_items ORDER BY profile COLLATE "C"`)
	if err != nil {
		return nil, s.errorf("listing key items: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ItemInfo, error) {
		var x ItemInfo
		var ct []byte
		var size int64
		var seal string
		if err := r.Scan(&x.Profile, &x.Version, &x.EncryptedTo, &ct, &size, &seal); err != nil {
			return x, err
		}
		if id != nil && size <= maxItemCiphertext { // an oversized one is not readable
			plain, err := s.open(id, s.Pins, s.Pins, x.Profile, x.Version, ct, seal)
			x.Readable = err == nil
			clear(plain)
			if x.Readable {
				// What the seal proves, rather than the column, which anyone who can
				// write the database can edit.
				x.EncryptedTo = nil
				for _, r := range s.Pins.recipients {
					x.EncryptedTo = append(x.EncryptedTo, r.Name)
				}
			}
			var se *SealError
			if errors.As(err, &se) {
				x.Problem = se.Reason
			}
		}
		return x, nil
	})
	if err != nil {
		return nil, s.errorf("listing key items: %w", err)
	}
	return out, nil
}
