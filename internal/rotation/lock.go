package rotation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Holder is who holds a profile's rotation lock. It is written into the lock file so that a
// second waasctl can name the rotation in its way.
type Holder struct {
	Command string    `json:"command,omitempty"` // e.g. "keys rotate"
	User    string    `json:"user,omitempty"`
	Host    string    `json:"host,omitempty"`
	PID     int       `json:"pid,omitempty"`
	Started time.Time `json:"started,omitzero"`
	// Step is the step of the rotation the holder is at, where it is known (team mode).
	Step string `json:"step,omitempty"`
}

// String reads "alice@host1 (pid 4242, keys rotate) since 2026-11-25 14:02:11 UTC". The fields
// come from a file any local user with access to the state folder could have written, so they
// are cleaned up to keep the message on one line.
func (h Holder) String() string {
	who := clean(h.User)
	if who == "" {
		who = "someone"
	}
	if host := clean(h.Host); host != "" {
		who += "@" + host
	}
	var details []string
	if h.PID > 0 {
		details = append(details, fmt.Sprintf("pid %d", h.PID))
	}
	if cmd := clean(h.Command); cmd != "" {
		details = append(details, cmd)
	}
	if st := clean(h.Step); st != "" {
		details = append(details, "step "+st)
	}
	if len(details) > 0 {
		who += " (" + strings.Join(details, ", ") + ")"
	}
	if !h.Started.IsZero() {
		who += " since " + h.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return who
}

// withDefaults fills in what the caller left zero with this process's facts.
func (h Holder) withDefaults() Holder {
	if h.User == "" {
		h.User = currentUser()
	}
	if h.Host == "" {
		h.Host = localHost()
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	h.Started = h.Started.UTC().Round(0) // drop the monotonic reading; it means nothing in a file
	return h
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, env := range []string{"USER", "USERNAME"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return ""
}

func localHost() string {
	h, _ := os.Hostname()
	return h
}

// clean makes a string from a file fit for a one-line message: control characters become '?'
// and anything past 64 characters is cut.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, textsafe.Line(s))
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.TrimSpace(s)
}

// LockedError says that another process holds the profile's rotation lock (exit code 6).
type LockedError struct {
	Profile string
	Path    string // the lock file
	Holder  Holder // zero when the lock file names nobody
	// Running: the holder is a live process on this host. Force does not take such a lock.
	Running bool
	// Remote: the holder is on another host sharing the state folder; it cannot be checked.
	Remote bool
	// Message, when set, is the whole error (a StateBackend other than the state folder says
	// what is to be done about its own lock).
	Message string
}

func (e *LockedError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Holder == (Holder{}) {
		return fmt.Sprintf("profile %s is being rotated by a process that left no record in %s; --force takes the lock over", e.Profile, e.Path)
	}
	msg := fmt.Sprintf("profile %s is being rotated by %s", e.Profile, e.Holder)
	if c := e.Holder.Command; c != "" && !strings.Contains(c, "rotate") {
		// keys revoke, auth add and auth remove take the profile's lock too.
		msg = fmt.Sprintf("profile %s is locked by %s", e.Profile, e.Holder)
	}
	switch {
	case e.Running:
		return msg + "; wait for it to finish, or stop it (--force never takes the lock from a process that is running on this host)"
	case e.Remote:
		return msg + "; if that host is down, --force takes the lock over"
	default:
		return msg + "; that process is gone but the lock is still held (by a process it left behind?); --force takes the lock over"
	}
}

// ErrLockLost is matched by Lock.Verify's error when the lock was released or taken over.
var ErrLockLost = errors.New("the rotation lock is no longer held")

// Lock is a held rotation lock. It lasts until Release or the end of the process.
type Lock struct {
	Profile string
	Path    string
	Holder  Holder // this process, as written into the lock file
	// TookOver is the holder that force displaced, for the audit log; nil if none was.
	TookOver *Holder
	// Abandoned is the last holder when it ended without releasing the lock (it crashed or was
	// killed): its rotation may be half done, which the journal tells. Nil after a clean release.
	Abandoned *Holder

	f *os.File
}

// maxLockAttempts bounds the retries when the lock file is replaced (taken over) between our
// opening and locking it; each retry means another process made progress.
const maxLockAttempts = 5

var errHeld = errors.New("lock held")

// AcquireLock takes the rotation lock of profile in dir (the state folder), without waiting.
// Zero fields of holder are filled in (user, host, pid, start time). If another process holds
// the lock, the error is a *LockedError naming it; with force, a lock whose holder cannot be
// shown to be running is taken over (see the package documentation) and Lock.TookOver says
// from whom.
func AcquireLock(dir, profile string, holder Holder, force bool) (*Lock, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	locks := filepath.Join(dir, "locks")
	if err := fsutil.MkdirPrivate(locks); err != nil {
		return nil, fmt.Errorf("creating the lock folder: %w", err)
	}
	path := filepath.Join(locks, profile+".lock")
	me := holder.withDefaults()
	var tookOver *Holder
	for range maxLockAttempts {
		f, err := openLocked(path)
		if errors.Is(err, errHeld) {
			le := describeHolder(profile, path)
			// One takeover per call: if the lock is held again right after, a third process
			// won the race fair and square.
			if !force || le.Running || tookOver != nil {
				return nil, le
			}
			if err := moveAside(path); err != nil {
				return nil, fmt.Errorf("taking over the rotation lock of profile %s: %w", profile, err)
			}
			tookOver = &le.Holder
			continue
		}
		if err != nil {
			return nil, err
		}
		if !stillAt(f, path) {
			// Taken over between our open and our lock: we locked a file nobody looks at.
			closeLocked(f)
			continue
		}
		l := &Lock{Profile: profile, Path: path, Holder: me, TookOver: tookOver, f: f}
		if err := l.claim(); err != nil {
			closeLocked(f)
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("the rotation lock of profile %s (%s) keeps being replaced; is another waasctl forcing it?", profile, path)
}

// openLocked opens (creating) the lock file and locks it without waiting; errHeld if another
// open file holds the lock.
func openLocked(path string) (*os.File, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening the rotation lock: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		f.Close()
		return nil, errHeld
	}
	return f, nil
}

func closeLocked(f *os.File) {
	unlockFile(f)
	f.Close()
}

// claim notes a holder that never released, then writes ours.
func (l *Lock) claim() error {
	buf := make([]byte, maxHolderRecord)
	n, _ := l.f.ReadAt(buf, 0)
	if h, ok := parseHolder(buf[:n]); ok {
		l.Abandoned = &h
	}
	data, err := json.Marshal(l.Holder)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("writing the rotation lock: %w", err)
	}
	if _, err := l.f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("writing the rotation lock: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("writing the rotation lock: %w", err)
	}
	return nil
}

// Verify checks that the lock is still ours: not released, and not taken over by another
// process with force. The state machine calls it before each step, so that a rotation whose lock
// was taken stops instead of racing the one that took it. The error matches ErrLockLost.
func (l *Lock) Verify() error {
	if l.f == nil {
		return fmt.Errorf("profile %s: %w (released)", l.Profile, ErrLockLost)
	}
	if stillAt(l.f, l.Path) {
		return nil
	}
	by := ""
	if h, ok := readHolder(l.Path); ok {
		by = " by " + h.String()
	}
	return fmt.Errorf("profile %s: %w: it was taken over%s; stop here, that rotation owns the profile now", l.Profile, ErrLockLost, by)
}

// Release empties the lock file (so that the next holder does not report us as Abandoned) and
// unlocks it. The file itself stays: deleting it would let a process that opened it just before
// lock a file nobody else can see. Release is safe to call twice.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	err := f.Truncate(0)
	unlockFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("releasing the rotation lock of profile %s: %w", l.Profile, err)
	}
	return nil
}

// describeHolder builds the LockedError for a lock someone else holds.
func describeHolder(profile, path string) *LockedError {
	le := &LockedError{Profile: profile, Path: path}
	h, ok := readHolder(path)
	if !ok {
		return le
	}
	le.Holder = h
	if h.Host == "" || h.PID <= 0 {
		return le // nothing to check it against: treat as stale
	}
	le.Remote = h.Host != localHost()
	le.Running = !le.Remote && processAlive(h.PID)
	return le
}

// maxHolderRecord bounds what is read from a lock file; a record is about 150 bytes.
const maxHolderRecord = 4096

// readHolder reads the record of a lock held by another process. The holder writes its record
// just after locking, so an empty file is retried for a moment before giving up.
func readHolder(path string) (Holder, bool) {
	for range 20 {
		f, err := fsutil.OpenNoFollow(path, os.O_RDONLY, 0)
		if err != nil {
			return Holder{}, false
		}
		buf := make([]byte, maxHolderRecord)
		n, _ := f.ReadAt(buf, 0)
		f.Close()
		if n > 0 {
			return parseHolder(buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
	return Holder{}, false
}

// parseHolder decodes the first JSON value only: a holder that is rewriting the file may leave
// the tail of a longer old record behind for an instant.
func parseHolder(data []byte) (Holder, bool) {
	var h Holder
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&h); err != nil || h == (Holder{}) {
		return Holder{}, false
	}
	return h, true
}

// stillAt reports whether path still names the file f has open.
func stillAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// moveAside renames a held lock file out of the way, so that the next open creates a fresh one
// nobody holds. Its holder keeps its lock on the old file, which no one looks at any more, and
// learns of it from Verify.
func moveAside(path string) error {
	aside := fmt.Sprintf("%s.stale-%d", path, time.Now().UnixNano())
	if err := os.Rename(path, aside); err != nil {
		return err
	}
	_ = os.Remove(aside) // the holder's open file keeps it alive as long as it needs it
	return nil
}

// profileName matches the rule of credentials (profiles name files here too): no '/' or '..'
// can sneak into a path.
var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkProfile(profile string) error {
	if !profileName.MatchString(profile) {
		return fmt.Errorf("invalid profile name %s: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", textsafe.Value(profile))
	}
	return nil
}
