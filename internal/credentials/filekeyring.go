package credentials

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/keyring"
	josecipher "github.com/go-jose/go-jose/v4/cipher"
	"github.com/mtibben/percent"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// The file backend is waasctl's own, in place of 99designs/keyring's: that
// one derives each item's key with a fixed 8192 PBKDF2 iterations, cheap to
// brute-force once the folder sits in a CI cache, and derives with whatever
// count an item's header asks for, so an edited header of 2e9 iterations
// spins until the call times out.
//
// The format stays the one 99designs/keyring reads and writes: one file per
// item, named by filenameEscape, holding a compact JWE
// (PBES2-HS256+A128KW key wrapping, A256GCM content encryption) of the
// item's JSON. Existing folders keep working, and items written here can
// still be read by older waasctl versions and by any JOSE library.
const (
	fileKeyAlg     = "PBES2-HS256+A128KW"
	fileContentEnc = "A256GCM"
	// fileKDFIterations is the PBKDF2-HMAC-SHA256 iteration count of new
	// items: OWASP's figure for PBKDF2-HMAC-SHA256 (2023). One derivation
	// takes about 0.15 s of CPU on a CPU with SHA extensions.
	fileKDFIterations = 600_000
	// MinFileKDFIterations and maxFileKDFIterations bound the count a file
	// may ask for. The minimum is RFC 7518's (section 4.8.1.2); 99designs/
	// keyring wrote 8192. The maximum is 8 times the current cost, room to
	// raise it later, and derives in about 1.2 s on a CPU with SHA
	// extensions (3-4 s without): well inside the keyring timeout.
	MinFileKDFIterations = 1000
	maxFileKDFIterations = 5_000_000

	fileSaltBytes = 16
	// maxItemFileBytes bounds what is read of an item file. An item holds
	// three keys and is a few kilobytes.
	maxItemFileBytes = 1 << 20
)

// fileKDFCost is the iteration count new items get: fileKDFIterations except
// in tests (SetFileKDFCostForTesting).
var fileKDFCost atomic.Int64

func init() { fileKDFCost.Store(fileKDFIterations) }

// SetFileKDFCostForTesting makes the file backend write new items with
// iterations PBKDF2 iterations instead of 600,000, and returns a function
// that restores the previous count. For tests only: the test suites run
// hundreds of waasctl commands, each deriving a key. waasctl itself never
// calls it, and no flag or environment variable reaches it.
func SetFileKDFCostForTesting(iterations int) (restore func()) {
	if iterations < MinFileKDFIterations || iterations > maxFileKDFIterations {
		panic(fmt.Sprintf("SetFileKDFCostForTesting(%d): outside %d..%d", iterations, MinFileKDFIterations, maxFileKDFIterations))
	}
	old := fileKDFCost.Swap(int64(iterations))
	return func() { fileKDFCost.Store(old) }
}

func filenameEscape(key string) string    { return percent.Encode(key, "/") }
func filenameUnescape(name string) string { return percent.Decode(name) }

// itemFileError reports an item file that waasctl refuses to decrypt
// because its header is out of bounds or malformed: checked before any key
// derivation, so a planted header fails at once instead of at the timeout.
type itemFileError struct {
	Path    string
	Problem string
}

func (e *itemFileError) Error() string {
	return fmt.Sprintf("keyring backend file: %s: %s; waasctl never writes that, so the file was altered or damaged: restore it from a backup, or delete it and add the key again", e.Path, e.Problem)
}

// errFileDecrypt is a wrong passphrase or a damaged file: the two cannot be
// told apart. keyringStore.wrap turns it into a message that says both.
var errFileDecrypt = errors.New("cannot decrypt: wrong passphrase or damaged file")

// derivedKey is a key-encryption key and the header values it came from.
type derivedKey struct {
	p2c int
	p2s []byte // the salt input, without the algorithm prefix
	kek []byte
}

// kdfCache holds the keys this process derived, by passphrase (its
// SHA-256: a process may open stores with different ones), cost and salt,
// so that reading an item it
// wrote or read before costs no second derivation, and the keys it writes
// with: one fresh salt per process and passphrase, not per write, so that a
// rotation's several writes derive once. All items of a folder share the
// passphrase, so a salt shared between some of them gives an attacker
// nothing: cracking any one item opens them all anyway.
var kdfCache struct {
	sync.Mutex
	derived map[string]*derivedKey // by cacheID
	write   map[[sha256.Size]byte]*derivedKey
}

func cacheID(pass [sha256.Size]byte, p2c int, p2s []byte) string {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(p2c))
	return string(pass[:]) + string(n[:]) + string(p2s)
}

// derive is PBKDF2-HMAC-SHA256 to a 128-bit key; tests wrap it to count.
var derive = func(passphrase string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, passphrase, salt, iterations, 16)
}

func deriveKEK(passphrase string, p2c int, p2s []byte) (*derivedKey, error) {
	pass := sha256.Sum256([]byte(passphrase))
	id := cacheID(pass, p2c, p2s)
	kdfCache.Lock()
	dk := kdfCache.derived[id]
	kdfCache.Unlock()
	if dk != nil {
		return dk, nil
	}
	// RFC 7518 4.8.1.1: the salt is the algorithm's name, a zero byte and p2s.
	salt := append(append([]byte(fileKeyAlg), 0), p2s...)
	kek, err := derive(passphrase, salt, p2c)
	if err != nil {
		return nil, err
	}
	dk = &derivedKey{p2c: p2c, p2s: bytes.Clone(p2s), kek: kek}
	kdfCache.Lock()
	if kdfCache.derived == nil {
		kdfCache.derived = map[string]*derivedKey{}
	}
	kdfCache.derived[id] = dk
	kdfCache.Unlock()
	return dk, nil
}

// writeKEK returns the key this process writes with, at the current cost.
func writeKEK(passphrase string) (*derivedKey, error) {
	pass := sha256.Sum256([]byte(passphrase))
	cost := int(fileKDFCost.Load())
	kdfCache.Lock()
	dk := kdfCache.write[pass]
	kdfCache.Unlock()
	if dk != nil && dk.p2c == cost {
		return dk, nil
	}
	p2s := make([]byte, fileSaltBytes)
	if _, err := rand.Read(p2s); err != nil {
		return nil, err
	}
	dk, err := deriveKEK(passphrase, cost, p2s)
	if err != nil {
		return nil, err
	}
	kdfCache.Lock()
	if kdfCache.write == nil {
		kdfCache.write = map[[sha256.Size]byte]*derivedKey{}
	}
	kdfCache.write[pass] = dk
	kdfCache.Unlock()
	return dk, nil
}

// jweHeader is the protected header of an item file. Other members (the
// "created" that 99designs/keyring added) are ignored; "zip" and "crit"
// are refused, because waasctl never writes them.
type jweHeader struct {
	Alg  string          `json:"alg"`
	Enc  string          `json:"enc"`
	P2C  json.RawMessage `json:"p2c,omitempty"`
	P2S  string          `json:"p2s"`
	Zip  *string         `json:"zip,omitempty"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

var b64 = base64.RawURLEncoding

// sealItem encrypts plaintext as a compact JWE with the process's write key.
func sealItem(passphrase string, plaintext []byte) ([]byte, error) {
	dk, err := writeKEK(passphrase)
	if err != nil {
		return nil, err
	}
	hdr, err := json.Marshal(jweHeader{Alg: fileKeyAlg, Enc: fileContentEnc, P2C: json.RawMessage(strconv.Itoa(dk.p2c)), P2S: b64.EncodeToString(dk.p2s)})
	if err != nil {
		return nil, err
	}
	cek := make([]byte, 32)
	iv := make([]byte, 12)
	if _, err := rand.Read(cek); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	kw, err := aes.NewCipher(dk.kek)
	if err != nil {
		return nil, err
	}
	wrapped, err := josecipher.KeyWrap(kw, cek)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	protected := b64.EncodeToString(hdr)
	sealed := gcm.Seal(nil, iv, plaintext, []byte(protected))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return []byte(strings.Join([]string{protected, b64.EncodeToString(wrapped), b64.EncodeToString(iv), b64.EncodeToString(ct), b64.EncodeToString(tag)}, ".")), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// parsedItem is an item file whose header passed the checks.
type parsedItem struct {
	p2c                  int
	p2s                  []byte
	protected            string // as in the file: it is the AEAD's associated data
	wrapped, iv, ct, tag []byte
}

// parseItemFile checks an item file's structure and header, deriving
// nothing. Errors are *itemFileError naming path.
func parseItemFile(path string, data []byte) (*parsedItem, error) {
	bad := func(format string, args ...any) error {
		return &itemFileError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	parts := strings.Split(strings.TrimSpace(string(data)), ".")
	if len(parts) != 5 {
		return nil, bad("not a compact JWE (%d dot-separated parts, want 5)", len(parts))
	}
	raw := make([][]byte, 5)
	for i, p := range parts {
		b, err := b64.DecodeString(p)
		if err != nil {
			return nil, bad("part %d is not base64url", i+1)
		}
		raw[i] = b
	}
	var h jweHeader
	if err := json.Unmarshal(raw[0], &h); err != nil {
		return nil, bad("its header is not JSON")
	}
	switch {
	case h.Alg != fileKeyAlg:
		return nil, bad("key algorithm %q, want %s", h.Alg, fileKeyAlg)
	case h.Enc != fileContentEnc:
		return nil, bad("content encryption %q, want %s", h.Enc, fileContentEnc)
	case h.Zip != nil:
		return nil, bad("compressed (zip %q); waasctl does not compress", *h.Zip)
	case len(h.Crit) > 0:
		return nil, bad("its header has critical extensions (crit)")
	}
	p2c, err := strconv.ParseFloat(string(h.P2C), 64)
	if err != nil {
		return nil, bad("its key-derivation cost p2c is missing or not a number")
	}
	if p2c < MinFileKDFIterations || p2c > maxFileKDFIterations {
		return nil, bad("its key-derivation cost p2c %s is outside the accepted %d..%d iterations", strconv.FormatFloat(p2c, 'g', 12, 64), MinFileKDFIterations, maxFileKDFIterations)
	}
	if p2c != float64(int(p2c)) {
		return nil, bad("its key-derivation cost p2c %s is not a whole number", strconv.FormatFloat(p2c, 'g', 12, 64))
	}
	p2s, err := b64.DecodeString(h.P2S)
	if err != nil || len(p2s) < 8 || len(p2s) > 64 {
		return nil, bad("its salt p2s is not 8 to 64 bytes of base64url")
	}
	// A256GCM: a wrapped 256-bit key (40 bytes), a 96-bit IV, a 128-bit tag.
	if len(raw[1]) != 40 || len(raw[2]) != 12 || len(raw[4]) != 16 {
		return nil, bad("its wrapped key, IV or tag has the wrong length for %s", fileContentEnc)
	}
	return &parsedItem{p2c: int(p2c), p2s: p2s, protected: parts[0], wrapped: raw[1], iv: raw[2], ct: raw[3], tag: raw[4]}, nil
}

// openItem decrypts a parsed item file: errFileDecrypt if the passphrase
// is wrong or the file damaged.
func openItem(passphrase string, it *parsedItem) ([]byte, error) {
	dk, err := deriveKEK(passphrase, it.p2c, it.p2s)
	if err != nil {
		return nil, err
	}
	kw, err := aes.NewCipher(dk.kek)
	if err != nil {
		return nil, err
	}
	cek, err := josecipher.KeyUnwrap(kw, it.wrapped)
	if err != nil {
		return nil, errFileDecrypt
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, errFileDecrypt
	}
	plain, err := gcm.Open(nil, it.iv, append(bytes.Clone(it.ct), it.tag...), []byte(it.protected))
	if err != nil {
		return nil, errFileDecrypt
	}
	return plain, nil
}

// fileKeyring implements keyring.Keyring over a folder of item files.
type fileKeyring struct {
	dir        string
	passphrase func() (string, error) // fileBackend.getPassphrase: asks once, refuses ""
}

var _ keyring.Keyring = (*fileKeyring)(nil)

func (k *fileKeyring) path(key string) string { return filepath.Join(k.dir, filenameEscape(key)) }

func (k *fileKeyring) Get(key string) (keyring.Item, error) {
	path := k.path(key)
	data, err := readItemFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return keyring.Item{}, keyring.ErrKeyNotFound
	} else if err != nil {
		return keyring.Item{}, err
	}
	parsed, err := parseItemFile(path, data)
	if err != nil {
		return keyring.Item{}, err
	}
	pass, err := k.passphrase()
	if err != nil {
		return keyring.Item{}, err
	}
	plain, err := openItem(pass, parsed)
	if err != nil {
		return keyring.Item{}, err
	}
	var item keyring.Item
	if err := json.Unmarshal(plain, &item); err != nil {
		return keyring.Item{}, &itemFileError{Path: path, Problem: "it decrypts, but not to a keyring item"}
	}
	return item, nil
}

func readItemFile(path string) ([]byte, error) {
	// Never through a link, and never a FIFO or device planted in the folder.
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := fsutil.ReadAll(f, path, maxItemFileBytes)
	if errors.Is(err, fsutil.ErrTooLarge) {
		return nil, &itemFileError{Path: path, Problem: fmt.Sprintf("larger than %d bytes", maxItemFileBytes)}
	}
	return data, err
}

func (k *fileKeyring) GetMetadata(key string) (keyring.Metadata, error) {
	fi, err := os.Stat(k.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return keyring.Metadata{}, keyring.ErrKeyNotFound
	} else if err != nil {
		return keyring.Metadata{}, err
	}
	// Everything in the file is encrypted: only the time is known.
	return keyring.Metadata{ModificationTime: fi.ModTime()}, nil
}

// Set writes the item at the current cost, atomically (written beside the
// file, fsynced, renamed over it), mode 0600. An item stored at an older,
// lower cost is thereby upgraded on its next write.
func (k *fileKeyring) Set(item keyring.Item) error {
	plain, err := json.Marshal(item)
	if err != nil {
		return err
	}
	pass, err := k.passphrase()
	if err != nil {
		return err
	}
	token, err := sealItem(pass, plain)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(k.path(item.Key), token, 0o600)
}

func (k *fileKeyring) Remove(key string) error {
	if err := os.Remove(k.path(key)); err != nil {
		return err
	}
	syncDir(k.dir)
	return nil
}

// Keys lists the items in the folder. Dot files are skipped: they are
// fsutil's half-written temporary files (left only by a crash).
func (k *fileKeyring) Keys() ([]string, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, err
	}
	keys := []string{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		keys = append(keys, filenameUnescape(e.Name()))
	}
	return keys, nil
}
