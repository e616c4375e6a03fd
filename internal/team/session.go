package team

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/pgdsn"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Server-side bounds on every session of the pool (the ordinary queries; a rotation lock's own
// connection has its own settings, in lock.go). Without them a `recipients remove` frozen in
// the middle of its transaction (SIGSTOP, a suspended laptop) held its locks for ever and every
// write on every host waited behind it without a word. The DSN may set any of them
// (postgres://...?lock_timeout=30s); these are the defaults when it does not. docs/team.md
// lists them.
const (
	// PoolLockTimeout: a statement waiting for another session's lock gives up after it, with
	// an error naming the probable holder (lockWaitError).
	PoolLockTimeout = 10 * time.Second
	// PoolStatementTimeout bounds any one statement, lock waits included.
	PoolStatementTimeout = 30 * time.Second
	// PoolIdleInTransactionTimeout ends a session that sits in an open transaction that long:
	// waasctl never pauses inside a transaction but for a moment of local work, so only a
	// frozen or cut-off holder reaches it. Its locks go with it, and its commit fails.
	PoolIdleInTransactionTimeout = 30 * time.Second
)

// poolSettings sets the bounds above, the lock connection's TCP keepalives and
// TCP_USER_TIMEOUT, and an application_name naming this process ("waasctl USER@HOST PID"), so
// that a host that waited for a lock can name its holder. A value the DSN gives wins.
func poolSettings(cc *pgx.ConnConfig, user, host string) {
	defaults := map[string]string{
		"lock_timeout":                        fmt.Sprint(PoolLockTimeout.Milliseconds()),
		"statement_timeout":                   fmt.Sprint(PoolStatementTimeout.Milliseconds()),
		"idle_in_transaction_session_timeout": fmt.Sprint(PoolIdleInTransactionTimeout.Milliseconds()),
		"tcp_keepalives_idle":                 fmt.Sprint(int(LockKeepaliveIdle.Seconds())),
		"tcp_keepalives_interval":             fmt.Sprint(int(LockKeepaliveInterval.Seconds())),
		"tcp_keepalives_count":                fmt.Sprint(LockKeepaliveCount),
		"tcp_user_timeout":                    fmt.Sprint(LockTCPUserTimeout.Milliseconds()),
		"application_name":                    poolAppName(user, host, os.Getpid()),
	}
	for k, v := range defaults {
		if cc.RuntimeParams[k] == "" {
			cc.RuntimeParams[k] = v
		}
	}
	dialWithKeepalives(cc)
}

// dialWithKeepalives has cc's connections probe a silent peer (keepalives) and give up on
// unacknowledged data (TCP_USER_TIMEOUT), as the rotation lock's connection does.
func dialWithKeepalives(cc *pgx.ConnConfig) {
	d := &net.Dialer{
		Timeout: cc.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: LockKeepaliveIdle, Interval: LockKeepaliveInterval, Count: LockKeepaliveCount,
		},
		Control: setTCPUserTimeout,
	}
	cc.DialFunc = d.DialContext
}

// poolAppName fits "waasctl USER@HOST PID" in application_name (63 bytes).
func poolAppName(user, host string, pid int) string {
	s := fmt.Sprintf("waasctl %s@%s %d", user, host, pid)
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

// ErrLockWait is matched by the error of a statement that gave up waiting for another
// session's lock (lock_timeout): the command exits 6, like a held rotation lock.
var ErrLockWait = errors.New("gave up waiting for another session's lock")

// lockWaitError is a statement that gave up waiting for another session's lock
// (lock_timeout), naming that session when it can be found.
type lockWaitError struct {
	err     *pgconn.PgError
	timeout string // the session's lock_timeout, as the server shows it
	holder  string // "" when not found
}

func (e *lockWaitError) Error() string {
	who := "another session"
	if e.holder != "" {
		who = e.holder
	}
	return fmt.Sprintf("gave up after %s waiting for a lock held by %s; nothing was changed: run this again once it is done; if it is frozen (a stopped process, a suspended laptop), the server ends it once idle %s, or an admin can now with pg_terminate_backend",
		e.timeout, who, PoolIdleInTransactionTimeout)
}

func (e *lockWaitError) Unwrap() error { return e.err }

func (e *lockWaitError) Is(target error) bool { return target == ErrLockWait }

// idleEndedError: the server ended this process's session because its transaction sat idle
// past idle_in_transaction_session_timeout (this process was stopped or suspended meanwhile).
type idleEndedError struct{ err *pgconn.PgError }

func (e *idleEndedError) Error() string {
	return idleEndedText
}

const idleEndedText = "the database ended this command's session: its transaction sat idle too long (idle_in_transaction_session_timeout; was this process stopped or the machine suspended?), so nothing of it was kept: run it again"

// sessionEndedHint follows an error of a transaction whose connection is gone before its
// commit: the server rolled it back.
const sessionEndedHint = "the database had ended this command's session (an idle transaction is ended after idle_in_transaction_session_timeout: was this process stopped or the machine suspended? or the server restarted), so nothing of it was kept: run it again"

// commitError says what a commit that could not be sent means: the server had ended the
// session (the usual cause being idle_in_transaction_session_timeout while this process was
// stopped), and nothing was kept. An error after the commit was sent passes through: the
// commit may have happened.
func commitError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || !pgconn.SafeToRetry(err) {
		return err
	}
	return fmt.Errorf("%s (%w)", idleEndedText, err)
}

// scrub is what errorf shows of a database error: this package's own account of a session
// limit reached, or the server's message without the password, on one line.
func (s *Store) scrub(err error) error {
	if d := s.describeSessionError(err); d != err {
		return d
	}
	return pgdsn.Scrub(err, s.password)
}

func (e *idleEndedError) Unwrap() error { return e.err }

// describeSessionError turns an idle-in-transaction end into an idleEndedError, and a lock_timeout error into a lockWaitError naming the probable holder:
// the oldest open transaction of another process holding a lock on a waasctl table or on one of
// the team-wide advisory keys. (Once the wait is over the server no longer says who blocked it;
// the oldest such transaction is the one a frozen or slow writer leaves.) Other errors pass
// through.
func (s *Store) describeSessionError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if pgErr.Code == "25P03" { // idle_in_transaction_session_timeout
		return &idleEndedError{err: pgErr}
	}
	if pgErr.Code != "55P03" || s.pool == nil { // lock_not_available
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out := &lockWaitError{err: pgErr, timeout: PoolLockTimeout.String()}
	var timeout string
	if s.pool.QueryRow(ctx, `SHOW lock_timeout`).Scan(&timeout) == nil {
		out.timeout = timeout
	}
	var pid int32
	var app, user, state string
	var held time.Duration
	q := `SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.state, ''), now() - a.xact_start
		FROM pg_stat_activity a
		WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
		AND coalesce(a.application_name, '') <> $1
		AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND (
			(l.locktype = 'relation' AND l.relation IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'waasctl'))
			OR (l.locktype = 'advisory' AND l.objsubid = 1 AND (l.classid::bigint << 32 | l.objid::bigint) = ANY ($2::bigint[]))))
		ORDER BY a.xact_start LIMIT 1`
	if s.pool.QueryRow(ctx, q, s.app, []int64{recipientsKey, auditKey, migrateKey}).Scan(&pid, &app, &user, &state, &held) == nil {
		name := "an unnamed session"
		if app != "" {
			name = textsafe.Value(app)
		}
		out.holder = fmt.Sprintf("%s (database user %s, server pid %d, %s for %s)", name, textsafe.Value(user), pid, textsafe.Line(state), held.Round(time.Second))
	}
	return out
}
