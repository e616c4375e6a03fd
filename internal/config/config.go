// Package config reads waasctl's non-secret settings: named profiles, each with an endpoint, an
// issuer, sinks, a rotation policy, quota limits and a ledger. Secrets never live here; they live
// in the keyring (see internal/credentials).
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/textsafe"

	"gopkg.in/yaml.v3"
)

// Config is the parsed config file.
type Config struct {
	// Path is the file the config was read from (which may not exist).
	Path     string             `yaml:"-"`
	Profiles map[string]Profile `yaml:"profiles"`
	// State is where keys and state are shared across hosts (team mode, docs/team.md); nil
	// keeps them on this host. A profile's own state wins, and WAASCTL_STATE_DSN over both.
	State *State `yaml:"state,omitempty"`
}

// Profile is one named set of settings, selected with --profile.
type Profile struct {
	Endpoint string  `yaml:"endpoint,omitempty"`
	Issuer   *Issuer `yaml:"issuer,omitempty"`
	Sinks    []Sink  `yaml:"sinks,omitempty"`
	Policy   *Policy `yaml:"policy,omitempty"`
	Quota    *Quota  `yaml:"quota,omitempty"`
	Ledger   *Ledger `yaml:"ledger,omitempty"`
	// InsecureHTTP allows a plain http:// endpoint that is not loopback.
	// Every request carries the key's JWT, readable by anyone on the path.
	InsecureHTTP bool `yaml:"insecure_http,omitempty"`
	// State overrides the top-level state for this profile.
	State *State `yaml:"state,omitempty"`
	// NoAdapt sends at --rate instead of finding the rate the service
	// allows, as --no-adapt does.
	NoAdapt bool `yaml:"no_adapt,omitempty"`
}

// Issuer says who creates and revokes API keys during a rotation.
type Issuer struct {
	Type    string   `yaml:"type"` // sandbox | manual | exec
	Command []string `yaml:"command,omitempty"`
}

// Sink is a place a new key is delivered to during a rotation.
type Sink struct {
	Type    string   `yaml:"type"` // envfile | exec
	Path    string   `yaml:"path,omitempty"`
	Restart []string `yaml:"restart,omitempty"`
	Command []string `yaml:"command,omitempty"`
	// FollowSymlinks lets an envfile path be a symlink, written through; refused otherwise.
	FollowSymlinks bool `yaml:"follow_symlinks,omitempty"`
	// AllowOtherOwner lets an envfile belong to another user, who keeps it (and can read the
	// key); refused otherwise.
	AllowOtherOwner bool `yaml:"allow_other_owner,omitempty"`
}

// Policy bounds key age. The values are kept as written ("90d", "24h") because time.Duration has
// no day unit; the rotation package parses them.
type Policy struct {
	MaxAge string `yaml:"max_age,omitempty"`
	Grace  string `yaml:"grace,omitempty"`
}

// Quota holds the resource limits the quota audit compares against.
type Quota struct {
	Pools        int `yaml:"pools,omitempty"`
	Wallets      int `yaml:"wallets,omitempty"`
	Addresses    int `yaml:"addresses,omitempty"`
	DeviceGroups int `yaml:"device_groups,omitempty"`
}

// Ledger is the middle tier's record of what it owns, used by reconciliation audits
// (internal/reconcile): a PostgreSQL URL or SQLite file with one query per resource kind,
// each returning names and optionally owners, or a CSV/JSONL file.
type Ledger struct {
	DSN               string `yaml:"dsn,omitempty"`
	OperationsQuery   string `yaml:"operations_query,omitempty"`
	WalletsQuery      string `yaml:"wallets_query,omitempty"`
	DeviceGroupsQuery string `yaml:"device_groups_query,omitempty"`
}

// Load reads the config file at ConfigFile().
func Load() (*Config, error) { return LoadContext(context.Background()) }

// LoadContext is Load whose read ends with ctx: a config path that is a FIFO
// without a writer does not outlive the first Ctrl-C.
func LoadContext(ctx context.Context) (*Config, error) {
	path, err := ConfigFile()
	if err != nil {
		return nil, err
	}
	return loadFile(ctx, path)
}

// LoadFile reads the config file at path. A missing file is an empty config, not an error: a
// fresh install has none. The config names commands waasctl runs (issuer, sinks), so a file
// that someone else could change is refused (fsutil.CheckTrustedFile).
func LoadFile(path string) (*Config, error) { return loadFile(context.Background(), path) }

func loadFile(ctx context.Context, path string) (*Config, error) {
	data, err := readConfig(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if err := fsutil.CheckTrustedFile(path); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// MaxFileSize caps the config file: a config of a hundred profiles is a few
// dozen KiB.
const MaxFileSize = 1 << 20

func readConfig(ctx context.Context, path string) ([]byte, error) {
	// A FIFO or a device would block every command (or never end) instead of failing: the
	// config is a file (a symlink to one is followed).
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		kind := "not a regular file"
		switch m := fi.Mode(); {
		case m&os.ModeNamedPipe != 0:
			kind = "a named pipe, not a file"
		case m&os.ModeDevice != 0:
			kind = "a device, not a file"
		case m.IsDir():
			kind = "a folder, not a file"
		}
		return nil, fmt.Errorf("%s is %s: point WAASCTL_CONFIG at the config file", path, kind)
	}
	return fsutil.ReadFile(ctx, path, "config file", MaxFileSize)
}

// Parse parses config file contents; path is used only in error messages. Unknown keys are
// errors: a misspelt max_age silently ignored would leave keys unrotated.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		line, msg := describeYAMLError(err)
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			if n := syntaxErrorLine(data); n > 0 {
				line = strconv.Itoa(n)
			}
		}
		if line != "" {
			return nil, fmt.Errorf("%s:%s: %s", path, line, msg)
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	return c, nil
}

var (
	lineRE       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownKeyRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	// valueRE matches the offending value yaml quotes in type errors. It is dropped because a
	// value in the wrong place may be a DSN with a password in it.
	valueRE = regexp.MustCompile(" `[^`]*`")
)

// describeYAMLError turns a yaml.v3 error, which may span several lines and name Go types, into a
// line number (empty when yaml gives none) and a one-line message.
func describeYAMLError(err error) (line, msg string) {
	msg = err.Error()
	more := 0
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg, more = te.Errors[0], len(te.Errors)-1
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, msg = m[1], m[2]
	}
	if m := unknownKeyRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unknown key %q", m[1])
	}
	msg = valueRE.ReplaceAllString(msg, "")
	msg = strings.Join(strings.Fields(msg), " ")
	if more > 0 {
		msg += fmt.Sprintf(" (and %d more)", more)
	}
	return line, msg
}

// maxScanLines bounds the work syntaxErrorLine does (quadratic in the file size).
const maxScanLines = 5000

// syntaxErrorLine returns the 1-based line at which data stops being valid YAML: one past the
// longest prefix of whole lines that still parses, or 0 if the file is too big to look. It exists
// because yaml.v3 reports the line where the enclosing block starts (for parser errors one too
// low, too), which for a misindented key deep in a profile is line 1 or 2.
func syntaxErrorLine(data []byte) int {
	var ends []int // offsets just past each newline
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) > maxScanLines {
		return 0
	}
	if len(ends) > 0 && ends[len(ends)-1] == len(data) {
		ends = ends[:len(ends)-1] // the whole file is known not to parse
	}
	for k := len(ends); k > 0; k-- {
		var n yaml.Node
		if yaml.Unmarshal(data[:ends[k-1]], &n) == nil {
			return k + 1
		}
	}
	return 1
}

// MaxAge is the longest policy duration ParseAge accepts: ten years. A
// longer max_age or grace is a typo, and a bound keeps the arithmetic far
// from time.Duration's overflow at 292 years.
const MaxAge = 3650 * 24 * time.Hour

// ParseAge parses a policy duration: Go's units (h, m, s) plus d (24h) and
// w (7d), e.g. "90d", "24h", "1d12h", at most MaxAge.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if strings.ContainsAny(s, "+-") {
		// Go's durations take a sign in each part: "1d-1h" would be 23h.
		return 0, fmt.Errorf("duration %s: no signs; want e.g. 90d, 24h or 1d12h", textsafe.Value(s))
	}
	tooLong := fmt.Errorf("duration %s is longer than the maximum, 3650d (ten years)", textsafe.Value(s))
	var total time.Duration
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "dw")
		if i < 0 {
			d, err := time.ParseDuration(rest)
			if err != nil { // time.ParseDuration's overflow (past 292 years) lands here too
				return 0, fmt.Errorf("duration %s: want e.g. 90d, 24h or 1d12h, at most 3650d", textsafe.Value(s))
			}
			if d > MaxAge-total {
				return 0, tooLong
			}
			total += d
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, tooLong
		}
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %s: want e.g. 90d, 24h or 1d12h", textsafe.Value(s))
		}
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		// Compared in units, before multiplying, so that no product overflows.
		if n > int64((MaxAge-total)/unit) {
			return 0, tooLong
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration %s must be positive", textsafe.Value(s))
	}
	return total, nil
}
