// Package storetest is the contract every credentials.Store passes: the keyring's backends, the
// in-memory fake and the team store (internal/team) run the same suite.
package storetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/credentials"
)

// Options says what else a backend can be asked to prove.
type Options struct {
	// Reopen returns a second Store on the same backend (another host of the team store,
	// another process's keyring): what one writes, the other reads.
	Reopen func(t *testing.T) credentials.Store
}

var (
	keysOnce sync.Once
	secrets  []string // ECDSA SEC1 PEMs and Ed25519 base64, alternating
)

// KeyName is a key name made of UUIDs, as credentials.CheckKeyName wants, that says which key
// it is.
func KeyName(name string) string {
	return "organizations/" + uuid.NewSHA1(uuid.NameSpaceOID, []byte("test org")).String() +
		"/apiKeys/" + uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

// Key returns a StoredKey with a real secret (a few are generated once and reused), i picking
// which.
func Key(t testing.TB, i int, name string) *credentials.StoredKey {
	t.Helper()
	keysOnce.Do(func() {
		for range 4 {
			ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			pem, err := credentials.EncodeSEC1PEM(ec)
			if err != nil {
				panic(err)
			}
			_, ed, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			secrets = append(secrets, pem, credentials.EncodeEd25519(ed))
		}
	})
	secret := secrets[i%len(secrets)]
	signer, err := credentials.ParsePrivateKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	alg := "ES256"
	if _, ok := signer.(ed25519.PrivateKey); ok {
		alg = "Ed25519"
	}
	return &credentials.StoredKey{
		Name: KeyName(name), PrivateKey: secret, Fingerprint: credentials.Fingerprint(signer.Public()),
		Algorithm: alg, AddedAt: time.Date(2026, 1, 2, 3, 4, 5, 600+i, time.UTC), AddedBy: "test", Source: "file ./" + name + ".json",
	}
}

// Fragments are pieces of a secret that must never appear in output: each base64 line of a
// PEM, or the whole base64 string.
func Fragments(secret string) []string {
	var out []string
	for _, l := range strings.Split(secret, "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// AssertNoSecret fails t if text holds a fragment of any key's secret.
func AssertNoSecret(t testing.TB, what, text string, keys ...*credentials.StoredKey) {
	t.Helper()
	for _, k := range keys {
		if k == nil {
			continue
		}
		for _, f := range Fragments(k.PrivateKey) {
			if strings.Contains(text, f) {
				t.Fatalf("%s shows key material: %s", what, text)
			}
		}
	}
}

// UniqueProfile returns prefix and a random suffix: the suite can run against a keyring that
// holds real items.
func UniqueProfile(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func sameKey(a, b *credentials.StoredKey) bool {
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

// AssertItem fails t unless got holds want's keys in want's slots.
func AssertItem(t testing.TB, got, want *credentials.Item) {
	t.Helper()
	if got.Profile != want.Profile || !sameKey(got.Current, want.Current) || !sameKey(got.Pending, want.Pending) || !sameKey(got.Previous, want.Previous) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Run is what every Store must do. It uses fresh profile names and removes them.
func Run(t *testing.T, s credentials.Store, o Options) {
	ctx := context.Background()
	p, p2 := UniqueProfile("suite"), UniqueProfile("suite")
	t.Cleanup(func() {
		_ = s.Remove(ctx, p)
		_ = s.Remove(ctx, p2)
	})

	if _, err := s.Get(ctx, p); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("Get of an absent profile: %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, p); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("Remove of an absent profile: %v, want ErrNotFound", err)
	}

	// All three slots round-trip.
	cur, pend, prev := Key(t, 0, "cur"), Key(t, 1, "pend"), Key(t, 2, "prev")
	full := &credentials.Item{Profile: p, Current: cur, Pending: pend, Previous: prev}
	if err := s.Put(ctx, full); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(ctx, p)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	AssertItem(t, got, full)

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

	if o.Reopen != nil {
		other, err := o.Reopen(t).Get(ctx, p)
		if err != nil {
			t.Fatalf("a second Store: %v", err)
		}
		AssertItem(t, other, full)
	}

	// Replacing moves keys between slots in one Put; an emptied slot is gone.
	promoted := &credentials.Item{Profile: p, Current: pend, Previous: cur}
	if err := s.Put(ctx, promoted); err != nil {
		t.Fatalf("Put (promote): %v", err)
	}
	got, err = s.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	AssertItem(t, got, promoted)

	// Profiles is sorted, and shows both of ours.
	if err := s.Put(ctx, &credentials.Item{Profile: p2, Current: Key(t, 3, "other")}); err != nil {
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

	// Invalid input is refused before it is stored, and the errors show no secret.
	bad := *cur
	bad.Fingerprint = pend.Fingerprint
	for name, it := range map[string]*credentials.Item{
		"wrong fingerprint": {Profile: p, Current: &bad},
		"no current":        {Profile: p, Pending: pend},
		"bad profile":       {Profile: "../etc", Current: cur},
		"garbage secret":    {Profile: p, Current: &credentials.StoredKey{Name: cur.Name, PrivateKey: "-----BEGIN EC PRIVATE KEY-----\n" + Fragments(cur.PrivateKey)[0] + "\n"}},
	} {
		err := s.Put(ctx, it)
		if err == nil {
			t.Fatalf("Put with %s: no error", name)
		}
		AssertNoSecret(t, "Put error ("+name+")", err.Error(), cur, pend)
	}
	if got, err := s.Get(ctx, p); err != nil || !sameKey(got.Current, pend) {
		t.Fatalf("a refused Put changed the item: %v, %v", got, err)
	}
	for _, bad := range []string{"", "a/b", "a:b", ".hidden", strings.Repeat("x", 65)} {
		if _, err := s.Get(ctx, bad); err == nil || errors.Is(err, credentials.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid-name error", bad, err)
		}
	}

	// Concurrent use (for -race).
	var wg sync.WaitGroup
	for i := range 4 {
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
	if _, err := s.Get(ctx, p); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("Get after Remove: %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, p); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("second Remove: %v, want ErrNotFound", err)
	}
	profiles, err = s.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(profiles, p) || !slices.Contains(profiles, p2) {
		t.Errorf("Profiles after Remove = %v, want %s gone and %s kept", profiles, p, p2)
	}

	// A cancelled context is honoured.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cctx, p2); err == nil {
		t.Errorf("Get with a cancelled context: no error")
	}
}
