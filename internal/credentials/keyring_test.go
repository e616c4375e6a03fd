package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/keyring"
)

const testPassphrase = "correct horse battery staple"

func fixedPassphrase(p string, calls *int) func() (string, error) {
	return func() (string, error) {
		if calls != nil {
			*calls++
		}
		return p, nil
	}
}

func openFileStore(t *testing.T, dir, passphrase string) Store {
	t.Helper()
	s, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase(passphrase, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "keyring") // does not exist yet
	s := openFileStore(t, dir, testPassphrase)
	if s.Backend() != "file" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	addForeignItems(t, s)
	storeSuite(t, s, suiteOpts{
		reopen: func(t *testing.T) Store { return openFileStore(t, dir, testPassphrase) },
		child:  &childSpec{Backend: "file", FileDir: dir, Passphrase: testPassphrase},
	})

	// What is on disk: a 0700 folder of 0600 files, encrypted, and no
	// staging files left over.
	k := storeKey(t, 0, "disk")
	if err := s.Put(context.Background(), &Item{Profile: "disk", Current: k}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, "file "+e.Name(), string(data), k)
		if strings.Contains(string(data), k.Name) || strings.Contains(string(data), k.Fingerprint) {
			t.Errorf("%s holds the key's name or fingerprint in plain text", e.Name())
		}
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if !slices.Contains(names, keyPrefix+"disk") {
		t.Errorf("files %v, want %s: the atomic write relies on this name", names, keyPrefix+"disk")
	}
}

// addForeignItems puts items in the backend that are not waasctl profiles,
// as other programs do in shared keyrings: Profiles must not list them.
func addForeignItems(t *testing.T, s Store) {
	t.Helper()
	ks := s.(*keyringStore)
	if ks.file != nil {
		if _, err := ks.file.getPassphrase(); err != nil {
			t.Fatal(err)
		}
	}
	// waasctl.staging.*: what older versions' file backend wrote before renaming.
	foreign := []string{"someone-else.item", "waasctl.staging.x.0123", keyPrefix + "bad/name"}
	for _, k := range foreign {
		if err := ks.ring.Set(keyring.Item{Key: k, Data: []byte(`{"not":"ours"}`), Label: k}); err != nil {
			t.Fatalf("adding foreign item %s: %v", k, err)
		}
	}
	t.Cleanup(func() {
		for _, k := range foreign {
			ks.ring.Remove(k)
		}
	})
	profiles, err := s.Profiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles {
		if strings.Contains(p, "someone") || strings.Contains(p, "bad") || strings.HasPrefix(p, "x.") {
			t.Errorf("Profiles lists a foreign item: %q", p)
		}
	}
}

// A new keyring's passphrase comes from NewPassphrase (which the command line asks twice), an
// existing one's from Passphrase; a wrong one is blamed on where it came from.
func TestFileStoreNewPassphrase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var asked, askedNew int
	cfg := StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase(testPassphrase, &asked),
		NewPassphrase: fixedPassphrase(testPassphrase, &askedNew), PassphraseSource: "the passphrase typed at the prompt"}
	s, err := OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, &Item{Profile: "p", Current: storeKey(t, 0, "k")}); err != nil {
		t.Fatal(err)
	}
	if asked != 0 || askedNew != 1 {
		t.Fatalf("new keyring: Passphrase asked %d times, NewPassphrase %d; want 0 and 1", asked, askedNew)
	}
	cfg.Passphrase = fixedPassphrase("wrong", &asked)
	s, err = OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "p")
	if asked != 1 || askedNew != 1 {
		t.Fatalf("existing keyring: Passphrase asked %d times, NewPassphrase %d; want 1 and 1", asked, askedNew)
	}
	if err == nil || !strings.Contains(err.Error(), "wrong passphrase (the passphrase typed at the prompt)") {
		t.Fatalf("a wrong typed passphrase: %v", err)
	}
}

func TestFileStorePassphrase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var calls int
	s, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase(testPassphrase, &calls)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "absent"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("the passphrase was asked for to find nothing")
	}
	k := storeKey(t, 0, "k")
	for i := 0; i < 3; i++ {
		if err := s.Put(ctx, &Item{Profile: "p", Current: k}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "p"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("the passphrase was asked for %d times, want once", calls)
	}

	wrong, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase("wrong", nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Get(ctx, "p")
	if err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("Get with a wrong passphrase: %v", err)
	}
	err = wrong.Put(ctx, &Item{Profile: "q", Current: k})
	if err == nil || !strings.Contains(err.Error(), "does not open the items already in") {
		t.Fatalf("Put with a wrong passphrase: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyPrefix+"q")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an item was written under the wrong passphrase")
	}

	empty, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: fixedPassphrase("", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Put(ctx, &Item{Profile: "q", Current: k}); err == nil || !strings.Contains(err.Error(), "passphrase is empty") {
		t.Errorf("Put with an empty passphrase: %v", err)
	}
	failing, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir, Passphrase: func() (string, error) {
		return "", errors.New("set WAASCTL_KEYRING_PASSPHRASE")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := failing.Get(ctx, "p"); err == nil || !strings.Contains(err.Error(), "WAASCTL_KEYRING_PASSPHRASE") {
		t.Errorf("Get with a failing passphrase source: %v", err)
	}
	if _, err := OpenStore(StoreConfig{Backend: "file", FileDir: dir}); err == nil || !strings.Contains(err.Error(), "no passphrase source") {
		t.Errorf("file backend without a passphrase source: %v", err)
	}
}

func TestFileStoreTightensAnOpenFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	openFileStore(t, dir, testPassphrase)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestDefaultKeyringDir(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", "")
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if d, err := DefaultKeyringDir(); err != nil || d != filepath.FromSlash("/x/state/waasctl/keyring") {
		t.Errorf("DefaultKeyringDir() = %q, %v", d, err)
	}
	t.Setenv("WAASCTL_STATE_DIR", "/var/lib/w")
	if d, err := DefaultKeyringDir(); err != nil || d != filepath.FromSlash("/var/lib/w/keyring") {
		t.Errorf("with WAASCTL_STATE_DIR: %q, %v", d, err)
	}
}

// Environment variables that make the tests of a real keyring fail rather than skip when it
// is not there: scripts/test.sh (make test) sets them, so that a run cannot pass by testing less.
const (
	requireKeyctlEnv        = "WAASCTL_REQUIRE_KEYCTL"
	requireSecretServiceEnv = "WAASCTL_REQUIRE_KEYRING"
)

// skipUnlessRequired skips the test, or fails it when env=1 says the part is required.
func skipUnlessRequired(t *testing.T, env, format string, args ...any) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf(format+" (and %s=1 requires it)", append(args, env)...)
	}
	t.Skipf(format, args...)
}

func TestKeyctlStore(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("keyctl: Linux only")
	}
	s, err := OpenStore(StoreConfig{Backend: "keyctl", KeyctlScope: "user"})
	if err != nil {
		// Docker's default seccomp profile, for one, forbids the keyctl
		// syscalls.
		skipUnlessRequired(t, requireKeyctlEnv, "keyctl: kernel keyrings are not usable here: %v", err)
	}
	addForeignItems(t, s)
	opts := suiteOpts{
		reopen: func(t *testing.T) Store {
			s, err := OpenStore(StoreConfig{Backend: "keyctl", KeyctlScope: "user"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		child: &childSpec{Backend: "keyctl", KeyctlScope: "user"},
	}
	// A child in a new session keyring stands for another login (a cron
	// job, a second ssh session): it does not possess the keys, so it reads
	// them only because of the permissions we set.
	if _, err := exec.LookPath("keyctl"); err == nil {
		opts.childWrappers = [][]string{{"keyctl", "session", "-"}}
	} else if os.Getenv(requireKeyctlEnv) == "1" {
		t.Fatalf("keyctl (keyutils) is not on PATH, so a reader in another session keyring cannot be tested (and %s=1 requires it): scripts/install-test-deps.sh installs it", requireKeyctlEnv)
	} else {
		t.Log("keyctl (keyutils) not on PATH: not testing a reader in another session keyring")
	}
	storeSuite(t, s, opts)
	secretRoundTrip(t, s)
}

func TestSecretServiceStore(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("secret-service: Linux only")
	}
	// Only the throwaway daemon of scripts/with-keyring.sh: a developer's
	// desktop keyring is not a place for test items (and may prompt).
	if os.Getenv("WAASCTL_TEST_KEYRING") != "private" {
		skipUnlessRequired(t, requireSecretServiceEnv, "secret-service: not inside scripts/with-keyring.sh, which starts a throwaway gnome-keyring (run: scripts/with-keyring.sh go test ./internal/credentials/)")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("scripts/with-keyring.sh set WAASCTL_TEST_KEYRING but there is no D-Bus session")
	}
	s, err := OpenStore(StoreConfig{Backend: "secret-service", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("the throwaway Secret Service does not answer: %v", err)
	}
	if c, err := secretServiceCollection(); err != nil || c != "login" {
		t.Errorf("collection = %q, %v; want gnome-keyring's login", c, err)
	}
	addForeignItems(t, s)
	storeSuite(t, s, suiteOpts{
		reopen: func(t *testing.T) Store {
			s, err := OpenStore(StoreConfig{Backend: "secret-service"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		child: &childSpec{Backend: "secret-service"},
	})
	secretRoundTrip(t, s)
}

// secretRoundTrip checks SecretStore on a real keyring (the team identity lives there): a
// secret of a fresh name round-trips, is not listed as a profile, and is removed.
func secretRoundTrip(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	ss := s.(SecretStore)
	name := "test-" + strings.ToLower(uniqueProfile(t, "secret"))
	t.Cleanup(func() { _ = ss.RemoveSecret(ctx, name) })
	if _, err := ss.GetSecret(ctx, name); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("GetSecret of a missing secret: %v", err)
	}
	const v = "# a comment\nAGE-SECRET-KEY-1NOTAREALONE\n"
	if err := ss.PutSecret(ctx, name, v); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.GetSecret(ctx, name); err != nil || got != v {
		t.Fatalf("GetSecret = %q, %v", got, err)
	}
	if ps, err := s.Profiles(ctx); err != nil || slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, name) }) {
		t.Fatalf("Profiles lists the secret: %v, %v", ps, err)
	}
	if err := ss.RemoveSecret(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.GetSecret(ctx, name); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("GetSecret after RemoveSecret: %v", err)
	}
}

func TestAutoSelectionOpensSomething(t *testing.T) {
	s, err := OpenStore(StoreConfig{FileDir: t.TempDir(), Passphrase: fixedPassphrase(testPassphrase, nil)})
	if err != nil {
		t.Fatalf("auto: %v", err)
	}
	if got := AvailableBackends(); len(got) == 0 || !slices.Contains(got, s.Backend()) {
		t.Errorf("auto picked %q, available %v", s.Backend(), got)
	}
	t.Logf("auto picks %s of %v", s.Backend(), AvailableBackends())
}

func TestOpenErrorsAreOneLineAndNameTheBackend(t *testing.T) {
	cases := map[string]string{
		"nonsense": `unknown keyring backend "nonsense": want one of`,
	}
	switch runtime.GOOS {
	case "linux":
		cases["keychain"] = "keyring backend keychain is not available here: the Keychain is macOS only"
		cases["wincred"] = "keyring backend wincred is not available here: Credential Manager is Windows only"
	case "darwin":
		cases["wincred"] = "keyring backend wincred is not available here"
	}
	for backend, want := range cases {
		_, err := OpenStore(StoreConfig{Backend: backend})
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("OpenStore(%q) = %v, want one line starting %q", backend, err, want)
		}
	}
}

func TestSecretServiceUnavailableReason(t *testing.T) {
	if runtime.GOOS != "linux" || slices.Contains(AvailableBackends(), "secret-service") {
		t.Skip("only where there is no D-Bus session")
	}
	_, err := OpenStore(StoreConfig{Backend: "secret-service"})
	if err == nil || !strings.Contains(err.Error(), "keyring backend secret-service is not available here: no D-Bus session bus") {
		t.Errorf("got %v", err)
	}
}

// hangingKeyring never answers, like a Secret Service waiting on a prompt
// that nobody can see.
type hangingKeyring struct{ release chan struct{} }

func (h hangingKeyring) Get(string) (keyring.Item, error) { <-h.release; return keyring.Item{}, nil }
func (h hangingKeyring) GetMetadata(string) (keyring.Metadata, error) {
	<-h.release
	return keyring.Metadata{}, nil
}
func (h hangingKeyring) Set(keyring.Item) error  { <-h.release; return nil }
func (h hangingKeyring) Remove(string) error     { <-h.release; return nil }
func (h hangingKeyring) Keys() ([]string, error) { <-h.release; return nil, nil }
func newHanging(t *testing.T) hangingKeyring {
	h := hangingKeyring{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) }) // let the abandoned calls finish
	return h
}

// expireCallsAtOnce makes every keyring call's timer expire immediately and returns the timeouts
// the calls asked for: the tests check the timeout asked for instead of timing a real one.
func expireCallsAtOnce(t *testing.T) func() []time.Duration {
	var mu sync.Mutex
	var asked []time.Duration
	orig := callTimer
	callTimer = func(d time.Duration) (<-chan time.Time, func() bool) {
		mu.Lock()
		asked = append(asked, d)
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c, func() bool { return false }
	}
	t.Cleanup(func() { callTimer = orig })
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(asked)
	}
}

// neverExpire makes keyring calls' timers never expire, so only the context can end a call.
func neverExpire(t *testing.T) {
	orig := callTimer
	callTimer = func(time.Duration) (<-chan time.Time, func() bool) { return nil, func() bool { return false } }
	t.Cleanup(func() { callTimer = orig })
}

// within runs f and fails the test if it has not returned after 10 seconds: a call that should
// return at once but hangs fails here with a message, not at go test's 10-minute timeout.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running after 10 s", what)
	}
}

func TestEveryCallTimesOut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := &keyringStore{backend: "secret-service", timeout: timeout, ring: newHanging(t)}
	ctx := context.Background()
	k := storeKey(t, 0, "k")
	for name, op := range map[string]func() error{
		"Get":      func() error { _, err := s.Get(ctx, "prod"); return err },
		"Put":      func() error { return s.Put(ctx, &Item{Profile: "prod", Current: k}) },
		"Remove":   func() error { return s.Remove(ctx, "prod") },
		"Profiles": func() error { _, err := s.Profiles(ctx); return err },
	} {
		asked := expireCallsAtOnce(t)
		var err error
		within(t, name, func() { err = op() })
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: %v, want ErrTimeout", name, err)
		}
		if got := asked(); len(got) != 1 || got[0] != timeout {
			t.Errorf("%s asked for timeouts %v, want one of %v", name, got, timeout)
		}
		msg := err.Error()
		for _, want := range []string{`keyring backend "secret-service" did not answer within 200ms`, "running and unlocked", "--keyring-backend file"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q lacks %q", name, msg, want)
			}
		}
		assertNoSecret(t, name+" error", msg, k)
	}
}

func TestCancelledCallReturnsAtOnce(t *testing.T) {
	neverExpire(t)
	s := &keyringStore{backend: "keyctl", timeout: time.Hour, ring: newHanging(t)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var err error
	within(t, "Get with a cancelled context", func() { _, err = s.Get(ctx, "prod") })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
}

func TestOpeningTimesOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	orig := openKeyring
	openKeyring = func(keyring.Config) (keyring.Keyring, error) { <-release; return nil, errors.New("late") }
	t.Cleanup(func() { openKeyring = orig })
	asked := expireCallsAtOnce(t)

	cfg := StoreConfig{Backend: "file", FileDir: t.TempDir(), Passphrase: fixedPassphrase(testPassphrase, nil), Timeout: 200 * time.Millisecond}
	var err error
	within(t, "OpenStore", func() { _, err = OpenStore(cfg) })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("OpenStore = %v, want ErrTimeout", err)
	}
	if got := asked(); len(got) != 1 || got[0] != 200*time.Millisecond {
		t.Errorf("OpenStore asked for timeouts %v, want one of 200ms", got)
	}
	if !strings.Contains(err.Error(), `keyring backend "file" did not answer within 200ms (open)`) {
		t.Errorf("error %q", err)
	}
	// Automatic selection reports a stuck backend instead of moving on to
	// the next one, where the key would not be found next time.
	cfg.Backend = ""
	if _, err := OpenStore(cfg); !errors.Is(err, ErrTimeout) {
		t.Fatalf("auto: %v, want ErrTimeout", err)
	}
}

// failingKeyring quotes what it was given in its errors, the worst a
// backend could do.
type failingKeyring struct{ hangingKeyring }

func (failingKeyring) Set(i keyring.Item) error { return fmt.Errorf("cannot store %s", i.Data) }

func TestBackendErrorsQuotingTheSecretAreWithheld(t *testing.T) {
	s := &keyringStore{backend: "pass", timeout: time.Second, ring: failingKeyring{}}
	k := storeKey(t, 0, "k")
	err := s.Put(context.Background(), &Item{Profile: "prod", Current: k})
	if err == nil || !strings.Contains(err.Error(), "withheld") {
		t.Fatalf("Put = %v", err)
	}
	assertNoSecret(t, "Put error", err.Error(), k)
}
