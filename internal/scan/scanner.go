package scan

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"

	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Finding is one key found somewhere. It never holds the key: only its name, a redacted form
// and the fingerprint of its public half.
type Finding struct {
	Path        string // the PATH argument as given, then the file, then archive members after '!'
	Line        int
	Kind        string
	KeyName     string
	Fingerprint string
	Redacted    string
	Encoding    string // layers decoded to reach it: "base64", "utf16>base64", ...
	Commit      string // git history only
	Author      string // git history only
	Live        bool   // its fingerprint is a keyring profile's
	Profile     string // the profile, when Live
	Slot        string // CURRENT, PENDING or PREVIOUS, when Live
	Suppressed  string // why it is not counted, when it is not: "allow comment", "ignore file", "baseline"
	Verified    string // with Options.Verify: what the API said of the key

	offset int // in its file, to drop a key seen twice in overlapping chunks
}

// ScanError says what part of a scan could not be completed, and why.
type ScanError struct {
	Path   string
	Reason string
}

// Limits bound what one scan may hold in memory and read out of archives.
type Limits struct {
	// MaxArchiveDepth is how deep archives are opened: a file inside the outermost archive is
	// at depth 1.
	MaxArchiveDepth int
	// MaxBuffered is the largest nested zip member held in memory (a zip needs random access).
	MaxBuffered int64
	// MaxBufferedTotal is what all nested zips held at once, by every worker, may take.
	MaxBufferedTotal int64
	// MaxArchiveBytes is how many decompressed bytes one outermost archive may yield.
	MaxArchiveBytes int64
	// MaxRatio is the largest decompressed-to-compressed ratio a member may have once it is
	// past 1 MiB.
	MaxRatio int64
}

// DefaultLimits are the documented defaults (docs/scan.md).
var DefaultLimits = Limits{MaxArchiveDepth: 4, MaxBuffered: 32 << 20, MaxBufferedTotal: 96 << 20, MaxArchiveBytes: 4 << 30, MaxRatio: 200}

// Chunking of plain files: a file is scanned chunkSize bytes at a time, each chunk extended by
// chunkOverlap bytes of the next so that a key across a chunk boundary is seen whole.
const (
	chunkSize    = 4 << 20
	chunkOverlap = 64 << 10
	// chunkLookBack is how much of a chunk the next one starts with again: a key that starts
	// just past a chunk is reported from the next, and a secret found from what precedes it
	// (its name's ':' or '=', an element's opening tag, the CDP words within contextRadius,
	// a key id within 4 KiB) needs that there too.
	chunkLookBack = 8 << 10
	ratioFloor    = 1 << 20
)

// Options configure a Scanner.
type Options struct {
	Limits    Limits
	Workers   int  // files scanned at once; 0 means GOMAXPROCS
	OtherKeys bool // report RSA and other non-WaaS private keys too
	// Progress, if set, is called as each file or member is started, with the count so far
	// (from any goroutine).
	Progress func(total int64)
	// Stdin is read for the PATH "-".
	Stdin io.Reader
	// Skip, if set, says which files of a folder (relative to the PATH argument) not to scan:
	// used for .gitignore.
	Skip func(root, rel string, dir bool) bool
	// Verify, if set, is asked once per key (by fingerprint) whether it authenticates; what
	// it returns goes in Finding.Verified. It is called only for a key with a name.
	Verify func(ctx context.Context, keyName string, key crypto.Signer) string
	// Git scans, for each PATH that is a git repository, every blob of its history too.
	Git bool
	// Staged scans, for each PATH (a git work tree), only what is staged for the next commit.
	Staged bool
}

// MemoryBound is the most a scan holds in buffers, for the docs: each worker, and each
// goroutine scanning a member of a zip on disk (as many again), holds one chunk of text, and
// all of them together at most MaxBufferedTotal of nested zips.
func (o Options) MemoryBound() int64 {
	return 2*int64(o.workers())*(chunkSize+chunkOverlap) + o.Limits.MaxBufferedTotal
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Result is everything a scan found, in a deterministic order.
type Result struct {
	Findings []Finding
	Errors   []ScanError
	Files    int64 // files and archive members scanned
	Bytes    int64 // bytes scanned (decompressed)
}

// Scanner scans paths for keys. A Scanner is used for one scan.
type Scanner struct {
	opts Options
	mem  *semaphore.Weighted // bytes of nested zips held in memory, all workers together
	// memberSlots bounds the goroutines scanning members of zips on disk besides the workers.
	memberSlots *semaphore.Weighted
	verified    sync.Map // fingerprint -> result, shared with sub-scanners
	vshare      *sync.Map
	mu          sync.Mutex
	res         Result
	// nestedRepos are the folders below a PATH that hold a .git (a submodule, a vendored
	// clone), met by the walk under --git: their history is not the PATH's.
	nestedRepos []string
	bytes       atomic.Int64
	files       atomic.Int64
}

// New returns a Scanner.
func New(opts Options) *Scanner {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	return &Scanner{opts: opts, mem: semaphore.NewWeighted(opts.Limits.MaxBufferedTotal), memberSlots: semaphore.NewWeighted(int64(opts.workers()))}
}

// noteNestedRepo records dir, a folder below a PATH holding a .git, for --git to read its
// history once the walk is done.
func (s *Scanner) noteNestedRepo(dir string) {
	if !s.opts.Git {
		return
	}
	s.mu.Lock()
	s.nestedRepos = append(s.nestedRepos, dir)
	s.mu.Unlock()
}

func (s *Scanner) addFinding(f Finding) {
	s.mu.Lock()
	s.res.Findings = append(s.res.Findings, f)
	s.mu.Unlock()
}

func (s *Scanner) addError(path string, err error) {
	s.mu.Lock()
	s.res.Errors = append(s.res.Errors, ScanError{Path: path, Reason: reason(err)})
	s.mu.Unlock()
}

// reason is an error's text fit for one line, with the wrapping *PathError's path dropped
// (the record names the path already).
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return textsafe.Line(err.Error())
}

// Scan scans every path (a file, a folder, or "-" for stdin) and returns what it found.
func (s *Scanner) Scan(ctx context.Context, paths []string) Result {
	jobs := make(chan fileJob, 256)
	var wg sync.WaitGroup
	for range s.opts.workers() {
		wg.Go(func() {
			for j := range jobs {
				if ctx.Err() == nil {
					s.scanFile(ctx, j)
				}
				if j.dir != nil {
					j.dir.release()
				}
			}
		})
	}
	for _, root := range paths {
		if ctx.Err() != nil {
			break
		}
		if root == "-" {
			if s.opts.Stdin != nil {
				b := newBudget()
				in := s.opts.Stdin
				if f, ok := in.(*os.File); ok {
					if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
						in = &openedFile{file: f, left: info.Size(), size: info.Size()} // scan - < app.apk: read in place
					}
				}
				s.scanStream(ctx, "-", in, 0, b)
				s.flushPackage(ctx, b)
			}
			continue
		}
		if s.opts.Staged {
			s.ScanStaged(ctx, root)
			continue
		}
		s.walk(ctx, root, jobs)
		if s.opts.Git {
			if IsGitRepo(root) {
				s.ScanGitHistory(ctx, root)
			} else if top := gitTopLevel(ctx, root); top != "" {
				// Asked for history, given a folder inside a repository: silence would read
				// as "no key in history" when none of it was read.
				s.addError(root, fmt.Errorf("inside the git repository at %s; --git reads history only from a repository's top: history not scanned (pass that folder)", top))
			}
			// A submodule's history is its own repository's: the PATH's history holds only
			// the commit it points at, so a key committed there and removed was never read.
			s.mu.Lock()
			nested := s.nestedRepos
			s.nestedRepos = nil
			s.mu.Unlock()
			for _, dir := range nested {
				if ctx.Err() != nil {
					break
				}
				if err := nestedRepoRefusal(root, dir); err != nil {
					s.addError(dir, err)
					continue
				}
				if IsGitRepo(dir) {
					s.ScanGitHistory(ctx, dir)
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		s.addError("", err)
	}
	return s.Finish()
}

// Finish sorts what was found, drops duplicates, and returns it.
func (s *Scanner) Finish() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Commit != b.Commit {
			return a.Commit < b.Commit
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.offset != b.offset {
			return a.offset < b.offset
		}
		return a.Fingerprint < b.Fingerprint
	})
	out := r.Findings[:0]
	for i, f := range r.Findings {
		if i > 0 {
			p := r.Findings[i-1]
			if p.Commit == f.Commit && p.Path == f.Path && p.offset == f.offset && p.Fingerprint == f.Fingerprint {
				continue
			}
		}
		out = append(out, f)
	}
	r.Findings = out
	sort.SliceStable(r.Errors, func(i, j int) bool { return r.Errors[i].Path < r.Errors[j].Path })
	r.Files, r.Bytes = s.files.Load(), s.bytes.Load()
	return r
}

// fileJob is a file for a worker to scan: a PATH argument (a symlink followed), or a file met
// in a folder walk (a symlink refused, even one swapped in after the walk saw a file).
type fileJob struct {
	path string
	arg  bool
	// dir is the folder the file is opened from, held open by the walk (nil: by its path),
	// and name its name there. Fields, not closures: a walk hands out a job per file.
	dir  heldDir
	name string
}

// heldDir is a folder held open by a walk: its files are opened relative to it, and it is let
// go once each of its jobs is done, scanned or not.
type heldDir interface {
	openFile(name, path string) (randomAccessFile, int64, error)
	release()
}

func (s *Scanner) walk(ctx context.Context, root string, jobs chan<- fileJob) {
	info, err := os.Stat(root) // a PATH argument that is a symlink is followed, as grep -r does
	if err != nil {
		s.addError(root, err)
		return
	}
	if !info.IsDir() {
		jobs <- fileJob{path: root, arg: true}
		return
	}
	s.walkTree(ctx, root, jobs)
}

// asGiven spells a path found under root with root exactly as the user typed it, as grep -r
// does: WalkDir cleans it ("./src" becomes "src", "." disappears).
func asGiven(root, p string) string {
	clean := filepath.Clean(root)
	rel, err := filepath.Rel(clean, p)
	if err != nil || rel == "." {
		return root
	}
	if strings.HasSuffix(root, string(filepath.Separator)) {
		return root + rel
	}
	return root + string(filepath.Separator) + rel
}

func (s *Scanner) scanFile(ctx context.Context, j fileJob) {
	path, arg := j.path, j.arg
	var f randomAccessFile
	var size int64
	var err error
	if j.dir != nil {
		f, size, err = j.dir.openFile(j.name, path)
	} else {
		f, size, err = openNoFollow(path)
	}
	if err != nil {
		// A PATH argument may be a symlink to a file; anything met inside a folder is not.
		if arg && errors.Is(err, fsutil.ErrSymlink) {
			var of *os.File
			if of, err = fsutil.Open(ctx, path); err == nil {
				if info, serr := of.Stat(); serr != nil || !info.Mode().IsRegular() {
					of.Close()
					err = errors.New("not a regular file; not read")
				} else {
					f, size = of, info.Size()
				}
			}
		}
		if err != nil {
			s.addError(path, err)
			return
		}
	}
	defer f.Close()
	b := newBudget()
	// What the file held when opened: a log written faster than it is read would never end.
	s.scanStream(ctx, path, &openedFile{file: f, left: size, size: size}, 0, b)
	s.flushPackage(ctx, b)
}

// randomAccessFile is a file as a scan reads it: in order, or at offsets for a zip read in
// place.
type randomAccessFile interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// openedFile reads a file up to the size it had when opened. A zip is read in place from the
// file (random access), within that size.
type openedFile struct {
	file       randomAccessFile
	left, size int64
}

func (o *openedFile) Read(p []byte) (int, error) {
	if o.left <= 0 {
		return 0, io.EOF
	}
	n, err := o.file.Read(p[:min(int64(len(p)), o.left)])
	o.left -= int64(n)
	return n, err
}

// isFile reports whether r is a regular file opened for the scan, which a zip can be read
// from in place (stdin may be a pipe).
func isFile(r io.Reader) bool {
	_, ok := r.(*openedFile)
	return ok
}

func isZip(b []byte) bool {
	return len(b) >= 4 && b[0] == 'P' && b[1] == 'K' && (b[2] == 3 && b[3] == 4 || b[2] == 5 && b[3] == 6)
}

// maxGzipLayers bounds gzip inside gzip: each layer holds a reader and its buffers, and a few
// kilobytes of nested layers would otherwise take gigabytes.
const maxGzipLayers = 8

// gzipLayer is the content of a gzip stream, and how many gzip layers are around it.
type gzipLayer struct {
	io.Reader
	layers int
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

func isTar(b []byte) bool {
	return len(b) >= 262 && bytes.Equal(b[257:262], []byte("ustar"))
}

// archiveBudget counts the decompressed bytes one outermost archive has yielded.
type archiveBudget struct {
	pkg  *pkgState
	held int64 // bytes of nested zips held in memory by this goroutine
}

// pkgState is what the members of one outermost archive share, whichever goroutine scans them.
type pkgState struct {
	used atomic.Int64 // decompressed bytes read
	// capped is the first cap reached anywhere in the archive, nested ones included: it ends
	// the whole outermost archive, so a bomb of nested zips (42.zip) gives one error, not one
	// per inner zip.
	capped atomic.Pointer[errArchiveLimit]

	// A key in one member of a package and its name in another (an app's bundled key and its
	// config) are paired once the whole outermost archive has been read.
	mu      sync.Mutex
	names   []string
	unnamed []Finding
	keys    []heldKey
}

// newBudget returns the budget of a file's scan: one allocation, as every file has one.
func newBudget() *archiveBudget {
	both := new(struct {
		b archiveBudget
		p pkgState
	})
	both.b.pkg = &both.p
	return &both.b
}

// errArchiveLimit ends the scan of one archive.
type errArchiveLimit struct{ msg string }

func (e errArchiveLimit) Error() string { return e.msg }

// scanStream scans r, whatever it holds: an archive (by its content, not its name), gzip, or
// text. depth is the archive depth of r itself.
func (s *Scanner) scanStream(ctx context.Context, path string, r io.Reader, depth int, b *archiveBudget) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	head, _ := br.Peek(512)
	switch {
	case isGzip(head):
		cr := &countingReader{r: br}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			s.addError(path, fmt.Errorf("not a readable gzip stream: %w", err))
			return
		}
		layers := 1
		if g, ok := r.(*gzipLayer); ok {
			layers = g.layers + 1
		}
		if layers > maxGzipLayers {
			s.addError(path, fmt.Errorf("gzip inside gzip more than %d times: not unwrapped further (a decompression bomb?)", maxGzipLayers))
			return
		}
		lr := &limitReader{r: zr, counter: cr, b: b, limits: s.opts.Limits, what: path}
		// gzip is a layer, not an archive level; but layers are counted, each holding buffers.
		s.scanStream(ctx, path, &gzipLayer{Reader: lr, layers: layers}, depth, b)
		if lr.err != nil {
			s.addError(path, lr.err)
		}
		return
	case isZip(head) && depth+1 > s.opts.Limits.MaxArchiveDepth:
		s.addError(path, fmt.Errorf("archive nested deeper than %d levels; not opened", s.opts.Limits.MaxArchiveDepth))
		return
	case isZip(head) && depth == 0 && isFile(r):
		// A zip on disk is read in place: random access without holding it in memory.
		f := r.(*openedFile)
		zr, err := zip.NewReader(f.file, f.size)
		if err != nil {
			s.addError(path, fmt.Errorf("not a readable zip: %w", err))
			return
		}
		s.files.Add(1)
		if err := s.scanZip(ctx, path, zr, 1, b, true); err != nil {
			s.addError(path, err)
		}
		return
	case isZip(head):
		// Room for the largest nested zip is taken first, the unused part given back after
		// reading. A worker that holds none waits for room; one that holds some already (a
		// zip in a zip) must not wait, or two such workers could wait on each other.
		want := s.opts.Limits.MaxBuffered
		if b.held == 0 {
			if err := s.mem.Acquire(ctx, want); err != nil {
				s.addError(path, err)
				return
			}
		} else if !s.mem.TryAcquire(want) {
			s.addError(path, fmt.Errorf("nested zip not opened: the %s for archives in memory is in use (try --workers 1)", fsutil.FormatSize(s.opts.Limits.MaxBufferedTotal)))
			return
		}
		data, err := fsutil.ReadAll(br, "nested zip", s.opts.Limits.MaxBuffered)
		if err != nil {
			s.mem.Release(want)
			if !errors.As(err, new(errArchiveLimit)) {
				s.addError(path, err) // a cap is reported by the archive whose member reached it
			}
			return
		}
		s.mem.Release(want - int64(len(data)))
		b.held += int64(len(data))
		defer func() { b.held -= int64(len(data)); s.mem.Release(int64(len(data))) }()
		s.bytes.Add(int64(len(data)))
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			// Not a zip after all (a text file that starts "PK"): scan it as text.
			s.scanText(ctx, path, bytes.NewReader(data), depth, b)
			return
		}
		s.files.Add(1)
		if err := s.scanZip(ctx, path, zr, depth+1, b, false); err != nil {
			s.addError(path, err)
		}
		return
	case depth == 0 && s.opts.Limits.MaxArchiveDepth > 0 && !isZip(head) && !isTar(head) && s.scanZipBehind(ctx, path, r, br, b):
		// A self-extracting archive's members were scanned; its stub is scanned as text below.
	case isTar(head):
		if depth+1 > s.opts.Limits.MaxArchiveDepth {
			s.addError(path, fmt.Errorf("archive nested deeper than %d levels; not opened", s.opts.Limits.MaxArchiveDepth))
			return
		}
		s.files.Add(1)
		if err := s.scanTar(ctx, path, tar.NewReader(br), depth+1, b); err != nil {
			s.addError(path, err)
		}
		return
	}
	s.scanText(ctx, path, br, depth, b)
}

// eocdLen is the size of a zip's end-of-central-directory record, without its comment.
const eocdLen = 22

// maxEOCDComment is the longest comment after a zip's end record that is looked behind for it.
// A zip's own comment may be 64 KiB, but a self-extracting archive's is short or absent, and
// every file of a scan has its end read for this.
const maxEOCDComment = 1 << 10

// zipEndIn reports whether tail, the end of a file, ends with a zip's end-of-central-directory
// record (and a comment of the length the record gives).
func zipEndIn(tail []byte) bool {
	// Every file's last kilobyte is looked at: bytes.Index (SIMD) rather than a loop over each
	// byte, most of which are not 'P'. Any record that fits will do, so forwards is as good.
	for i := 0; i+eocdLen <= len(tail); {
		k := bytes.Index(tail[i:len(tail)-eocdLen+len(eocdSig)], eocdSig)
		if k < 0 {
			return false
		}
		i += k
		if int(binary.LittleEndian.Uint16(tail[i+20:])) == len(tail)-i-eocdLen {
			return true
		}
		i++
	}
	return false
}

// eocdSig starts a zip's end-of-central-directory record.
var eocdSig = []byte("PK\x05\x06")

// scanZipBehind scans the members of a zip that starts after other bytes (a self-extracting
// archive: a shell script or a program with a zip appended), found by the record at its end
// as unzip finds it. It reports whether there was one; the file is then still to be scanned
// as text (its stub), from br, which nothing here reads.
func (s *Scanner) scanZipBehind(ctx context.Context, path string, r io.Reader, br *bufio.Reader, b *archiveBudget) bool {
	var (
		ra   io.ReaderAt
		size int64
	)
	if all, err := br.Peek(br.Size()); err == io.EOF {
		// The whole file is in the buffer already.
		if len(all) < eocdLen || !zipEndIn(all[max(0, len(all)-eocdLen-maxEOCDComment):]) {
			return false
		}
		ra, size = bytes.NewReader(all), int64(len(all))
	} else if isFile(r) {
		of := r.(*openedFile)
		f := of.file
		size = of.size
		var tail [eocdLen + maxEOCDComment]byte
		n := min(size, int64(len(tail)))
		if _, err := f.ReadAt(tail[:n], size-n); err != nil || !zipEndIn(tail[:n]) {
			return false
		}
		ra = f
	} else {
		return false
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return false // text that happens to end like a zip
	}
	s.files.Add(1)
	if err := s.scanZip(ctx, path, zr, 1, b, isFile(r)); err != nil {
		s.addError(path, err)
	}
	return true
}

// scanZip scans a zip's members. Those of a zip read in place from disk (parallel) are handed
// to other goroutines while member slots are free (as many as workers, for the whole scan);
// the rest, and those of nested zips, are scanned in this one.
func (s *Scanner) scanZip(ctx context.Context, path string, zr *zip.Reader, depth int, b *archiveBudget, parallel bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		bomb error // the first cap reached ends the whole archive
	)
	one := func(m *zip.File, name string, mb *archiveBudget) {
		rc, counter, err := openMember(m)
		if err != nil {
			s.addError(name, err)
			return
		}
		defer rc.Close()
		lr := &limitReader{r: rc, counter: counter, b: mb, limits: s.opts.Limits, what: name}
		s.scanStream(ctx, name, lr, depth, mb)
		if lr.err != nil {
			mu.Lock()
			if bomb == nil {
				bomb = lr.err
			}
			mu.Unlock()
			cancel()
		}
	}
	for _, m := range zr.File {
		if ctx.Err() != nil || b.pkg.capped.Load() != nil {
			break
		}
		if m.FileInfo().IsDir() || !m.Mode().IsRegular() && m.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		name := path + "!" + escapeName(m.Name)
		if parallel && s.memberSlots.TryAcquire(1) {
			wg.Go(func() {
				defer s.memberSlots.Release(1)
				one(m, name, &archiveBudget{pkg: b.pkg})
			})
			continue
		}
		one(m, name, b)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if bomb != nil {
		return bomb
	}
	return context.Cause(ctx)
}

// openMember opens a zip member for reading, counting the compressed bytes really read: the
// ratio cap must not trust the sizes the archive declares (a bomb can claim a compressed size
// as large as its output). Stored and deflated members, which is what zip, apk, ipa and jar
// hold, are decompressed here; any other method is refused.
func openMember(m *zip.File) (io.ReadCloser, *countingReader, error) {
	raw, err := m.OpenRaw()
	if err != nil {
		return nil, nil, err
	}
	counter := &countingReader{r: raw}
	switch m.Method {
	case zip.Store:
		return io.NopCloser(counter), counter, nil
	case zip.Deflate:
		return flate.NewReader(counter), counter, nil
	}
	return nil, nil, fmt.Errorf("compression method %d not supported; not scanned", m.Method)
}

func (s *Scanner) scanTar(ctx context.Context, path string, tr *tar.Reader, depth int, b *archiveBudget) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if b.pkg.capped.Load() != nil {
			return nil // a cap reached in a nested archive, reported there
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar archive unreadable: %w", err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		name := path + "!" + escapeName(h.Name)
		lr := &limitReader{r: tr, b: b, limits: s.opts.Limits, what: name}
		s.scanStream(ctx, name, lr, depth, b)
		if lr.err != nil {
			return lr.err
		}
	}
}

// limitReader enforces an archive's caps on one member: total decompressed bytes, and the
// compression ratio (when the compressed size is known).
type limitReader struct {
	r       io.Reader
	counter *countingReader // the compressed input as really read, for the ratio cap
	n       int64
	b       *archiveBudget
	limits  Limits
	what    string
	err     error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if c := l.b.pkg.capped.Load(); c != nil {
		return 0, *c // reached by another member: reported there
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	used := l.b.pkg.used.Add(int64(n))
	var compressed int64
	if l.counter != nil {
		compressed = l.counter.n
	}
	switch {
	case used > l.limits.MaxArchiveBytes:
		l.err = errArchiveLimit{fmt.Sprintf("archive yields more than %s decompressed; the rest of it is not scanned (a zip bomb?)", fsutil.FormatSize(l.limits.MaxArchiveBytes))}
	case compressed > 0 && l.n > ratioFloor && l.n/compressed > l.limits.MaxRatio:
		l.err = errArchiveLimit{fmt.Sprintf("member %s expands more than %d:1; the rest of the archive is not scanned (a zip bomb?)", l.what, l.limits.MaxRatio)}
	}
	if l.err != nil {
		if !l.b.pkg.capped.CompareAndSwap(nil, &errArchiveLimit{l.err.Error()}) {
			// Another member, scanned at the same time, reached a cap first and reports it:
			// this one stops as if it had seen that cap (one error per outermost archive).
			l.err = nil
			return n, *l.b.pkg.capped.Load()
		}
		return n, l.err
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// escapeName makes an archive member's name safe to print and unambiguous after '!': control
// characters, invalid UTF-8 and bidirectional controls are escaped Go-style, and so is '!'.
func escapeName(name string) string {
	if utf8.ValidString(name) && textsafe.Safe(name) && !strings.ContainsAny(name, "!\\") {
		return name
	}
	q := strconv.QuoteToGraphic(name)
	q = q[1 : len(q)-1]
	for _, r := range q {
		if textsafe.Unsafe(r) {
			q = strconv.QuoteToASCII(name)
			q = q[1 : len(q)-1]
			break
		}
	}
	return strings.ReplaceAll(q, "!", `\x21`)
}

// chunkPool holds the chunk buffers, one per worker in use: allocating (and zeroing) 4 MiB
// for each of thousands of small files would cost more than scanning them.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize+chunkOverlap); return &b }}

// readerPool holds the bufio.Readers that sniff each file's first bytes.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// scanText scans r as text, chunk by chunk.
func (s *Scanner) scanText(ctx context.Context, path string, r io.Reader, depth int, b *archiveBudget) {
	s.files.Add(1)
	if s.opts.Progress != nil {
		s.opts.Progress(s.files.Load())
	}
	var buf []byte
	whole := false
	if br, ok := r.(*bufio.Reader); ok {
		if all, err := br.Peek(br.Size()); err == io.EOF {
			// All that is left is in the reader's buffer already (most source files): it is
			// scanned there, not copied into a chunk first.
			buf, whole = all, true
		}
	}
	if !whole {
		bp := chunkPool.Get().(*[]byte)
		defer chunkPool.Put(bp)
		buf = (*bp)[:0]
	}
	base, line := 0, 1 // offset and line of buf[0] in the file
	var names []string
	var pending []Finding       // findings without a name yet
	var keys []heldKey          // the key of each pending finding, for Verify
	var layered map[string]bool // fingerprints of the keys found in a layer (UTF-16, base64)
	for {
		if ctx.Err() != nil {
			return
		}
		n, err := len(buf), error(io.EOF)
		if !whole {
			n, err = io.ReadFull(r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		s.bytes.Add(int64(n))
		final := err != nil
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			var le errArchiveLimit
			if !errors.As(err, &le) {
				s.addError(path, err)
			}
		}
		det := Detect(buf, s.opts.OtherKeys)
		names = appendNew(names, det.Names...)
		allow := allowedKeys(buf, det.Keys)
		for i, m := range det.Keys {
			if !final && m.Offset >= chunkSize {
				continue // seen whole in the next chunk
			}
			if base > 0 && m.Offset < chunkLookBack && (m.Encoding == "" || layered[m.Fingerprint]) {
				// Reported from the chunk before. A key found in a layer is placed where the
				// layer starts, the chunk's start for UTF-16 text, wherever in it the key is:
				// the chunk before saw it only if it reported it.
				continue
			}
			if m.Encoding != "" {
				if layered == nil {
					layered = map[string]bool{}
				}
				layered[m.Fingerprint] = true
			}
			if allow[i] {
				f := s.finding(path, base, line, m)
				f.Suppressed = "allow comment"
				pending, keys = append(pending, f), append(keys, m.key)
				continue
			}
			pending, keys = append(pending, s.finding(path, base, line, m)), append(keys, m.key)
		}
		if final {
			break
		}
		const step = chunkSize - chunkLookBack
		line += bytes.Count(buf[:step], []byte{'\n'})
		base += step
		copy(buf, buf[step:])
		buf = buf[:len(buf)-step]
	}
	if depth > 0 {
		b.pkg.mu.Lock()
		b.pkg.names = appendNew(b.pkg.names, names...)
		b.pkg.mu.Unlock()
	}
	for i, f := range pending {
		if f.KeyName == "" && len(names) > 0 {
			f.KeyName = pairName(names, f.Kind)
		}
		if f.KeyName == "" && depth > 0 {
			b.pkg.mu.Lock()
			b.pkg.unnamed, b.pkg.keys = append(b.pkg.unnamed, f), append(b.pkg.keys, keys[i])
			b.pkg.mu.Unlock()
			continue
		}
		s.report(ctx, f, keys[i])
	}
}

// report records a finding, verified first when asked.
func (s *Scanner) report(ctx context.Context, f Finding, k heldKey) {
	if s.opts.Verify != nil {
		f.Verified = s.verify(ctx, f, k)
	}
	s.addFinding(f)
}

// flushPackage reports the keys of an outermost archive that had no name in their own member,
// paired with a name from any other member.
func (s *Scanner) flushPackage(ctx context.Context, b *archiveBudget) {
	p := b.pkg
	p.mu.Lock()
	defer p.mu.Unlock()
	sort.Strings(p.names) // members may have been scanned in any order
	for i, f := range p.unnamed {
		if len(p.names) > 0 {
			f.KeyName = pairName(p.names, f.Kind)
		}
		s.report(ctx, f, p.keys[i])
	}
	p.unnamed, p.keys, p.names = nil, nil, nil
}

// verify asks Options.Verify about a key once per fingerprint.
func (s *Scanner) verify(ctx context.Context, f Finding, k heldKey) string {
	if f.KeyName == "" {
		return "not checked: no key name found with it"
	}
	if f.Kind == KindOtherPrivateKey {
		return "not checked: not a WaaS or CDP key"
	}
	m := &s.verified
	if s.vshare != nil {
		m = s.vshare
	}
	if v, ok := m.Load(f.Fingerprint + "\x00" + f.KeyName); ok {
		return v.(string)
	}
	v := s.opts.Verify(ctx, f.KeyName, k.signer())
	m.Store(f.Fingerprint+"\x00"+f.KeyName, v)
	return v
}

func (s *Scanner) finding(path string, base, line int, m Match) Finding {
	return Finding{
		Path: path, Line: line + m.Line - 1, Kind: m.Kind, KeyName: m.KeyName,
		Fingerprint: m.Fingerprint, Redacted: m.Redacted, Encoding: m.Encoding,
		offset: base + m.Offset,
	}
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		found := false
		for _, l := range list {
			if l == m {
				found = true
				break
			}
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

// pairName picks a name found elsewhere in the same file: a legacy name for an ECDSA key, a
// key id for an Ed25519 one, when there is one of that form.
func pairName(names []string, kind string) string {
	wantLegacy := kind != KindCDPEd25519
	for _, n := range names {
		if strings.HasPrefix(n, "organizations/") == wantLegacy {
			return n
		}
	}
	return names[0]
}

// AllowMarker suppresses one finding: see allowedKeys.
const AllowMarker = "waasctl:allow"

// allowedKeys says which of keys (sorted by offset) an AllowMarker in buf allows. Each marker
// allows one key: the first that starts after it on its line; else the last that starts
// before it on its line (a trailing comment); else, when its line holds none, the first that
// starts on the next line (a comment line above a key). On a minified line of a megabyte that
// holds many keys, a marker allows only the one written next to it, not the whole line.
func allowedKeys(buf []byte, keys []Match) []bool {
	out := make([]bool, len(keys))
	if len(keys) == 0 {
		return out
	}
	marker := []byte(AllowMarker)
	lineEnd := func(from int) int {
		if e := bytes.IndexByte(buf[from:], '\n'); e >= 0 {
			return from + e
		}
		return len(buf)
	}
	for i := 0; i < len(buf); {
		k := bytes.Index(buf[i:], marker)
		if k < 0 {
			break
		}
		p := i + k
		i = p + len(marker)
		start, end := bytes.LastIndexByte(buf[:p], '\n')+1, lineEnd(p)
		pick := -1
		for j, m := range keys {
			if m.Offset >= p && m.Offset < end {
				pick = j
				break
			}
		}
		for j := len(keys) - 1; pick < 0 && j >= 0; j-- {
			if keys[j].Offset >= start && keys[j].Offset < p {
				pick = j
			}
		}
		if pick < 0 && end < len(buf) {
			next := lineEnd(end + 1)
			for j, m := range keys {
				if m.Offset > end && m.Offset < next {
					pick = j
					break
				}
			}
		}
		if pick >= 0 {
			out[pick] = true
		}
	}
	return out
}
