package team

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waasctl/waasctl/internal/rotation"
)

// Settings of a lock's dedicated connection. They bound how long a holder that died or lost its
// network keeps the lock: the server ends the session when its keepalive probes go unanswered
// (idle + interval*count = 10 + 5*3 = 25 s) or when data it sent stays unacknowledged for
// tcp_user_timeout (30 s); the session's advisory lock goes with it. The client's side is set
// alike, so a holder cut off from the server finds out on its next statement. They do nothing
// on a Unix socket, where the kernel ends the session with the process. docs/team.md says the
// same for operators.
const (
	LockKeepaliveIdle     = 10 * time.Second
	LockKeepaliveInterval = 5 * time.Second
	LockKeepaliveCount    = 3
	LockTCPUserTimeout    = 30 * time.Second
)

// A frozen holder (SIGSTOP, a suspended laptop, a VM paused) still answers TCP keepalives from
// its kernel, so they alone would let it keep the lock for ever. The lock's session therefore
// sets idle_session_timeout (PostgreSQL 14 and later) and the holder runs a heartbeat
// statement every LockHeartbeat: a holder that stops running loses its session, and the lock,
// LockIdleTimeout after its last heartbeat. Its later writes are then refused (Check,
// SetStep, and the journal's version check).
var (
	LockIdleTimeout = 60 * time.Second
	LockHeartbeat   = 15 * time.Second
)

// Holder names who holds a profile's rotation lock: the same record, and the same one-line
// account of it, as the local lock's.
type Holder = rotation.Holder

// LockedError says another session holds the profile's lock (exit code 6).
type LockedError struct {
	Profile string
	Holder  Holder
}

func (e *LockedError) Error() string {
	bound := max(LockIdleTimeout, LockKeepaliveIdle+LockKeepaliveInterval*LockKeepaliveCount, LockTCPUserTimeout)
	return fmt.Sprintf("profile %s is locked by %s (team store): wait for it to finish; if that host died, froze or lost its network, the lock goes when the database ends its session (within about %s)", e.Profile, e.Holder, bound)
}

// ErrLockLost is matched by Lock's errors once its session is gone: the lock may be someone
// else's now, and the holder must make no further change.
// It also matches the engine's rotation.ErrLockLost.
var ErrLockLost error = lockLostError{}

type lockLostError struct{}

func (lockLostError) Error() string {
	return "the team store's rotation lock was lost (its database session ended)"
}

func (lockLostError) Is(target error) bool { return target == rotation.ErrLockLost }

// Lock is a held rotation lock: a session advisory lock on a connection of its own, held until
// Release or until that session ends, plus a row naming the holder.
type Lock struct {
	s       *Store
	profile string
	key     int64
	holder  Holder

	mu       sync.Mutex // one statement at a time on conn: the heartbeat's, or the holder's
	conn     *pgx.Conn
	stop     chan struct{} // closed by stopHeartbeat
	stopOnce sync.Once
	done     chan struct{} // closed when the heartbeat has ended
}

// stopHeartbeat ends the heartbeat and waits for it.
func (l *Lock) stopHeartbeat() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// lockConnConfig is the store's connection config with the keepalive settings above and an
// application_name that names the holder, so that a host that finds the lock taken can name
// its holder even before the holder row is written.
func (s *Store) lockConnConfig(h Holder) *pgx.ConnConfig {
	cc := s.connCfg.Copy()
	cc.RuntimeParams["tcp_keepalives_idle"] = fmt.Sprint(int(LockKeepaliveIdle.Seconds()))
	cc.RuntimeParams["tcp_keepalives_interval"] = fmt.Sprint(int(LockKeepaliveInterval.Seconds()))
	cc.RuntimeParams["tcp_keepalives_count"] = fmt.Sprint(LockKeepaliveCount)
	cc.RuntimeParams["tcp_user_timeout"] = fmt.Sprint(LockTCPUserTimeout.Milliseconds())
	cc.RuntimeParams["application_name"] = appName(h)
	dialWithKeepalives(cc)
	return cc
}

// appName fits the holder in application_name (63 bytes): "waasctl lock USER@HOST PID".
func appName(h Holder) string {
	s := fmt.Sprintf("waasctl lock %s@%s %d", h.User, h.Host, h.PID)
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

func parseAppName(s string) (Holder, bool) {
	rest, ok := strings.CutPrefix(s, "waasctl lock ")
	if !ok {
		return Holder{}, false
	}
	var h Holder
	who, pid, _ := strings.Cut(rest, " ")
	h.User, h.Host, _ = strings.Cut(who, "@")
	fmt.Sscan(pid, &h.PID)
	return h, true
}

// setTCPUserTimeout sets TCP_USER_TIMEOUT on Linux (where syscall has it); elsewhere the
// keepalive settings alone bound it.
func setTCPUserTimeout(network, _ string, c syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return nil
	}
	return setUserTimeout(c, LockTCPUserTimeout)
}

// AcquireLock takes the profile's lock without waiting: a *LockedError naming the holder if
// another session has it. h's zero fields are filled with this process's facts.
func (s *Store) AcquireLock(ctx context.Context, profile, command string) (*Lock, error) {
	h := Holder{Host: s.Host, User: s.User, PID: os.Getpid(), Command: command, Started: time.Now().UTC().Round(time.Second)}
	conn, err := pgx.ConnectConfig(ctx, s.lockConnConfig(h))
	if err != nil {
		return nil, s.errorf("connecting for the lock: %w", err)
	}
	l := &Lock{s: s, conn: conn, profile: profile, key: advisoryKey("profile:" + profile), holder: h}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&got); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, s.errorf("taking the lock of %s: %w", profile, err)
	}
	if !got {
		holder, err := s.lockHolder(ctx, profile, l.key)
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		return nil, &LockedError{Profile: profile, Holder: holder}
	}
	if _, err := conn.Exec(ctx, "SET idle_session_timeout = "+fmt.Sprint(s.lockIdleTimeout().Milliseconds())); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42704" { // undefined_object: before PostgreSQL 14
			conn.Close(context.WithoutCancel(ctx))
			return nil, s.errorf("setting up the lock's session: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO waasctl.lock_holders (profile, host, username, pid, command, started_at, step, backend_pid)
		VALUES ($1, $2, $3, $4, $5, $6, '', pg_backend_pid())
		ON CONFLICT (profile) DO UPDATE SET host = excluded.host, username = excluded.username, pid = excluded.pid,
			command = excluded.command, started_at = excluded.started_at, step = '', backend_pid = excluded.backend_pid`,
		profile, h.Host, h.User, h.PID, h.Command, h.Started); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, s.errorf("recording the lock's holder: %w", err)
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.heartbeat(s.lockHeartbeat())
	return l, nil
}

func (s *Store) lockIdleTimeout() time.Duration {
	if s.LockIdleTimeout > 0 {
		return s.LockIdleTimeout
	}
	return LockIdleTimeout
}

func (s *Store) lockHeartbeat() time.Duration {
	if s.LockHeartbeat > 0 {
		return s.LockHeartbeat
	}
	return LockHeartbeat
}

// heartbeat keeps the lock's session from idling out while this process runs. A failed beat
// is not reported here: the next Check finds the session gone.
func (l *Lock) heartbeat(every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			ctx, cancel := context.WithTimeout(context.Background(), every)
			_, err := l.conn.Exec(ctx, "SELECT 1")
			cancel()
			l.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// lockHolder names the session holding key: the holder row if it belongs to that session,
// else what the session's application_name says (the row is written a moment after the lock is
// taken).
func (s *Store) lockHolder(ctx context.Context, profile string, key int64) (Holder, error) {
	var pid *int32
	var app *string
	err := s.pool.QueryRow(ctx, `SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid = ($1::bigint >> 32)::bit(32)::int::oid AND l.objid = ($1::bigint & 4294967295)::bit(32)::int::oid`, key).Scan(&pid, &app)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Holder{}, s.errorf("finding the lock's holder: %w", err)
	}
	var h Holder
	var backend int32
	err = s.pool.QueryRow(ctx, `SELECT host, username, pid, command, started_at, step, backend_pid FROM waasctl.lock_holders WHERE profile = $1`, profile).
		Scan(&h.Host, &h.User, &h.PID, &h.Command, &h.Started, &h.Step, &backend)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Holder{}, s.errorf("reading the lock's holder: %w", err)
	}
	if err == nil && pid != nil && *pid == backend {
		return h, nil
	}
	if app != nil {
		if ah, ok := parseAppName(*app); ok {
			return ah, nil
		}
	}
	return Holder{User: "an unknown session"}, nil
}

// LockHolders lists the holder rows whose session still holds the lock.
func (s *Store) LockHolders(ctx context.Context) (map[string]Holder, error) {
	rows, err := s.pool.Query(ctx, `SELECT h.profile, h.host, h.username, h.pid, h.command, h.started_at, h.step FROM waasctl.lock_holders h
		WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.backend_pid)`)
	if err != nil {
		return nil, s.errorf("listing lock holders: %w", err)
	}
	defer rows.Close()
	out := map[string]Holder{}
	for rows.Next() {
		var p string
		var h Holder
		if err := rows.Scan(&p, &h.Host, &h.User, &h.PID, &h.Command, &h.Started, &h.Step); err != nil {
			return nil, s.errorf("listing lock holders: %w", err)
		}
		out[p] = h
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("listing lock holders: %w", err)
	}
	return out, nil
}

// Holder is who this lock says holds it.
func (l *Lock) Holder() Holder { return l.holder }

// Check says whether this session still holds the lock: an error matching ErrLockLost if not
// (or if the connection is gone). The engine calls it before each external change.
func (l *Lock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.check(ctx)
}

func (l *Lock) check(ctx context.Context) error {
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
		AND classid = ($1::bigint >> 32)::bit(32)::int::oid AND objid = ($1::bigint & 4294967295)::bit(32)::int::oid AND objsubid = 1)`, l.key).Scan(&held)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("profile %s: %w: %v", l.profile, ErrLockLost, l.s.errorf("%w", err))
	}
	if !held {
		return fmt.Errorf("profile %s: %w", l.profile, ErrLockLost)
	}
	return nil
}

// SetStep records the rotation's step in the holder row (for 'keys status' and the exit-6
// message), on the lock's own connection: a holder that lost its session cannot write it.
func (l *Lock) SetStep(ctx context.Context, step string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.check(ctx); err != nil {
		return err
	}
	if _, err := l.conn.Exec(ctx, `UPDATE waasctl.lock_holders SET step = $2 WHERE profile = $1 AND backend_pid = pg_backend_pid()`, l.profile, step); err != nil {
		return l.s.errorf("recording the step: %w", err)
	}
	l.holder.Step = step
	return nil
}

// Release removes the holder row and ends the session, which releases the lock whatever else
// happens.
func (l *Lock) Release(ctx context.Context) error {
	l.stopHeartbeat()
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	_, err := l.conn.Exec(ctx, `DELETE FROM waasctl.lock_holders WHERE profile = $1 AND backend_pid = pg_backend_pid()`, l.profile)
	cerr := l.conn.Close(ctx)
	if err != nil {
		return l.s.errorf("releasing the lock of %s: %w", l.profile, err)
	}
	if cerr != nil {
		return l.s.errorf("releasing the lock of %s: %w", l.profile, cerr)
	}
	return nil
}

// saveJournal saves the profile's journal on the lock's own session, so that a holder whose
// session ended (frozen, cut off, its lock taken over) cannot write one: a journal is written
// only by the session holding the lock (Check before a save would leave a gap between the two).
func (l *Lock) saveJournal(ctx context.Context, body []byte, expected JournalVersion) (JournalVersion, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.check(ctx); err != nil {
		return 0, err
	}
	v, err := l.s.saveJournal(ctx, l.conn, l.profile, body, expected)
	var fe *FencedError
	if err != nil && !errors.As(err, &fe) && ctx.Err() == nil {
		return 0, fmt.Errorf("profile %s: %w: %v", l.profile, ErrLockLost, err)
	}
	return v, err
}
