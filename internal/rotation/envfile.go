package rotation

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// The envfile sink writes the two variables the official client reads, in the .env file that
// the reference proxy loads with godotenv at start (so its restart command must follow).
const (
	envName = credentials.EnvOfficialName
	envKey  = credentials.EnvOfficialPrivateKey
)

// maxEnvFile bounds what is read: a .env is a few kilobytes.
const maxEnvFile = 1 << 20

// EnvfileOptions loosen the envfile sink's checks of its path; each is a setting of the sink in
// the profile, so that nobody is handed a key without the config saying so.
type EnvfileOptions struct {
	// FollowSymlinks (follow_symlinks: true): the path may be a symlink; the file it leads to is
	// replaced, and the link kept. Otherwise a symlink is refused: it may lead anywhere, to a
	// file whoever planted the link can read.
	FollowSymlinks bool
	// AllowOtherOwner (allow_other_owner: true): the file may belong to another user (the
	// proxy's, with waasctl run as root); the replacement is given back to that user and group,
	// who can read the key. Otherwise such a file is refused.
	AllowOtherOwner bool
}

// WriteEnvKey sets the key name and private key in the .env file at path, which need not exist
// yet (its folder must). The key is written as SEC1 PEM (what the official client loads) in
// double quotes with \n escapes, which godotenv expands.
//
// Everything else in the file is kept byte for byte: other variables, comments, blank lines,
// order, CRLF line endings, a missing final newline. The two variables are replaced where they
// are (keeping "export ", spacing and a trailing comment; every copy if one is set twice), a
// missing one is added next to the other, or both at the end. The file is replaced atomically
// with mode 0600, or its own mode if that is stricter. A path that is a symlink, or a file that
// belongs to another user, is refused (see EnvfileOptions and writeEnvKey, which can allow them).
//
// Writing the key a file already holds changes nothing and reports changed false, so deliver
// can be retried freely and the restart skipped. A file that is not what godotenv would parse
// the same way (an unclosed quote) is refused rather than guessed at. Errors never contain key
// material.
func WriteEnvKey(path, name, privateKeyPEM string) (changed bool, err error) {
	return writeEnvKey(path, name, privateKeyPEM, EnvfileOptions{})
}

func writeEnvKey(path, name, privateKeyPEM string, opt EnvfileOptions) (changed bool, err error) {
	if err := credentials.CheckKeyName(name); err != nil {
		return false, fmt.Errorf("envfile %s: %w", path, err)
	}
	pemText, err := sec1PEM(privateKeyPEM)
	if err != nil {
		return false, fmt.Errorf("envfile %s: %w", path, err)
	}
	target, f, err := openEnvFile(path, opt)
	if err != nil {
		return false, err
	}
	var old []byte
	var fi os.FileInfo
	if f != nil {
		defer f.Close()
		if fi, err = f.Stat(); err != nil {
			return false, fmt.Errorf("envfile: %w", err)
		}
		if old, err = fsutil.ReadAll(f, path, maxEnvFile); err != nil {
			return false, envReadError(path, err)
		}
	}
	entries, err := parseEnv(string(old))
	if err != nil {
		return false, fmt.Errorf("envfile %s: %w; fix it by hand (waasctl edits only a file it reads exactly as godotenv does)", path, err)
	}
	out := renderEnv(setEnvKey(entries, name, pemText))

	perm := os.FileMode(0o600)
	if fi != nil {
		perm = fi.Mode().Perm() & 0o600 // never looser than it was, nor than 0600
	}
	if fi != nil && out == string(old) {
		if fi.Mode().Perm() != perm {
			// Through the open file: a symlink swapped in since is not followed.
			if err := f.Chmod(perm); err != nil {
				return false, fmt.Errorf("envfile %s: tightening its mode: %w", path, err)
			}
		}
		return false, nil
	}
	var owner *fileOwnership
	if fi != nil {
		if owner, err = ownership(path, fi); err != nil {
			return false, err
		}
	}
	// A rename over target replaces whatever is there, never what a link there leads to.
	if err := fsutil.WriteFile(target, []byte(out), perm); err != nil {
		return false, fmt.Errorf("envfile %s: %w", path, err)
	}
	if owner != nil {
		if err := owner.restore(target); err != nil {
			return true, fmt.Errorf("envfile %s: the key is written, but %w", path, err)
		}
	}
	return true, nil
}

// ReadEnvKey returns the key name and the fingerprint of the private key that the .env file at
// path holds, as godotenv would read them (the last assignment wins), so that deliver can tell
// whether a sink already has the new key. A missing file or variable, or a name that is not a
// key name, reads as "". The secret itself is never returned. The path is checked as
// WriteEnvKey checks it.
func ReadEnvKey(path string) (name, fingerprint string, err error) {
	return readEnvKey(path, EnvfileOptions{})
}

func readEnvKey(path string, opt EnvfileOptions) (name, fingerprint string, err error) {
	_, f, err := openEnvFile(path, opt)
	if err != nil {
		return "", "", err
	}
	if f == nil {
		return "", "", nil
	}
	defer f.Close()
	data, err := fsutil.ReadAll(f, path, maxEnvFile)
	if err != nil {
		return "", "", envReadError(path, err)
	}
	entries, err := parseEnv(string(data))
	if err != nil {
		return "", "", fmt.Errorf("envfile %s: %w", path, err)
	}
	name = lookupEnv(entries, envName)
	if credentials.CheckKeyName(name) != nil {
		name = "" // not a key name, so not one to hand on: it may be a secret in the wrong variable
	}
	secret := lookupEnv(entries, envKey)
	if secret == "" {
		return name, "", nil
	}
	signer, err := credentials.ParsePrivateKey(secret)
	if err != nil {
		return name, "", fmt.Errorf("envfile %s: %s: %w", path, envKey, err) // credentials' errors quote nothing
	}
	return name, credentials.Fingerprint(signer.Public()), nil
}

func envReadError(path string, err error) error {
	if errors.Is(err, fsutil.ErrTooLarge) {
		return fmt.Errorf("envfile %s is larger than %d bytes; that is not a .env file", path, maxEnvFile)
	}
	return fmt.Errorf("envfile: %w", err)
}

// sec1PEM checks the key and returns it in the one form the reference proxy can load: the
// official client signs with ES256 and reads SEC1 "EC PRIVATE KEY" PEM only.
func sec1PEM(secret string) (string, error) {
	signer, err := credentials.ParsePrivateKey(secret)
	if err != nil {
		return "", err
	}
	k, ok := signer.(*ecdsa.PrivateKey)
	if !ok {
		return "", errors.New("the envfile sink needs an ECDSA P-256 key: the reference proxy's client signs with ES256 only")
	}
	return credentials.EncodeSEC1PEM(k)
}

// openEnvFile opens the .env file at path for reading, after checking what opt allows: a
// symlink is refused unless FollowSymlinks (then target is the file it leads to), and so is a
// file of another user unless AllowOtherOwner. The file must be a regular one. f is nil when
// nothing is at path yet (it is created, owned by this user). The checks are made on the open
// file, so a file swapped in after them is not the one read.
func openEnvFile(path string, opt EnvfileOptions) (target string, f *os.File, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("envfile: %w", err)
	}
	target = path
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !opt.FollowSymlinks {
			return "", nil, fmt.Errorf("envfile %s is a symlink, which could lead to a file someone else can read; point the sink's path at the file itself, or set follow_symlinks: true on the sink to write through the link", path)
		}
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return "", nil, fmt.Errorf("envfile %s is a symlink that leads to no file; create the file or fix the link", path)
		}
		if fi, err = os.Lstat(target); err != nil {
			return "", nil, fmt.Errorf("envfile: %w", err)
		}
	}
	if !fi.Mode().IsRegular() { // checked before opening: opening a FIFO would wait for a writer
		return "", nil, fmt.Errorf("envfile %s is not a regular file", path)
	}
	f, err = fsutil.OpenNoFollow(target, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, fsutil.ErrSymlink) || errors.Is(err, fsutil.ErrNotRegular) {
			return "", nil, fmt.Errorf("envfile %s is not a regular file", path)
		}
		return "", nil, fmt.Errorf("envfile: %w", err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("envfile: %w", err)
	}
	if uid, _, ok := fileOwner(fi); ok && uid != os.Geteuid() && !opt.AllowOtherOwner {
		f.Close()
		return "", nil, fmt.Errorf("envfile %s belongs to uid %d, not to you (uid %d), who would be handed the key; run waasctl as its owner, or set allow_other_owner: true on the sink if that user is meant to read the key", path, uid, os.Geteuid())
	}
	return target, f, nil
}

// envEntry is one assignment, or one line that assigns nothing (a comment, a blank, anything
// else), exactly as written: prefix+value+suffix+eol is the original text.
type envEntry struct {
	key    string // the variable; "" for a line that assigns nothing
	prefix string // up to the value: indentation, "export ", the name, "=", blanks (or the whole line)
	value  string // as written, quotes and escapes included; a quoted one may span lines
	suffix string // after the value on its last line: blanks and a comment
	eol    string // "\n", "\r\n", or "" on a last line that has none
}

func (e envEntry) text() string { return e.prefix + e.value + e.suffix + e.eol }

func renderEnv(entries []envEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.text())
	}
	return b.String()
}

// assignment matches the start of a godotenv assignment up to its value: an optional
// "export ", a name of letters, digits, '_' and '.', then '=' (or the YAML-style ':' godotenv
// also takes).
var assignment = regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([A-Za-z0-9_.]+)[ \t]*[=:][ \t]*`)

// errUnclosedQuote: godotenv refuses such a file too, so the proxy cannot be reading it.
var errUnclosedQuote = errors.New("a quoted value is never closed")

// parseEnv splits a .env file into entries, following godotenv where it matters for editing:
// which lines a quoted value spans, and where an unquoted value's comment starts. Errors give
// a line number, never content.
func parseEnv(s string) ([]envEntry, error) {
	var entries []envEntry
	line := 1
	for s != "" {
		e, n, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		entries = append(entries, e)
		line += strings.Count(s[:n], "\n")
		s = s[n:]
	}
	return entries, nil
}

// parseEntry reads the entry at the start of s and says how many bytes it took.
func parseEntry(s string) (envEntry, int, error) {
	line, eol, n := cutLine(s)
	m := assignment.FindStringSubmatchIndex(line)
	if m == nil {
		return envEntry{prefix: line, eol: eol}, n, nil
	}
	e := envEntry{key: line[m[2]:m[3]], prefix: line[:m[1]]}
	v := m[1]
	if v < len(line) && (line[v] == '"' || line[v] == '\'') {
		end := closingQuote(s, v)
		if end < 0 {
			return envEntry{}, 0, errUnclosedQuote
		}
		rest, eol, n := cutLine(s[end+1:])
		e.value, e.suffix, e.eol = s[v:end+1], rest, eol
		return e, end + 1 + n, nil
	}
	e.value, e.suffix = splitComment(line[v:])
	e.eol = eol
	return e, n, nil
}

// cutLine splits off the first line of s: its text, its line ending and the bytes both take.
func cutLine(s string) (text, eol string, n int) {
	i := strings.IndexByte(s, '\n')
	switch {
	case i < 0:
		return s, "", len(s)
	case i > 0 && s[i-1] == '\r':
		return s[:i-1], "\r\n", i + 1
	default:
		return s[:i], "\n", i + 1
	}
}

// closingQuote returns the index in s of the quote that closes the one at open, or -1. As in
// godotenv, a quote right after a backslash does not close, for either kind of quote, and the
// value may run over several lines.
func closingQuote(s string, open int) int {
	q := s[open]
	for i := open + 1; i < len(s); i++ {
		if s[i] == q && s[i-1] != '\\' {
			return i
		}
	}
	return -1
}

// splitComment splits an unquoted value from what follows it: as in godotenv, the comment
// starts at the last '#' that follows a blank, and blanks around the value are not part of it.
func splitComment(rest string) (value, suffix string) {
	end := len(rest)
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] == '#' && (rest[i-1] == ' ' || rest[i-1] == '\t') {
			end = i
			break
		}
	}
	value = strings.TrimRight(rest[:end], " \t")
	return value, rest[len(value):]
}

// setEnvKey returns entries with the key name and PEM set; see WriteEnvKey.
func setEnvKey(entries []envEntry, name, pemText string) []envEntry {
	out := slices.Clone(entries)
	var names, keys []int
	for i, e := range out {
		switch e.key {
		case envName:
			out[i].value = quoteLike(e.value, name)
			names = append(names, i)
		case envKey:
			out[i].value = doubleQuote(pemText) // only double quotes expand \n
			keys = append(keys, i)
		}
	}
	eol := "\n"
	if len(entries) > 0 && entries[0].eol != "" {
		eol = entries[0].eol
	}
	nameEntry := envEntry{key: envName, prefix: envName + "=", value: doubleQuote(name)}
	keyEntry := envEntry{key: envKey, prefix: envKey + "=", value: doubleQuote(pemText)}
	switch {
	case len(names) > 0 && len(keys) > 0:
	case len(names) > 0:
		out = insertEntry(out, names[len(names)-1]+1, keyEntry, eol)
	case len(keys) > 0:
		out = insertEntry(out, keys[0], nameEntry, eol)
	default:
		out = insertEntry(out, len(out), nameEntry, eol)
		out = insertEntry(out, len(out), keyEntry, eol)
	}
	return out
}

// insertEntry inserts e at i. Appended after a last line that has no line ending, e gets that
// line's ending and the line gets eol, so the file still ends the way it did.
func insertEntry(entries []envEntry, i int, e envEntry, eol string) []envEntry {
	e.eol = eol
	if i == len(entries) && i > 0 && entries[i-1].eol == "" {
		entries[i-1].eol, e.eol = eol, ""
	}
	return slices.Insert(entries, i, e)
}

// quoteLike quotes v as old was quoted. It is used for the key name, which CheckKeyName keeps
// free of quotes, blanks, '#', '$' and backslashes, so every style reads back the same.
func quoteLike(old, v string) string {
	switch {
	case strings.HasPrefix(old, "'"):
		return "'" + v + "'"
	case strings.HasPrefix(old, `"`):
		return doubleQuote(v)
	default:
		return v
	}
}

// doubleQuote writes s as a double-quoted godotenv value on one line.
func doubleQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "$", `\$`)
	return `"` + r.Replace(s) + `"`
}

// lookupEnv returns the value of the last assignment to key, unquoted as godotenv does (without
// its ${VAR} expansion, which neither a key name nor a PEM uses).
func lookupEnv(entries []envEntry, key string) string {
	for _, e := range slices.Backward(entries) {
		if e.key == key {
			return unquoteEnv(e.value)
		}
	}
	return ""
}

func unquoteEnv(v string) string {
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		return expandEscapes(v[1 : len(v)-1])
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1] // single quotes are literal
	default:
		return v
	}
}

// expandEscapes undoes godotenv's double-quote escapes: \n and \r, and a backslash before any
// other character stands for that character.
func expandEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// fileOwnership is who owned a file being replaced. The replacement is created by this process,
// so when it runs as root (to restart the proxy, say) it would otherwise leave the proxy's
// user unable to read its own .env.
type fileOwnership struct{ uid, gid int }

// ownership returns the owner of the existing file, checking up front that this process can
// give a replacement back to it; nil where files have no Unix owner.
func ownership(path string, fi os.FileInfo) (*fileOwnership, error) {
	uid, gid, ok := fileOwner(fi)
	if !ok {
		return nil, nil
	}
	if !canChown(uid, gid) {
		return nil, fmt.Errorf("envfile %s belongs to uid %d gid %d, and a replacement made by this user could not be given back to them; run as its owner or as root", path, uid, gid)
	}
	return &fileOwnership{uid, gid}, nil
}

func (o *fileOwnership) restore(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if uid, gid, _ := fileOwner(fi); uid == o.uid && gid == o.gid {
		return nil
	}
	if err := os.Chown(path, o.uid, o.gid); err != nil {
		return fmt.Errorf("giving it back to uid %d gid %d failed: %w", o.uid, o.gid, err)
	}
	return nil
}
