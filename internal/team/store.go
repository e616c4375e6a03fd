// Package team is waasctl's shared state in PostgreSQL, for a team of hosts (operators' laptops,
// CI jobs, the middle tier) that rotate and use the same keys: the team's age recipients, every
// profile's key item encrypted to all of them, rotation journals written with a version check,
// rotation locks that end with their holder's session, the hash-chained audit log and the
// snapshot index. docs/team.md describes the model and the threat model.
//
// Everything lives in the schema "waasctl" of the database the DSN names, so that it can share
// the middle tier's database without touching its tables. The package neither prints nor imports
// cobra; its errors never hold a secret or the DSN's password.
package team

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waasctl/waasctl/internal/pgdsn"
)

// Store is an open connection pool to the team database.
type Store struct {
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig // for the dedicated connection of each Lock
	desc     string
	password string // scrubbed from every error
	app      string // the pool sessions' application_name
	// Host and User name this process in lock rows and audit entries.
	Host, User string
	// LockIdleTimeout and LockHeartbeat override the package's defaults (tests); zero keeps
	// them.
	LockIdleTimeout, LockHeartbeat time.Duration
	// Pins are config.yaml's pinned recipients (seal.go); nil: none, and keys are neither
	// written nor read.
	Pins *Pins
}

// connectTimeout bounds connecting when the DSN does not say.
const connectTimeout = 10 * time.Second

// ErrNotInitialised: the database has no waasctl schema, or an older one.
var ErrNotInitialised = errors.New("the team database is not initialised: run 'waasctl team init'")

// Open connects to the database of dsn (a postgres:// URL or libpq key=value string). It does
// not create or check the schema: Migrate does the one, CheckSchema the other.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password and all.
		if why := pgdsn.ParseReason(err); why != nil {
			return nil, fmt.Errorf("team store: %w", why)
		}
		return nil, errors.New("team store: the DSN is not a valid PostgreSQL URL or connection string (see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING)")
	}
	cc := cfg.ConnConfig
	if err := checkTransport(&cc.Config, os.Getenv); err != nil {
		return nil, fmt.Errorf("team store (postgres database %s as %s): %w", cc.Database, cc.User, err)
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = connectTimeout
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "waasctl"
	}
	cfg.MaxConns = 4
	host := cc.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host
	}
	s := &Store{
		connCfg:  cc.Copy(), // before poolSettings: a lock's session sets its own
		desc:     fmt.Sprintf("postgres database %s on %s as %s", cc.Database, host, cc.User),
		password: cc.Password,
		Host:     hostName(),
		User:     userName(),
	}
	if cc.RuntimeParams["application_name"] == "waasctl" {
		delete(cc.RuntimeParams, "application_name") // poolSettings names this process
	}
	poolSettings(cc, s.User, s.Host)
	s.app = cc.RuntimeParams["application_name"]
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.errorf("cannot connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, s.errorf("cannot connect: %w", err)
	}
	s.pool = pool
	return s, nil
}

// Close closes the pool. Locks hold connections of their own: release them first.
func (s *Store) Close() { s.pool.Close() }

// String describes the database without the password.
func (s *Store) String() string { return s.desc }

// errorf wraps a database error with the store's description and scrubs the password (and
// anything that would break the line) from it. Errors matching a sentinel of this package pass
// through unchanged.
func (s *Store) errorf(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok && !isOwnError(err) {
			args[i] = s.scrub(err)
		}
	}
	return fmt.Errorf("team store (%s): "+format, append([]any{s.desc}, args...)...)
}

func isOwnError(err error) bool {
	for _, e := range []error{ErrNotInitialised, ErrNoRecipients, ErrFenced, ErrLockLost, ErrNoIdentity, errNotARecipient, ErrNoJournal, ErrNoPins} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// HostNameEnv, when set, names this host in lock rows and audit rows instead of its OS host
// name: a CI runner's or container's generated name says little, and tests simulate several
// hosts on one machine with it.
const HostNameEnv = "WAASCTL_HOST_NAME"

func hostName() string {
	if h := os.Getenv(HostNameEnv); h != "" {
		return h
	}
	h, _ := os.Hostname()
	return h
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// advisoryKey maps a name to a 64-bit advisory lock key: FNV-64a of "waasctl:" and the name
// ("migrate", "recipients", "audit", "profile:NAME"; docs/team.md lists them). Advisory locks
// are per database, so two teams in two databases never block each other; no key is a fixed
// small number another application might pick.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("waasctl:" + name))
	return int64(h.Sum64())
}

// Advisory keys of the team-wide locks.
var (
	migrateKey    = advisoryKey("migrate")
	recipientsKey = advisoryKey("recipients") // shared by writers of key items, exclusive for recipient changes
	auditKey      = advisoryKey("audit")
)

// inTx runs f in a transaction, committed if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.errorf("%w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if err := f(tx); err != nil {
		if tx.Conn().IsClosed() && ctx.Err() == nil {
			return fmt.Errorf("%w; %s", err, sessionEndedHint)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return s.errorf("commit: %w", commitError(err))
	}
	return nil
}
