package team

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

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
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return err
	}
	return CheckDSN(dsn, getenv)
}

// MaxItemCiphertext is the cap on a stored key item.
const MaxItemCiphertext = maxItemCiphertext
