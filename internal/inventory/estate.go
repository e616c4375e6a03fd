package inventory

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/nameset"
	"github.com/waasctl/waasctl/internal/waasapi"

	"github.com/waasctl/waasctl/internal/waas"
)

// An estate snapshot is a JSONL file: a header line, one line per resource
// in the client's deterministic order (pools; wallets (parent: their device
// group), each followed by its device group the first time it appears; the
// pending operations of each group (parent: the group; type: the operation's
// kind); the addresses of each network), and a trailer with the number of resource lines and the SHA-256
// of every byte before the trailer. A truncated, edited or re-ordered file
// fails VerifySnapshot.

// SnapshotVersion is the format version written in the header. Version 2
// records the key that took the snapshot (keyName, keyFingerprint); version
// 1 files are still read, and their key is unknown.
const SnapshotVersion = 2

// oldestSnapshotVersion is the oldest format still read.
const oldestSnapshotVersion = 1

// Kinds of snapshot lines.
const (
	KindHeader      = "header"
	KindTrailer     = "trailer"
	KindPool        = "pool"
	KindWallet      = "wallet"
	KindDeviceGroup = "deviceGroup"
	KindOperation   = "operation"
	KindAddress     = "address"
)

// ResourceKinds lists the resource kinds of a snapshot, in file order.
var ResourceKinds = []string{KindPool, KindWallet, KindDeviceGroup, KindOperation, KindAddress}

// SnapshotMeta is what the header records about where a snapshot was taken.
type SnapshotMeta struct {
	Time         time.Time `json:"time"`
	Endpoint     string    `json:"endpoint,omitempty"`
	Organization string    `json:"organization,omitempty"`
	Profile      string    `json:"profile,omitempty"`
	// Source says why the snapshot was taken: "" (by hand or on a schedule),
	// SourceRotation, or SourceIncident. An incident's snapshot is taken after
	// the leak and never serves as a baseline.
	Source string `json:"source,omitempty"`
	// KeyName and KeyFingerprint name the API key that took the snapshot
	// (credentials.Fingerprint of its public key). A version 1 snapshot has
	// neither: its key is unknown. An incident assessment uses them to tell
	// a baseline taken before a key came into use from one taken with the
	// suspected key, possibly after the leak.
	KeyName        string `json:"keyName,omitempty"`
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Version is the snapshot's format version (SnapshotVersion when written).
	Version int `json:"version,omitempty"`
}

// Sources of snapshots (SnapshotMeta.Source).
const (
	SourceRotation = "rotation"
	SourceIncident = "incident"
)

// SnapshotSummary describes a whole snapshot.
type SnapshotSummary struct {
	SnapshotMeta
	Count  int            `json:"count"`
	Counts map[string]int `json:"counts"`
	SHA256 string         `json:"sha256"`
}

// Record is one line of a snapshot.
type Record struct {
	Kind         string     `json:"kind"`
	Version      int        `json:"version,omitempty"`
	Time         *time.Time `json:"time,omitempty"`
	Endpoint     string     `json:"endpoint,omitempty"`
	Organization string     `json:"organization,omitempty"`
	Profile      string     `json:"profile,omitempty"`
	Source       string     `json:"source,omitempty"`
	// KeyName and KeyFingerprint are in the header only (version 2).
	KeyName        string `json:"keyName,omitempty"`
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	Name           string `json:"name,omitempty"`
	Parent         string `json:"parent,omitempty"`
	Pool           string `json:"pool,omitempty"`
	Wallet         string `json:"wallet,omitempty"`
	Type           string `json:"type,omitempty"` // an operation's kind: CreateSignature, ...
	Count          *int   `json:"count,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
}

// SnapshotFileName is the default file name of a snapshot of profile taken
// at t; names sort by time.
func SnapshotFileName(dir, profile string, t time.Time) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s.jsonl", safeName(profile), t.UTC().Format("20060102T150405.000Z")))
}

// SnapshotWriter writes a snapshot line by line, hashing as it goes.
type SnapshotWriter struct {
	w       io.Writer
	h       hash.Hash
	summary SnapshotSummary
}

// NewSnapshotWriter writes the header to w. meta must name the key taking
// the snapshot: every snapshot records it.
func NewSnapshotWriter(w io.Writer, meta SnapshotMeta) (*SnapshotWriter, error) {
	if meta.KeyFingerprint == "" || meta.KeyName == "" {
		return nil, errors.New("snapshot: the key that takes it must be named (name and fingerprint)")
	}
	sw := &SnapshotWriter{w: w, h: sha256.New(), summary: SnapshotSummary{SnapshotMeta: meta, Counts: map[string]int{}}}
	t := meta.Time.UTC()
	sw.summary.Time = t
	sw.summary.Version = SnapshotVersion
	return sw, sw.line(Record{Kind: KindHeader, Version: SnapshotVersion, Time: &t, Endpoint: meta.Endpoint, Organization: meta.Organization, Profile: meta.Profile, Source: meta.Source,
		KeyName: meta.KeyName, KeyFingerprint: meta.KeyFingerprint})
}

// Add writes one resource line.
func (sw *SnapshotWriter) Add(r Record) error {
	if !slices.Contains(ResourceKinds, r.Kind) {
		return fmt.Errorf("snapshot: unknown resource kind %q", r.Kind)
	}
	sw.summary.Count++
	sw.summary.Counts[r.Kind]++
	return sw.line(r)
}

// Close writes the trailer and returns the summary.
func (sw *SnapshotWriter) Close() (SnapshotSummary, error) {
	sw.summary.SHA256 = hex.EncodeToString(sw.h.Sum(nil))
	n := sw.summary.Count
	data, err := json.Marshal(Record{Kind: KindTrailer, Count: &n, SHA256: sw.summary.SHA256})
	if err != nil {
		return sw.summary, err
	}
	_, err = sw.w.Write(append(data, '\n'))
	return sw.summary, err
}

func (sw *SnapshotWriter) line(r Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	sw.h.Write(data)
	_, err = sw.w.Write(data)
	return err
}

// TakeSnapshot streams a snapshot of the estate c sees to w. Memory stays
// small: resources are written as the client's iterators yield them; the
// network list and a set of device groups (35 to 56 bytes a group) are
// all that is held.
func TakeSnapshot(ctx context.Context, c *waas.Client, w io.Writer, meta SnapshotMeta) (SnapshotSummary, error) {
	// The key is the one the client signs with, whatever the caller thinks it is.
	meta.KeyName, meta.KeyFingerprint = c.KeyName(), credentials.Fingerprint(c.KeyPublic())
	sw, err := NewSnapshotWriter(w, meta)
	if err != nil {
		return SnapshotSummary{}, err
	}
	for p, err := range c.Pools(ctx) {
		if err != nil {
			return SnapshotSummary{}, err
		}
		if err := sw.Add(Record{Kind: KindPool, Name: p.Name}); err != nil {
			return SnapshotSummary{}, err
		}
	}
	groups := nameset.New() // a group shared by wallets gets one line
	for wl, err := range c.AllWallets(ctx) {
		if err != nil {
			return SnapshotSummary{}, err
		}
		if err := sw.Add(Record{Kind: KindWallet, Name: wl.Name, Pool: waasapi.PoolOf(wl.Name), Parent: wl.DeviceGroup}); err != nil {
			return SnapshotSummary{}, err
		}
		if wl.DeviceGroup != "" && groups.Add(wl.DeviceGroup) {
			if err := sw.Add(Record{Kind: KindDeviceGroup, Name: wl.DeviceGroup, Wallet: wl.Name, Pool: waasapi.PoolOf(wl.DeviceGroup)}); err != nil {
				return SnapshotSummary{}, err
			}
		}
	}
	for g, err := range c.OperationsOf(ctx, c.AllWallets(ctx)) {
		if err != nil {
			return SnapshotSummary{}, err
		}
		for _, op := range g.Operations {
			if err := sw.Add(Record{Kind: KindOperation, Name: op.Name, Parent: g.Wallet.DeviceGroup, Wallet: g.Wallet.Name, Type: op.Kind()}); err != nil {
				return SnapshotSummary{}, err
			}
		}
	}
	var networks []string
	for n, err := range c.Networks(ctx) {
		if err != nil {
			return SnapshotSummary{}, err
		}
		networks = append(networks, n.Name)
	}
	for _, n := range networks {
		for a, err := range c.Addresses(ctx, n, "") {
			if err != nil {
				return SnapshotSummary{}, err
			}
			if err := sw.Add(Record{Kind: KindAddress, Name: a.Name, Parent: n, Wallet: a.MPCWallet}); err != nil {
				return SnapshotSummary{}, err
			}
		}
	}
	return sw.Close()
}

// ErrCorrupt marks a snapshot that fails verification.
var ErrCorrupt = errors.New("corrupt snapshot")

func corrupt(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrCorrupt, line, fmt.Sprintf(format, args...))
}

// readSnapshot verifies r while calling fn with each resource line. fn sees
// lines before the trailer has been checked: a caller must discard what it
// gathered if readSnapshot fails.
// MaxSnapshotLine caps one line of a snapshot: a record names one resource
// in well under 1 KiB, so a longer line means the file is not a snapshot
// (or is /dev/zero), and reading stops there instead of filling memory.
const MaxSnapshotLine = 64 << 10

func readSnapshot(r io.Reader, fn func(Record) error) (SnapshotSummary, error) {
	br := bufio.NewReaderSize(fsutil.LineLimitReader(r, MaxSnapshotLine), 64<<10)
	h := sha256.New()
	sum := SnapshotSummary{Counts: map[string]int{}}
	for line := 1; ; line++ {
		data, err := br.ReadBytes('\n')
		if errors.Is(err, fsutil.ErrLineTooLong) {
			return sum, corrupt(line, "longer than %s: not a waasctl snapshot", fsutil.FormatSize(MaxSnapshotLine))
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return sum, err
		}
		if len(data) == 0 {
			if line == 1 {
				return sum, corrupt(line, "empty file, not a waasctl snapshot")
			}
			return sum, corrupt(line, "the file ends without a trailer (truncated?)")
		}
		if data[len(data)-1] != '\n' {
			return sum, corrupt(line, "the last line is incomplete (truncated?)")
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return sum, corrupt(line, "not a snapshot record: %v", err)
		}
		switch {
		case line == 1:
			if rec.Kind != KindHeader {
				return sum, corrupt(line, "want the header, found %q", rec.Kind)
			}
			meta, err := headerMeta(rec)
			if err != nil {
				return sum, corrupt(line, "%v", err)
			}
			sum.SnapshotMeta = meta
		case rec.Kind == KindTrailer:
			got := hex.EncodeToString(h.Sum(nil))
			if rec.Count == nil || *rec.Count != sum.Count {
				return sum, corrupt(line, "the trailer counts %d resources, the file has %d", deref(rec.Count), sum.Count)
			}
			if rec.SHA256 != got {
				return sum, corrupt(line, "checksum mismatch: the trailer says %s, lines 1-%d hash to %s", rec.SHA256, line-1, got)
			}
			sum.SHA256 = got
			if extra, _ := br.Peek(1); len(extra) > 0 {
				return sum, corrupt(line+1, "data after the trailer")
			}
			return sum, nil
		case rec.Kind == KindHeader:
			return sum, corrupt(line, "a second header")
		case !slices.Contains(ResourceKinds, rec.Kind):
			return sum, corrupt(line, "unknown kind %q", rec.Kind)
		case rec.Name == "":
			return sum, corrupt(line, "a %s without a name", rec.Kind)
		default:
			sum.Count++
			sum.Counts[rec.Kind]++
			if fn != nil {
				if err := fn(rec); err != nil {
					return sum, err
				}
			}
		}
		h.Write(data)
	}
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// ReadSnapshot calls fn with each resource line of a snapshot while it
// verifies it. fn sees lines before the trailer is checked: a caller must
// discard what it gathered if ReadSnapshot fails.
func ReadSnapshot(r io.Reader, fn func(Record) error) (SnapshotSummary, error) {
	return readSnapshot(r, fn)
}

func snapshotHeader(path string) (SnapshotMeta, error) {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY, 0) // a link in the folder is no snapshot of ours
	if err != nil {
		return SnapshotMeta{}, err
	}
	defer f.Close()
	return ReadSnapshotHeader(f)
}

// ReadSnapshotHeader reads what the header of the snapshot r holds. It
// checks the header alone: the rest is verified when the file is read.
func ReadSnapshotHeader(r io.Reader) (SnapshotMeta, error) {
	line, err := bufio.NewReader(fsutil.LineLimitReader(r, MaxSnapshotLine)).ReadBytes('\n')
	if err != nil && (!errors.Is(err, io.EOF) || len(line) == 0) {
		if errors.Is(err, io.EOF) || errors.Is(err, fsutil.ErrLineTooLong) {
			return SnapshotMeta{}, corrupt(1, "not a snapshot header")
		}
		return SnapshotMeta{}, err
	}
	var rec Record
	if err := json.Unmarshal(line, &rec); err != nil || rec.Kind != KindHeader || rec.Time == nil {
		return SnapshotMeta{}, corrupt(1, "not a snapshot header")
	}
	meta, err := headerMeta(rec)
	if err != nil {
		return SnapshotMeta{}, corrupt(1, "%v", err)
	}
	return meta, nil
}

// headerMeta checks a header record's version and returns what it says.
func headerMeta(rec Record) (SnapshotMeta, error) {
	if rec.Version < oldestSnapshotVersion || rec.Version > SnapshotVersion {
		return SnapshotMeta{}, fmt.Errorf("snapshot version %d, this waasctl reads %d to %d", rec.Version, oldestSnapshotVersion, SnapshotVersion)
	}
	// From version 2 on every snapshot names its key: one that does not was
	// edited to pass as a baseline of unknown key.
	if rec.Version >= 2 && (rec.KeyFingerprint == "" || rec.KeyName == "") {
		return SnapshotMeta{}, fmt.Errorf("a version %d header without the key that took the snapshot", rec.Version)
	}
	if rec.Version < 2 && (rec.KeyFingerprint != "" || rec.KeyName != "") {
		return SnapshotMeta{}, fmt.Errorf("a version %d header cannot name a key", rec.Version)
	}
	m := SnapshotMeta{Endpoint: rec.Endpoint, Organization: rec.Organization, Profile: rec.Profile, Source: rec.Source,
		KeyName: rec.KeyName, KeyFingerprint: rec.KeyFingerprint, Version: rec.Version}
	if rec.Time != nil {
		m.Time = *rec.Time
	}
	return m, nil
}

// VerifySnapshot checks a snapshot's header, trailer count and checksum,
// and returns its summary. Errors wrap ErrCorrupt and name the line.
func VerifySnapshot(r io.Reader) (SnapshotSummary, error) {
	return readSnapshot(r, nil)
}

// KindDiff is what changed for one resource kind.
type KindDiff struct {
	Kind    string   `json:"kind"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// Diff is what changed between two snapshots.
type Diff struct {
	From  SnapshotSummary `json:"from"`
	To    SnapshotSummary `json:"to"`
	Kinds []KindDiff      `json:"kinds"`
}

// AnyAdded says whether b holds a resource a did not.
func (d Diff) AnyAdded() bool {
	for _, k := range d.Kinds {
		if len(k.Added) > 0 {
			return true
		}
	}
	return false
}

// DiffSnapshots verifies a and b and lists, per kind, the names b added and
// removed relative to a.
//
// Memory: a's names are held as 128-bit digests with a mark bit (16 bytes
// and a bit a name, nameset.Index), b is streamed against them, and a is
// read again for the names b lacks; beyond that only the added and removed
// names are held. So a is read twice and must be seekable.
func DiffSnapshots(a io.ReadSeeker, b io.Reader) (Diff, error) {
	var builder nameset.Builder
	from, err := readSnapshot(a, func(r Record) error {
		builder.Add(nameset.KeyOf(r.Kind, r.Name))
		return nil
	})
	if err != nil {
		return Diff{}, fmt.Errorf("first snapshot: %w", err)
	}
	seen := builder.Build()
	added := map[string][]string{}
	to, err := readSnapshot(b, func(r Record) error {
		if i, ok := seen.Find(nameset.KeyOf(r.Kind, r.Name)); ok {
			seen.Mark(i)
		} else {
			added[r.Kind] = append(added[r.Kind], r.Name)
		}
		return nil
	})
	if err != nil {
		return Diff{}, fmt.Errorf("second snapshot: %w", err)
	}
	if _, err := a.Seek(0, io.SeekStart); err != nil {
		return Diff{}, fmt.Errorf("first snapshot: %w", err)
	}
	removed := map[string][]string{}
	if _, err := readSnapshot(a, func(r Record) error {
		if i, ok := seen.Find(nameset.KeyOf(r.Kind, r.Name)); ok && !seen.Marked(i) {
			seen.Mark(i) // once, however often a name repeats
			removed[r.Kind] = append(removed[r.Kind], r.Name)
		}
		return nil
	}); err != nil {
		return Diff{}, fmt.Errorf("first snapshot, read again: %w", err)
	}
	d := Diff{From: from, To: to}
	for _, k := range ResourceKinds {
		kd := KindDiff{Kind: k, Added: added[k], Removed: removed[k]}
		if kd.Added == nil {
			kd.Added = []string{}
		}
		if kd.Removed == nil {
			kd.Removed = []string{}
		}
		slices.Sort(kd.Added)
		slices.Sort(kd.Removed)
		d.Kinds = append(d.Kinds, kd)
	}
	return d, nil
}

// SaveSnapshot takes a snapshot with c into path, or, when path is "", into
// a new file in dir named by SnapshotFileName. The file is written
// atomically with mode 0600: it appears complete or not at all.
func SaveSnapshot(ctx context.Context, c *waas.Client, dir, path string, meta SnapshotMeta) (string, SnapshotSummary, error) {
	if path == "" {
		if err := fsutil.MkdirPrivate(dir); err != nil {
			return "", SnapshotSummary{}, err
		}
		path = SnapshotFileName(dir, meta.Profile, meta.Time)
	}
	var sum SnapshotSummary
	err := fsutil.Write(path, 0o600, func(w io.Writer) error {
		var err error
		sum, err = TakeSnapshot(ctx, c, w, meta)
		return err
	})
	return path, sum, err
}

// SnapshotDir is where snapshots go in the state folder.
func SnapshotDir(stateDir string) string { return filepath.Join(stateDir, "snapshots") }
