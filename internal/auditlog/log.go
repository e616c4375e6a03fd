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
	// Files copied in or restored from a backup may be more open than waasctl makes them.
	for _, name := range []string{FileName, HeadName} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return nil, err
			}
		}
	}
	return &Log{dir: dir, now: time.Now}, nil
}

// GuardAgainst makes Append refuse, besides anything that looks like a private key, the exact
// keys g was built with in any encoding: a command that holds the profile's keys passes them.
func (l *Log) GuardAgainst(g *credentials.Guard) { l.guard = g }

// Dir returns the folder of the log.
func (l *Log) Dir() string { return l.dir }

// Append writes e as the next entry and returns it as written. It sets Seq, Time (now, UTC)
// and Prev, and Who, Host and PID when they are empty. The line is appended and fsynced before
// the head checkpoint is replaced, so a crash leaves at worst a checkpoint one entry behind,
// which the next Append repairs and Verify reports.
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

	unlock, err := lock(filepath.Join(l.dir, lockName), true)
	if err != nil {
		return Entry{}, err
	}
	defer unlock()

	path := filepath.Join(l.dir, FileName)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()

	tail, tailPrev, size, err := readTail(f)
	if err != nil {
		return Entry{}, l.damaged(err.Error())
	}
	headPath := filepath.Join(l.dir, HeadName)
	head, err := readHead(headPath)
	if err != nil {
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	if why := tailMatchesHead(tail, tailPrev, head); why != "" {
		return Entry{}, l.damaged(why)
	}

	e.Seq, e.Prev, e.Time = tail.Seq+1, tail.Hash, l.now().UTC()
	line, err := marshalLine(e)
	if err != nil {
		return Entry{}, err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		// A short write would leave half a line that every later Append refuses to chain to.
		_ = f.Truncate(size)
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	if created {
		syncDir(l.dir)
	}
	if err := writeHead(headPath, Checkpoint{Seq: e.Seq, Hash: HashLine(line), Time: e.Time}); err != nil {
		return e, fmt.Errorf("audit log: entry %d written but its head checkpoint not: %w; the next append repairs it", e.Seq, err)
	}
	return e, nil
}

func (l *Log) damaged(why string) error {
	return fmt.Errorf("%w: %s; run 'waasctl log verify' and keep the files as evidence; to start a new log, move %s and %s out of %s",
		ErrDamaged, why, FileName, HeadName, l.dir)
}

// tailMatchesHead says why the last line (tail, whose own Prev is tailPrev) and the head
// checkpoint disagree, or "" when they agree. A checkpoint one entry behind is accepted: it is
// what a crash between writing a line and its checkpoint leaves.
func tailMatchesHead(tail Checkpoint, tailPrev string, head headState) string {
	switch {
	case head.err != nil:
		return head.err.Error()
	case !head.exists && tail.Seq == 0:
		return ""
	case !head.exists && tail.Seq == 1 && tailPrev == GenesisHash:
		return ""
	case !head.exists:
		return fmt.Sprintf("%s is missing but the log has entries", HeadName)
	case head.cp.Seq == tail.Seq && head.cp.Hash == tail.Hash:
		return ""
	case head.cp.Seq+1 == tail.Seq && head.cp.Hash == tailPrev:
		return ""
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
