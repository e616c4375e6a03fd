package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// The files of a log folder.
const (
	FileName = "audit.jsonl" // the entries
	HeadName = "audit.head"  // the head checkpoint: {seq, hash, time} of the last entry
	lockName = "audit.lock"  // held while appending; empty
)

// maxLine bounds one entry. Real entries are well under 4 KiB; the bound keeps a damaged or
// hostile file from making a reader buffer it whole.
const maxLine = 1 << 20

// ErrDamaged is returned by Append when the end of the log does not match its head checkpoint.
// Appending then would rewrite the checkpoint and erase the evidence, so Append refuses.
var ErrDamaged = errors.New("the audit log is damaged")

// DefaultDir returns where waasctl keeps its audit log: the audit folder of the state folder
// ($WAASCTL_STATE_DIR, else $XDG_STATE_HOME/waasctl, else ~/.local/state/waasctl).
func DefaultDir() (string, error) {
	dir, err := config.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "audit"), nil
}

// Log appends to the audit log in one folder. It holds no open file, so a long-lived *Log
// costs nothing between appends; each Append locks, reads the tail, writes, and lets go.
type Log struct {
	dir   string
	now   func() time.Time   // tests pin the clock
	guard *credentials.Guard // nil: refuses any key material, but knows no key in particular
}

// Open prepares dir (created with mode 0700) for appending. The log file itself appears with
// the first Append.
func Open(dir string) (*Log, error) {
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return nil, fmt.Errorf("audit log folder: %w", err)
	}
	// Files copied in or restored from a backup may be more open than waasctl makes them. They
	// are tightened through the open file: a symlink is refused, not followed to its target.
	for _, name := range []string{FileName, HeadName} {
		if err := fsutil.TightenFile(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit log: %w", err)
		}
	}
	return &Log{dir: dir, now: time.Now}, nil
}

// SetClock makes Append stamp entries with now() instead of the current time, so that a test can
// write a log whose output is the same on every run.
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// GuardAgainst makes Append refuse, besides anything that looks like a private key, the exact
// keys g was built with in any encoding: a command that holds the profile's keys passes them.
func (l *Log) GuardAgainst(g *credentials.Guard) { l.guard = g }

// Dir returns the folder of the log.
func (l *Log) Dir() string { return l.dir }

// Append writes e as the next entry and returns it as written. It sets Seq, Time (now, UTC)
// and Prev, and Who, Host and PID when they are empty.
//
// It takes three durable steps (see headState): the head announces the entry as pending, the
// line is appended and fsynced, the head commits it. A crash after the first step leaves a
// pending head and no line, after the second a pending head that names the last line: Verify
// tells both from tampering, and the next Append carries on from either. A line at the end that
// the head neither commits nor announces was not appended by waasctl, and Append refuses to
// chain to it.
//
// Appends from several processes are serialised by a lock file, and the tail is re-read under
// the lock so that each entry chains to the one really before it. Append refuses an entry that
// looks like it holds a private key (ErrSecret) and a log whose end does not match its
// checkpoint (ErrDamaged).
func (l *Log) Append(e Entry) (Entry, error) {
	if err := checkNoSecrets(e, l.guard); err != nil {
		return Entry{}, err
	}
	fillIdentity(&e)
	a, err := l.begin(e)
	if err != nil {
		return Entry{}, err
	}
	defer a.end()
	if err := a.announce(); err != nil {
		return Entry{}, err
	}
	if err := a.writeLine(); err != nil {
		return Entry{}, err
	}
	if err := a.commit(); err != nil {
		return a.entry, err
	}
	return a.entry, nil
}

// appending is one Append under way, under the lock, split into its steps so that tests can stop
// between them as a crash would.
type appending struct {
	l        *Log
	f        *os.File
	unlock   func()
	headPath string
	created  bool
	size     int64      // of the log before the line
	tail     Checkpoint // the entry chained to, committed by the announcing head
	entry    Entry
	line     []byte
	hash     string
}

// begin takes the lock, checks the end of the log against the head, and prepares e's line.
func (l *Log) begin(e Entry) (_ *appending, err error) {
	unlock, err := lock(filepath.Join(l.dir, lockName), true)
	if err != nil {
		return nil, err
	}
	a := &appending{l: l, unlock: unlock, headPath: filepath.Join(l.dir, HeadName)}
	defer func() {
		if err != nil {
			a.end()
		}
	}()
	path := filepath.Join(l.dir, FileName)
	_, statErr := os.Lstat(path)
	a.created = errors.Is(statErr, fs.ErrNotExist)
	if a.f, err = fsutil.OpenNoFollow(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	tail, tailPrev, size, err := readTail(a.f)
	if err != nil {
		return nil, l.damaged(err.Error())
	}
	head, err := readHead(a.headPath)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if why := tailMatchesHead(tail, tailPrev, head); why != "" {
		return nil, l.damaged(why)
	}
	if head.cp.Seq == tail.Seq && head.cp.Hash == tail.Hash {
		tail.Time = head.cp.Time // kept in the announcing head
	}
	e.Seq, e.Prev, e.Time = tail.Seq+1, tail.Hash, l.now().UTC()
	if a.line, err = marshalLine(e); err != nil {
		return nil, err
	}
	a.tail, a.size, a.entry, a.hash = tail, size, e, HashLine(a.line)
	return a, nil
}

// announce writes the head that commits the tail and announces the entry as pending.
func (a *appending) announce() error {
	if err := writeHead(a.headPath, a.tail, &Checkpoint{Seq: a.entry.Seq, Hash: a.hash}); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// writeLine appends the entry's line and makes it durable.
func (a *appending) writeLine() error {
	if _, err := a.f.Write(append(a.line, '\n')); err != nil {
		// A short write would leave half a line that every later Append refuses to chain to.
		_ = a.f.Truncate(a.size)
		return fmt.Errorf("audit log: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if a.created {
		syncDir(a.l.dir)
	}
	return nil
}

// commit writes the head that names the entry, with nothing pending.
func (a *appending) commit() error {
	if err := writeHead(a.headPath, Checkpoint{Seq: a.entry.Seq, Hash: a.hash, Time: a.entry.Time}, nil); err != nil {
		return fmt.Errorf("audit log: entry %d written but its head checkpoint not: %w; the next append repairs it", a.entry.Seq, err)
	}
	return nil
}

func (a *appending) end() {
	if a.f != nil {
		a.f.Close()
	}
	a.unlock()
}

func (l *Log) damaged(why string) error {
	return fmt.Errorf("%w: %s; run 'waasctl log verify' and keep the files as evidence; to start a new log, move %s and %s out of %s",
		ErrDamaged, why, FileName, HeadName, l.dir)
}

// tailMatchesHead says why the last line (tail, whose own Prev is tailPrev) and the head
// disagree, or "" when they agree. A last line one past the committed checkpoint is accepted
// only when the head announced it: that is what a crash between writing a line and committing
// it leaves. Any other line past the checkpoint was not appended by waasctl.
func tailMatchesHead(tail Checkpoint, tailPrev string, head headState) string {
	switch {
	case head.err != nil:
		return head.err.Error()
	case !head.exists && tail.Seq == 0:
		return ""
	case !head.exists:
		return fmt.Sprintf("%s is missing but the log has entries", HeadName)
	case head.cp.Seq == tail.Seq && head.cp.Hash == tail.Hash:
		return ""
	case head.cp.Seq+1 == tail.Seq && head.cp.Hash == tailPrev && head.announces(tail.Seq, tail.Hash):
		return ""
	case head.cp.Seq+1 == tail.Seq && head.cp.Hash == tailPrev:
		return fmt.Sprintf("the last entry (seq %d) is neither recorded nor announced in %s: it was not appended by waasctl", tail.Seq, HeadName)
	default:
		return fmt.Sprintf("the last entry (seq %d) does not match %s (seq %d)", tail.Seq, HeadName, head.cp.Seq)
	}
}

// readTail returns the checkpoint of the last line of f (seq 0 and GenesisHash for an empty
// file), that line's Prev, and the size of f. It reads backwards from the end, so an append
// costs the same however long the log.
func readTail(f *os.File) (tail Checkpoint, prev string, size int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return Checkpoint{}, "", 0, err
	}
	size = fi.Size()
	if size == 0 {
		return Checkpoint{Hash: GenesisHash}, "", 0, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return Checkpoint{}, "", 0, err
	}
	if last[0] != '\n' {
		return Checkpoint{}, "", 0, errors.New("the last line is incomplete")
	}
	var line []byte
	const chunk = 4096
	for off := size - 1; ; {
		if off == 0 {
			break // the whole file is one line
		}
		n := min(chunk, off)
		off -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			return Checkpoint{}, "", 0, err
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			line = append(buf[i+1:], line...)
			break
		}
		line = append(buf, line...)
		if len(line) > maxLine {
			return Checkpoint{}, "", 0, errors.New("the last line is too long to be an entry")
		}
	}
	e, err := parseLine(line)
	if err != nil {
		return Checkpoint{}, "", 0, fmt.Errorf("the last line is not an entry (%v)", err)
	}
	return Checkpoint{Seq: e.Seq, Hash: HashLine(line)}, e.Prev, size, nil
}

// fillIdentity sets who appended an entry, unless the caller did.
func fillIdentity(e *Entry) {
	if e.Who == "" {
		e.Who = currentUser()
	}
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if e.PID == 0 {
		e.PID = os.Getpid()
	}
}

var currentUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
})

// syncDir makes a new file's name durable, as fsutil does for its renames.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // some filesystems refuse to sync a folder; the entry is written either way
		d.Close()
	}
}
