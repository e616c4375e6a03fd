package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrations are applied in order, each once; the schema version is the number applied. Never
// edit one that has shipped: add another.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE waasctl.recipients (
		name       text PRIMARY KEY,
		public_key text NOT NULL UNIQUE,
		added_at   timestamptz NOT NULL DEFAULT now(),
		added_by   text NOT NULL
	);
	-- One row per profile: the credentials item (CURRENT, PENDING, PREVIOUS) as JSON, encrypted
	-- with age to every recipient named in encrypted_to. version grows by one on every write.
	CREATE TABLE waasctl.key_items (
		profile      text PRIMARY KEY,
		ciphertext   bytea NOT NULL,
		encrypted_to text[] NOT NULL,
		version      bigint NOT NULL,
		updated_at   timestamptz NOT NULL DEFAULT now(),
		updated_by   text NOT NULL
	);
	-- Rotation journals; written only with a version check (compare-and-set).
	CREATE TABLE waasctl.journals (
		profile    text PRIMARY KEY,
		body       text NOT NULL,
		version    bigint NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now(),
		updated_by text NOT NULL
	);
	CREATE TABLE waasctl.journal_archive (
		profile     text NOT NULL,
		version     bigint NOT NULL,
		body        text NOT NULL,
		archived_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (profile, archived_at, version)
	);
	-- Who holds each profile's rotation lock. The lock itself is a session advisory lock;
	-- backend_pid is the holding session, so a row whose session is gone names nobody.
	CREATE TABLE waasctl.lock_holders (
		profile     text PRIMARY KEY,
		host        text NOT NULL,
		username    text NOT NULL,
		pid         integer NOT NULL,
		command     text NOT NULL,
		started_at  timestamptz NOT NULL,
		step        text NOT NULL DEFAULT '',
		backend_pid integer NOT NULL
	);
	-- The audit log: each line is auditlog's JSON line, whose "prev" is the previous line's
	-- hash. UNIQUE (prev) makes a fork impossible even for a writer that skipped the lock.
	CREATE TABLE waasctl.audit_log (
		seq      bigint PRIMARY KEY,
		line     text NOT NULL,
		hash     text NOT NULL UNIQUE,
		prev     text NOT NULL UNIQUE,
		host     text NOT NULL,
		identity text NOT NULL,
		at       timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE waasctl.snapshots (
		name     text PRIMARY KEY,
		profile  text NOT NULL,
		taken_at timestamptz NOT NULL,
		host     text NOT NULL,
		size     bigint NOT NULL,
		sha256   text NOT NULL,
		content  bytea
	);
	CREATE INDEX snapshots_profile ON waasctl.snapshots (profile, taken_at);`,
	// 2: a snapshot's path on the host that took it (where an index-only one is) and its
	// header line (endpoint, organisation, the key that took it), so that a baseline can be
	// chosen without reading any content.
	`ALTER TABLE waasctl.snapshots ADD COLUMN path text NOT NULL DEFAULT '', ADD COLUMN header text NOT NULL DEFAULT '';`,
	// 3: each key item's seal (seal.go): its writer and one MAC per pinned recipient. Rows
	// written before have none, and are refused until re-stored.
	`ALTER TABLE waasctl.key_items ADD COLUMN IF NOT EXISTS seal text;`,
}

// SchemaVersion is the schema this waasctl writes and reads.
var SchemaVersion = len(migrations)

// Migrate brings the schema up to SchemaVersion, applying each missing migration once, all in
// one transaction under a transaction-level advisory lock: two hosts running 'team init' at once
// apply them once, the second finding nothing to do. It returns the versions before and after.
// A database at a newer version than this waasctl knows is refused.
func (s *Store) Migrate(ctx context.Context, appliedBy string) (from, to int, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateKey); err != nil {
			return s.errorf("taking the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS waasctl`); err != nil {
			return s.errorf("creating schema waasctl: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS waasctl.schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now(),
			applied_by text NOT NULL)`); err != nil {
			return s.errorf("creating the migrations table: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM waasctl.schema_migrations`).Scan(&from); err != nil {
			return s.errorf("reading the schema version: %w", err)
		}
		if from > SchemaVersion {
			return fmt.Errorf("team store (%s): the schema is at version %d, newer than this waasctl's %d: upgrade waasctl", s.desc, from, SchemaVersion)
		}
		for v := from + 1; v <= SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return s.errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO waasctl.schema_migrations (version, applied_by) VALUES ($1, $2)`, v, appliedBy); err != nil {
				return s.errorf("recording migration %d: %w", v, err)
			}
		}
		to = SchemaVersion
		return nil
	})
	return from, to, err
}

// Version reads the schema version: 0 for a database 'team init' never touched.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM waasctl.schema_migrations`).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") { // undefined table / schema
		return 0, nil
	}
	if err != nil {
		return 0, s.errorf("reading the schema version: %w", err)
	}
	return v, nil
}

// CheckSchema says whether the database is at the version this waasctl reads: one line saying
// what to run otherwise.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	switch {
	case v == 0:
		return fmt.Errorf("team store (%s): %w", s.desc, ErrNotInitialised)
	case v < SchemaVersion:
		return fmt.Errorf("team store (%s): the schema is at version %d, this waasctl needs %d: run 'waasctl team init' to migrate it", s.desc, v, SchemaVersion)
	case v > SchemaVersion:
		return fmt.Errorf("team store (%s): the schema is at version %d, newer than this waasctl's %d: upgrade waasctl", s.desc, v, SchemaVersion)
	}
	return nil
}
