package credentials

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/keyring"
	"github.com/waasctl/waasctl/internal/testctx"
)

// owaspPBKDF2SHA256 is OWASP's minimum iteration count for PBKDF2-HMAC-SHA256.
const owaspPBKDF2SHA256 = 600_000

// itemHeader returns the protected header of the item file at path.
func itemHeader(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	protected, _, _ := strings.Cut(string(data), ".")
	raw, err := base64.RawURLEncoding.DecodeString(protected)
	if err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	return h
}

func headerP2C(t *testing.T, path string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal(itemHeader(t, path)["p2c"], &n); err != nil {
		t.Fatalf("%s: p2c: %v", path, err)
	}
	return n
}

// editHeader rewrites the protected header of the item file at path, as
// someone with write access to a cached keyring folder could.
func editHeader(t *testing.T, path string, edit func(h map[string]json.RawMessage)) {
	t.Helper()
	h := itemHeader(t, path)
	edit(h)
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), ".")
	if err := os.WriteFile(path, []byte(base64.RawURLEncoding.EncodeToString(raw)+"."+rest), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeLegacyItem stores item the way waasctl did before it had its own
// file backend: with 99designs/keyring's, which derives with 8192 PBKDF2
// iterations.
func writeLegacyItem(t *testing.T, dir, passphrase string, item *Item) {
	t.Helper()
	ring, err := keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: func(string) (string, error) { return passphrase, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	it, err := prepareItem(item)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encodeItem(it)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Set(keyring.Item{Key: itemKey(item.Profile), Data: data}); err != nil {
		t.Fatal(err)
	}
}

// withRealFileKDFCost undoes, for one test, TestMain's lowering of the
// cost that new items are written at.
func withRealFileKDFCost(t *testing.T) {
	t.Cleanup(SetFileKDFCostForTesting(fileKDFIterations))
}

// countDerivations counts the PBKDF2 runs from now to the end of the test.
func countDerivations(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	orig := derive
	derive = func(passphrase string, salt []byte, iterations int) ([]byte, error) {
		n.Add(1)
		return orig(passphrase, salt, iterations)
	}
	t.Cleanup(func() { derive = orig })
	return &n
}

func TestFileItemsAreWrittenAtTheCurrentCost(t *testing.T) {
	withRealFileKDFCost(t)
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(testctx.New(t), &Item{Profile: "p", Current: storeKey(t, 0, "k")}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, keyPrefix+"p")
	h := itemHeader(t, path)
	if got := headerP2C(t, path); got < owaspPBKDF2SHA256 {
		t.Errorf("new item derives its key with p2c %d PBKDF2 iterations, want at least %d", got, owaspPBKDF2SHA256)
	}
	if string(h["alg"]) != `"PBES2-HS256+A128KW"` || string(h["enc"]) != `"A256GCM"` {
		t.Errorf("header %s %s, want the JWE algorithms older versions read", h["alg"], h["enc"])
	}
	var salt string
	if err := json.Unmarshal(h["p2s"], &salt); err != nil {
		t.Fatal(err)
	}
	if b, err := base64.RawURLEncoding.DecodeString(salt); err != nil || len(b) < 16 {
		t.Errorf("salt p2s %q: want 16 bytes or more", salt)
	}
}

func TestLegacyFileItemIsReadAndUpgradedOnWrite(t *testing.T) {
	withRealFileKDFCost(t)
	ctx := testctx.New(t)
	dir := t.TempDir()
	k := storeKey(t, 0, "k")
	writeLegacyItem(t, dir, testPassphrase, &Item{Profile: "old", Current: k})
	path := filepath.Join(dir, keyPrefix+"old")
	if got := headerP2C(t, path); got != 8192 {
		t.Fatalf("the legacy writer used p2c %d, want 8192", got)
	}
	if runtime.GOOS != "windows" {
		// A file left more open by hand is tightened by the upgrade.
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s := openFileStore(t, dir, testPassphrase)
	it, err := s.Get(ctx, "old")
	if err != nil {
		t.Fatalf("reading a legacy item: %v", err)
	}
	if it.Current == nil || it.Current.Fingerprint != k.Fingerprint {
		t.Fatalf("legacy item read as %+v", it.Current)
	}
	if got := headerP2C(t, path); got != 8192 {
		t.Errorf("a read rewrote the item (p2c %d): upgrades happen on write only", got)
	}

	it.Pending = storeKey(t, 1, "k2")
	if err := s.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	if got := headerP2C(t, path); got < owaspPBKDF2SHA256 {
		t.Errorf("after a write the item still derives with p2c %d, want at least %d", got, owaspPBKDF2SHA256)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("upgraded item mode %v, want 0600", fi.Mode().Perm())
		}
	}
	again, err := openFileStore(t, dir, testPassphrase).Get(ctx, "old")
	if err != nil || again.Pending == nil || again.Pending.Fingerprint != it.Pending.Fingerprint {
		t.Fatalf("after the upgrade: %+v, %v", again, err)
	}
}

// An older waasctl (99designs/keyring's file backend) still reads what this
// one writes: going back a version does not lose the keys.
func TestNewFileItemsReadByTheLegacyBackend(t *testing.T) {
	dir := t.TempDir()
	k := storeKey(t, 0, "k")
	if err := openFileStore(t, dir, testPassphrase).Put(testctx.New(t), &Item{Profile: "p", Current: k}); err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: func(string) (string, error) { return testPassphrase, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ring.Get(itemKey("p"))
	if err != nil {
		t.Fatalf("the legacy backend cannot read a new item: %v", err)
	}
	it, err := decodeItem(got.Data, "p", "file")
	if err != nil || it.Current.Fingerprint != k.Fingerprint {
		t.Fatalf("legacy read: %+v, %v", it, err)
	}
}

// A header that asks for an absurd key derivation (p2c 2e9 would spin for
// minutes) or anything waasctl does not write is refused before deriving:
// the error names the file and the bound, on one line, and comes back
// although the store's timeout is an hour.
func TestFileItemHeaderOutOfBoundsIsRefusedBeforeDeriving(t *testing.T) {
	cases := []struct {
		name  string
		field string
		value string // raw JSON; "" deletes the field
		want  string
	}{
		{"p2c 2e9", "p2c", `2e9`, "p2c 2000000000 is outside the accepted 1000..5000000 iterations"},
		{"p2c 2000000000", "p2c", `2000000000`, "p2c 2000000000 is outside the accepted 1000..5000000 iterations"},
		{"p2c 1e300", "p2c", `1e300`, "is outside the accepted 1000..5000000 iterations"},
		{"p2c 5000001", "p2c", `5000001`, "p2c 5000001 is outside the accepted 1000..5000000 iterations"},
		{"p2c 1", "p2c", `1`, "p2c 1 is outside the accepted 1000..5000000 iterations"},
		{"p2c negative", "p2c", `-8192`, "is outside the accepted 1000..5000000 iterations"},
		{"p2c fraction", "p2c", `8192.5`, "p2c 8192.5 is not a whole number"},
		{"p2c a string", "p2c", `"600000"`, "p2c is missing or not a number"},
		{"p2c missing", "p2c", ``, "p2c is missing or not a number"},
		{"alg dir", "alg", `"dir"`, `key algorithm "dir", want PBES2-HS256+A128KW`},
		{"stronger alg", "alg", `"PBES2-HS512+A256KW"`, `key algorithm "PBES2-HS512+A256KW"`},
		{"enc", "enc", `"A128CBC-HS256"`, `content encryption "A128CBC-HS256"`},
		{"zip", "zip", `"DEF"`, "compressed"},
		{"crit", "crit", `["p2c"]`, "critical extensions"},
		{"short salt", "p2s", `"AAAA"`, "salt p2s is not 8 to 64 bytes"},
	}
	for _, legacy := range []bool{false, true} {
		for _, c := range cases {
			name := c.name
			if legacy {
				name = "legacy " + name
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				item := &Item{Profile: "p", Current: storeKey(t, 0, "k")}
				if legacy {
					writeLegacyItem(t, dir, testPassphrase, item)
				} else if err := openFileStore(t, dir, testPassphrase).Put(testctx.New(t), item); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, keyPrefix+"p")
				editHeader(t, path, func(h map[string]json.RawMessage) {
					if c.value == "" {
						delete(h, c.field)
					} else {
						h[c.field] = json.RawMessage(c.value)
					}
				})
				derivations := countDerivations(t)
				s, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase(testPassphrase, nil), Timeout: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				// Far longer than refusing takes, far shorter than deriving with p2c 2e9.
				ctx, cancel := context.WithTimeout(testctx.New(t), 10*time.Second)
				defer cancel()
				check := func(op string, err error) {
					t.Helper()
					if err == nil || ctx.Err() != nil || errors.Is(err, ErrTimeout) {
						t.Fatalf("%s = %v, want the header refused at once", op, err)
					}
					msg := err.Error()
					if !strings.Contains(msg, c.want) || !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
						t.Errorf("%s error %q: want one line naming %s and saying %q", op, msg, path, c.want)
					}
					if strings.Contains(msg, "wrong passphrase") {
						t.Errorf("%s error %q blames the passphrase", op, msg)
					}
				}
				_, err = s.Get(ctx, "p")
				check("Get", err)
				// Storing probes the passphrase with an existing item, this one.
				err = s.Put(ctx, &Item{Profile: "p", Current: storeKey(t, 1, "k2")})
				check("Put", err)
				if n := derivations.Load(); n != 0 {
					t.Errorf("%d key derivations before refusing, want none", n)
				}
			})
		}
	}
}

func TestFileItemNotAJWEIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, keyPrefix+"p")
	for content, want := range map[string]string{
		"hello":                      "not a compact JWE (1 dot-separated parts, want 5)",
		"AAAA.AAAA.AAAA.AAAA.AAAA":   "its header is not JSON",
		"!!.b.c.d.e":                 "part 1 is not base64url",
		strings.Repeat("x", 1<<20+1): "larger than 1048576 bytes",
		"e30.AAAA.AAAA.AAAA.AAAA":    "key algorithm",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := openFileStore(t, dir, testPassphrase).Get(testctx.New(t), "p")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%.20q: %v, want %q", content, err, want)
		}
	}
}

// A wrong passphrase, or a damaged ciphertext, reads as clearly as with
// 99designs/keyring's backend: the same message, for old and new items.
func TestFileItemWrongPassphraseMessage(t *testing.T) {
	ctx := testctx.New(t)
	dir := t.TempDir()
	writeLegacyItem(t, dir, testPassphrase, &Item{Profile: "old", Current: storeKey(t, 0, "k")})
	if err := openFileStore(t, dir, testPassphrase).Put(ctx, &Item{Profile: "new", Current: storeKey(t, 1, "k")}); err != nil {
		t.Fatal(err)
	}
	wrong := openFileStore(t, dir, "not the passphrase")
	for _, profile := range []string{"old", "new"} {
		_, err := wrong.Get(ctx, profile)
		want := `keyring backend file: cannot decrypt profile "` + profile + `" in ` + dir + `: wrong passphrase (WAASCTL_KEYRING_PASSPHRASE), or the file is damaged`
		if err == nil || err.Error() != want {
			t.Errorf("Get(%s) with a wrong passphrase: %v\nwant %s", profile, err, want)
		}
	}

	// One byte of the ciphertext flipped.
	path := filepath.Join(dir, keyPrefix+"new")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(data), ".")
	ct, _ := base64.RawURLEncoding.DecodeString(parts[3])
	ct[0] ^= 1
	parts[3] = base64.RawURLEncoding.EncodeToString(ct)
	if err := os.WriteFile(path, []byte(strings.Join(parts, ".")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openFileStore(t, dir, testPassphrase).Get(ctx, "new"); err == nil || !strings.Contains(err.Error(), "or the file is damaged") {
		t.Errorf("Get of a damaged item: %v", err)
	}
}

// A process derives once for everything it writes and for each item it
// reads: a rotation's reads and writes do not pay the cost again and again.
func TestFileKDFRunsOncePerProcessAndSalt(t *testing.T) {
	ctx := testctx.New(t)
	dir := t.TempDir()
	const pass = "a passphrase only this test uses"
	writeLegacyItem(t, dir, pass, &Item{Profile: "old", Current: storeKey(t, 0, "k")})
	derivations := countDerivations(t)
	s := openFileStore(t, dir, pass)
	if _, err := s.Get(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if n := derivations.Load(); n != 1 {
		t.Errorf("reading one item derived %d times, want 1", n)
	}
	for i := range 3 {
		it := &Item{Profile: "p", Current: storeKey(t, i, "k")}
		if err := s.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := openFileStore(t, dir, pass).Get(ctx, "p"); err != nil {
			t.Fatal(err)
		}
	}
	if n := derivations.Load(); n != 2 {
		t.Errorf("a read and three writes and reads derived %d times, want 2", n)
	}
}

func TestSetFileKDFCostForTesting(t *testing.T) {
	before := fileKDFCost.Load()
	restore := SetFileKDFCostForTesting(MinFileKDFIterations + 1)
	dir := t.TempDir()
	if err := openFileStore(t, dir, "cheap").Put(testctx.New(t), &Item{Profile: "p", Current: storeKey(t, 0, "k")}); err != nil {
		t.Fatal(err)
	}
	restore()
	if got := headerP2C(t, filepath.Join(dir, keyPrefix+"p")); got != MinFileKDFIterations+1 {
		t.Errorf("p2c %d, want %d", got, MinFileKDFIterations+1)
	}
	if got := fileKDFCost.Load(); got != before {
		t.Errorf("restored cost %d, want %d", got, before)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("a cost below the minimum was accepted")
		}
	}()
	SetFileKDFCostForTesting(10)
}

// BenchmarkFileKDF is one key derivation at the cost of new items, and at
// the most a file may ask for (docs/credentials.md quotes both).
func BenchmarkFileKDF(b *testing.B) {
	salt := append([]byte(fileKeyAlg+"\x00"), make([]byte, fileSaltBytes)...)
	for _, n := range []int{fileKDFIterations, maxFileKDFIterations} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := derive(testPassphrase, salt, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Only tests lower the cost: no product source calls the hook.
func TestFileKDFCostHookIsTestOnly(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || d.Name() == "filekeyring.go" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), "SetFileKDFCostForTesting") {
			t.Errorf("%s calls SetFileKDFCostForTesting: only tests may lower the file keyring's cost", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzParseItemFile: whatever an item file holds, parsing it never panics,
// and what it accepts has a cost within bounds (so no derivation can spin).
func FuzzParseItemFile(f *testing.F) {
	f.Add([]byte("a.b.c.d.e"))
	f.Add([]byte(`eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJlbmMiOiJBMjU2R0NNIiwicDJjIjoyZTksInAycyI6IkFBQUFBQUFBQUFBIn0.AAAA.AAAA.AAAA.AAAA`))
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := parseItemFile("item", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if it.p2c < MinFileKDFIterations || it.p2c > maxFileKDFIterations || len(it.p2s) < 8 || len(it.p2s) > 64 {
			t.Fatalf("accepted p2c %d, salt of %d bytes", it.p2c, len(it.p2s))
		}
	})
}

// An item planted as a link (to another profile's item, or to a FIFO that
// would block the read until the keyring's timeout) is refused at once, as
// a link, not followed.
func TestFileItemThatIsASymlinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(testctx.New(t), &Item{Profile: "real", Current: storeKey(t, 0, "k")}); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"to-item": filepath.Join(dir, keyPrefix+"real"), "to-fifo": fifo} {
		if err := os.Symlink(target, filepath.Join(dir, keyPrefix+name)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(testctx.New(t), name); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("%s: %v, want a refusal naming the symlink", name, err)
		}
	}
}
