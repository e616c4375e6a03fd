package credentials

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/testctx"
)

// childEnv switches the test binary into a child that opens a store and
// reports what it holds for one profile: the proof that another process
// sees what this one stored.
const childEnv = "WAASCTL_STORE_TEST_CHILD"

func TestMain(m *testing.M) {
	// Items are written at the cheapest accepted cost; the tests of the
	// cost itself use the real one (withRealFileKDFCost).
	SetFileKDFCostForTesting(MinFileKDFIterations)
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// childSpec is what a child needs to open the same store.
type childSpec struct {
	Backend     string `json:"backend"`
	FileDir     string `json:"fileDir,omitempty"`
	Passphrase  string `json:"passphrase,omitempty"`
	KeyctlScope string `json:"keyctlScope,omitempty"`
	Profile     string `json:"profile"`
}

// slotSummary identifies a stored key without printing its secret.
type slotSummary struct {
	Name, Fingerprint, SecretSHA256, AddedBy, Source string
	AddedAt                                          time.Time
}

func summarize(it *Item) map[string]slotSummary {
	out := map[string]slotSummary{}
	for slot, k := range map[string]*StoredKey{"current": it.Current, "pending": it.Pending, "previous": it.Previous} {
		if k == nil {
			continue
		}
		sum := sha256.Sum256([]byte(k.PrivateKey))
		out[slot] = slotSummary{k.Name, k.Fingerprint, hex.EncodeToString(sum[:]), k.AddedBy, k.Source, k.AddedAt}
	}
	return out
}

func runChild(specJSON string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	s, err := OpenStore(StoreConfig{
		Backend: spec.Backend, FileDir: spec.FileDir, KeyctlScope: spec.KeyctlScope,
		Passphrase: func() (string, error) { return spec.Passphrase, nil },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	it, err := s.Get(context.Background(), spec.Profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(summarize(it)); err != nil {
		return 1
	}
	return 0
}

// readInChild runs the test binary as a child (behind wrapper, if any) and
// checks that it reads it for the spec's profile.
func readInChild(t *testing.T, spec childSpec, want *Item, wrapper ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	specJSON, _ := json.Marshal(spec)
	argv := append(append([]string{}, wrapper...), exe, "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(specJSON))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %v: %v\n%s", argv, err, stderr.String())
	}
	var got map[string]slotSummary
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	w := summarize(want)
	for slot := range w {
		if !got[slot].AddedAt.Equal(w[slot].AddedAt) {
			t.Errorf("child reads %s added at %v, want %v", slot, got[slot].AddedAt, w[slot].AddedAt)
		}
		g := got[slot]
		g.AddedAt = w[slot].AddedAt
		got[slot] = g
	}
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("child reads\n%v\nwant\n%v", got, w)
	}
	how := "a child process"
	if len(wrapper) > 0 {
		how += " under `" + strings.Join(wrapper, " ") + "`"
	}
	t.Logf("%s read back profile %s from %s", how, spec.Profile, spec.Backend)
}

var (
	testKeysOnce sync.Once
	testKeys     []string // secrets: ECDSA SEC1 PEMs and Ed25519 base64, alternating
)

// testKeyName is a key name made of UUIDs, as CheckKeyName wants, that says which key it is.
func testKeyName(name string) string {
	return "organizations/" + uuid.NewSHA1(uuid.NameSpaceOID, []byte("test org")).String() +
		"/apiKeys/" + uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

// storeKey returns a StoredKey with a fresh secret (a few are generated once
// and reused: P-256 generation is cheap, but the suite runs many times).
func storeKey(t testing.TB, i int, name string) *StoredKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for j := 0; j < 4; j++ {
			ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			pem, err := EncodeSEC1PEM(ec)
			if err != nil {
				panic(err)
			}
			_, ed, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, pem, EncodeEd25519(ed))
		}
	})
	secret := testKeys[i%len(testKeys)]
	signer, err := ParsePrivateKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	alg := "ES256"
	if _, ok := signer.(ed25519.PrivateKey); ok {
		alg = "Ed25519"
	}
	return &StoredKey{
		Name: testKeyName(name), PrivateKey: secret, Fingerprint: Fingerprint(signer.Public()),
		Algorithm: alg, AddedAt: time.Date(2026, 1, 2, 3, 4, 5, 600+i, time.UTC), AddedBy: "test", Source: "file ./" + name + ".json",
	}
}

// secretFragments are pieces of a secret that must never appear in output:
// each base64 line of a PEM, or the whole base64 string.
func secretFragments(secret string) []string {
	var out []string
	for _, l := range strings.Split(secret, "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

func assertNoSecret(t *testing.T, what, text string, keys ...*StoredKey) {
	t.Helper()
	for _, k := range keys {
		if k == nil {
			continue
		}
		for _, f := range secretFragments(k.PrivateKey) {
			if strings.Contains(text, f) {
				t.Fatalf("%s shows key material: %s", what, text)
			}
		}
	}
}

func uniqueProfile(t testing.TB, prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func sameKey(a, b *StoredKey) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	if !x.AddedAt.Equal(y.AddedAt) {
		return false
	}
	x.AddedAt, y.AddedAt = time.Time{}, time.Time{}
	return x == y
}

func assertItem(t *testing.T, got, want *Item) {
	t.Helper()
	if got.Profile != want.Profile || !sameKey(got.Current, want.Current) || !sameKey(got.Pending, want.Pending) || !sameKey(got.Previous, want.Previous) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// suiteOpts says what else a backend can be asked to prove.
type suiteOpts struct {
	reopen func(t *testing.T) Store // a second Store on the same backend
	child  *childSpec               // how a child process opens it (Profile is filled in)
	// childWrappers run the child again behind each command, e.g. a new
	// kernel session keyring.
	childWrappers [][]string
}

// storeSuite is what every Store must do. It uses fresh profile names and
// removes them, so it can run against a keyring that holds real items.
func storeSuite(t *testing.T, s Store, o suiteOpts) {
	ctx := testctx.New(t)
	p, p2 := uniqueProfile(t, "suite"), uniqueProfile(t, "suite")
	t.Cleanup(func() {
		s.Remove(ctx, p)
		s.Remove(ctx, p2)
	})

	if _, err := s.Get(ctx, p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an absent profile: %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove of an absent profile: %v, want ErrNotFound", err)
	}

	// All three slots round-trip.
	cur, pend, prev := storeKey(t, 0, "cur"), storeKey(t, 1, "pend"), storeKey(t, 2, "prev")
	full := &Item{Profile: p, Current: cur, Pending: pend, Previous: prev}
	if err := s.Put(ctx, full); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(ctx, p)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertItem(t, got, full)

	// Stored values are copies both ways.
	got.Current.Name = "changed"
	pendName := pend.Name
	full.Pending.Name = "changed too"
	again, err := s.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if again.Current.Name != cur.Name || again.Pending.Name == "changed too" {
		t.Fatalf("the store shares memory with its callers: %v", again)
	}
	full.Pending.Name = pendName

	// Another Store, and another process, on the same backend see it.
	if o.reopen != nil {
		other, err := o.reopen(t).Get(ctx, p)
		if err != nil {
			t.Fatalf("a second Store: %v", err)
		}
		assertItem(t, other, full)
	}
	if o.child != nil {
		spec := *o.child
		spec.Profile = p
		readInChild(t, spec, full)
		for _, w := range o.childWrappers {
			readInChild(t, spec, full, w...)
		}
	}

	// Replacing moves keys between slots in one Put; an emptied slot is gone.
	promoted := &Item{Profile: p, Current: pend, Previous: cur}
	if err := s.Put(ctx, promoted); err != nil {
		t.Fatalf("Put (promote): %v", err)
	}
	got, err = s.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, got, promoted)

	// Profiles is sorted, and shows both of ours.
	if err := s.Put(ctx, &Item{Profile: p2, Current: storeKey(t, 3, "other")}); err != nil {
		t.Fatal(err)
	}
	profiles, err := s.Profiles(ctx)
	if err != nil {
		t.Fatalf("Profiles: %v", err)
	}
	if !slices.IsSorted(profiles) {
		t.Errorf("Profiles not sorted: %v", profiles)
	}
	if !slices.Contains(profiles, p) || !slices.Contains(profiles, p2) {
		t.Errorf("Profiles = %v, want %s and %s among them", profiles, p, p2)
	}

	// Invalid input is refused before it reaches the keyring, and the
	// errors show no secret.
	bad := *cur
	bad.Fingerprint = pend.Fingerprint
	for name, it := range map[string]*Item{
		"wrong fingerprint": {Profile: p, Current: &bad},
		"no current":        {Profile: p, Pending: pend},
		"bad profile":       {Profile: "../etc", Current: cur},
		"garbage secret":    {Profile: p, Current: &StoredKey{Name: cur.Name, PrivateKey: "-----BEGIN EC PRIVATE KEY-----\n" + secretFragments(cur.PrivateKey)[0] + "\n"}},
	} {
		err := s.Put(ctx, it)
		if err == nil {
			t.Fatalf("Put with %s: no error", name)
		}
		assertNoSecret(t, "Put error ("+name+")", err.Error(), cur, pend)
	}
	if got, err := s.Get(ctx, p); err != nil || !sameKey(got.Current, pend) {
		t.Fatalf("a refused Put changed the item: %v, %v", got, err)
	}
	for _, bad := range []string{"", "a/b", "a:b", ".hidden", strings.Repeat("x", 65)} {
		if _, err := s.Get(ctx, bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid-name error", bad, err)
		}
	}

	// Concurrent use (for -race).
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prof := []string{p, p2}[i%2]
			if _, err := s.Get(ctx, prof); err != nil {
				t.Error(err)
			}
			if _, err := s.Profiles(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// Remove, and it is gone.
	if err := s.Remove(ctx, p); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Get(ctx, p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Remove: %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove: %v, want ErrNotFound", err)
	}
	profiles, err = s.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(profiles, p) || !slices.Contains(profiles, p2) {
		t.Errorf("Profiles after Remove = %v, want %s gone and %s kept", profiles, p, p2)
	}
}

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	if s.Backend() != "memory" {
		t.Errorf("Backend() = %q", s.Backend())
	}
	storeSuite(t, s, suiteOpts{})
}

func TestPutFillsInTheFingerprint(t *testing.T) {
	s := NewMemoryStore()
	k := storeKey(t, 0, "k")
	want := k.Fingerprint
	k.Fingerprint = ""
	if err := s.Put(testctx.New(t), &Item{Profile: "p", Current: k}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(testctx.New(t), "p")
	if err != nil {
		t.Fatal(err)
	}
	if got.Current.Fingerprint != want {
		t.Fatalf("stored fingerprint %q, want %q", got.Current.Fingerprint, want)
	}
}

func TestStoreHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(testctx.New(t))
	cancel()
	s := NewMemoryStore()
	if _, err := s.Get(ctx, "p"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	if err := s.Put(ctx, &Item{Profile: "p", Current: storeKey(t, 0, "k")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
}

func TestStoredKeyAndItemPrintNoSecret(t *testing.T) {
	k := storeKey(t, 0, "ec")
	ed := storeKey(t, 1, "ed")
	it := &Item{Profile: "prod", Current: k, Pending: ed}
	type wrapper struct {
		Key  StoredKey
		Item Item
		Ptr  *StoredKey
	}
	w := wrapper{*k, *it, ed}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3v", "%-8s"} {
		for _, v := range []any{*k, k, *it, it, []StoredKey{*k}, []*StoredKey{k}, map[string]StoredKey{"a": *k}, w, &w} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
	}
	outs = append(outs, fmt.Sprint(k), fmt.Sprintln(it), k.String(), k.GoString(), it.String(), it.GoString())
	for _, v := range []any{*k, k, it, w} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	for _, out := range outs {
		assertNoSecret(t, "printing", out, k, ed)
	}
	if s := fmt.Sprintf("%v", k); !strings.Contains(s, k.Name) || !strings.Contains(s, ShortFingerprint(k.Fingerprint)) {
		t.Errorf("%%v = %q, want the name and short fingerprint", s)
	}
	if s := fmt.Sprintf("%#v", *k); !strings.HasPrefix(s, "credentials.StoredKey{") {
		t.Errorf("%%#v = %q", s)
	}
	if s := fmt.Sprint(it); !strings.Contains(s, "pending "+ed.Name) || !strings.Contains(s, "previous -") {
		t.Errorf("Item prints as %q", s)
	}
	var back StoredKey
	b, _ := json.Marshal(k)
	if err := json.Unmarshal(b, &back); err != nil || back.Fingerprint != k.Fingerprint || back.PrivateKey != "" {
		t.Errorf("JSON of a StoredKey = %s", b)
	}
}

func TestDecodeItemErrorsShowNoSecret(t *testing.T) {
	k := storeKey(t, 0, "k")
	data, err := encodeItem(&Item{Profile: "p", Current: k})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string][]byte{
		"truncated":   data[:len(data)/2],
		"bad byte":    append(append([]byte{}, data[:len(data)-20]...), "\x01\x02}"...),
		"bare secret": []byte(k.PrivateKey),
	} {
		_, err := decodeItem(d, "p", "test")
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		assertNoSecret(t, "decode error ("+name+")", err.Error(), k)
	}
	if _, err := decodeItem(data, "other", "test"); err == nil || !strings.Contains(err.Error(), `belongs to profile "p"`) {
		t.Errorf("an item of another profile: %v", err)
	}
	future := strings.Replace(string(data), `"version":1`, `"version":9`, 1)
	if _, err := decodeItem([]byte(future), "p", "test"); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("a newer item: %v", err)
	}
}
