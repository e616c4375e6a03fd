package team

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GenesisPrev is the prev of the first audit line: what auditlog.GenesisHash is, so that the
// table's chain verifies with the same code as the file's. (A test keeps them equal.)
var GenesisPrev = hashLine([]byte("waasctl audit log v1"))

func hashLine(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AuditLine is one stored entry of the audit log.
type AuditLine struct {
	Seq      uint64
	Line     []byte // auditlog's JSON line, its "prev" the hash of the line before
	Hash     string // hex SHA-256 of Line
	Host     string
	Identity string // the age recipient of the host that appended it, "" without one
}

// AppendAudit appends one line to the shared audit log under a transaction-level advisory lock:
// build gets the sequence number and the previous line's hash (GenesisPrev for the first) and
// returns the line to store, which must carry them. Entries from hosts appending at once are
// thereby serialised and never fork the chain; UNIQUE (prev) refuses a fork even from a writer
// that skipped the lock. identity is the appender's age recipient ("" without one).
func (s *Store) AppendAudit(ctx context.Context, identity string, build func(seq uint64, prev string) ([]byte, error)) (AuditLine, error) {
	var out AuditLine
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditKey); err != nil {
			return s.errorf("taking the audit lock: %w", err)
		}
		var seq uint64
		prev := GenesisPrev
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM waasctl.audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return s.errorf("reading the audit log's end: %w", err)
		}
		seq++
		line, err := build(seq, prev)
		if err != nil {
			return err
		}
		out = AuditLine{Seq: seq, Line: line, Hash: hashLine(line), Host: s.Host, Identity: identity}
		if _, err := tx.Exec(ctx, `INSERT INTO waasctl.audit_log (seq, line, hash, prev, host, identity) VALUES ($1, $2, $3, $4, $5, $6)`,
			int64(seq), string(line), out.Hash, prev, out.Host, identity); err != nil {
			return s.errorf("appending to the audit log: %w", err)
		}
		return nil
	})
	return out, err
}

// AuditLines calls fn for every line of the audit log in order, from one snapshot of it.
func (s *Store) AuditLines(ctx context.Context, fn func(AuditLine) error) error {
	return s.inTxReadOnly(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, line, hash, host, identity FROM waasctl.audit_log ORDER BY seq`)
		if err != nil {
			return s.errorf("reading the audit log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a AuditLine
			var line string
			var seq int64
			if err := rows.Scan(&seq, &line, &a.Hash, &a.Host, &a.Identity); err != nil {
				return s.errorf("reading the audit log: %w", err)
			}
			a.Seq, a.Line = uint64(seq), []byte(line)
			if err := fn(a); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return s.errorf("reading the audit log: %w", err)
		}
		return nil
	})
}

func (s *Store) inTxReadOnly(ctx context.Context, f func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.errorf("%w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	return f(tx)
}

// VerifyAuditChain checks that every line's prev is the hash of the line before and its hash
// that of its bytes. It does not parse the lines: auditlog's verifier does that, over the lines
// AuditLines gives. It returns the number of lines.
func (s *Store) VerifyAuditChain(ctx context.Context) (uint64, error) {
	var n uint64
	prev := GenesisPrev
	err := s.inTxReadOnly(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, line, hash, prev FROM waasctl.audit_log ORDER BY seq`)
		if err != nil {
			return s.errorf("reading the audit log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var line, hash, p string
			if err := rows.Scan(&seq, &line, &hash, &p); err != nil {
				return s.errorf("reading the audit log: %w", err)
			}
			n++
			switch {
			case uint64(seq) != n:
				return fmt.Errorf("audit log (team store): entry %d follows entry %d", seq, n-1)
			case p != prev:
				return fmt.Errorf("audit log (team store): entry %d does not chain to the entry before it", seq)
			case hashLine([]byte(line)) != hash:
				return fmt.Errorf("audit log (team store): entry %d was changed after it was written", seq)
			}
			prev = hash
		}
		return rows.Err()
	})
	return n, err
}
