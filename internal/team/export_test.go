package team

import (
	"context"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// NewTestIdentity makes an identity that lives only in memory.
func NewTestIdentity() *Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	return &Identity{id: id, Source: "test"}
}

// SecretOf is the private half, for canary searches.
func SecretOf(id *Identity) string { return id.id.String() }

// Decrypt exposes decrypt.
func Decrypt(ct []byte, id *Identity) ([]byte, error) { return decrypt(ct, id) }

var ErrNotARecipient = errNotARecipient

// LockKey is the advisory key of profile's lock.
func LockKey(profile string) int64 { return advisoryKey("profile:" + profile) }

// Freeze stops l's heartbeat as SIGSTOP would, keeping its session open.
func Freeze(l *Lock) { l.stopHeartbeat() }

// RecipientsKey is the advisory key writers of key items share and recipient changes take
// exclusively.
var RecipientsKey = recipientsKey

// InTx runs f in one of s's pool transactions.
func InTx(s *Store, ctx context.Context, f func(pgx.Tx) error) error { return s.inTx(ctx, f) }

// Setting is a server setting as one of s's pool sessions sees it.
func Setting(s *Store, ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v)
	return v, err
}

// CheckTransport runs Open's TLS check on dsn.
func CheckTransport(dsn string, getenv func(string) string) error {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return err
	}
	return checkTransport(cfg, getenv)
}

// MaxItemCiphertext is the cap on a stored key item.
const MaxItemCiphertext = maxItemCiphertext
