package credentials

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/keyring"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/fsutil"
)

// StoreConfig says which keyring to open and how.
type StoreConfig struct {
	// Backend is one of keychain, wincred, secret-service, kwallet, pass,
	// keyctl, file; "" picks the first that opens, in 99designs/keyring's
	// order (that is the order of AvailableBackends).
	Backend string
	// FileDir is the file backend's folder; "" means DefaultKeyringDir().
	// It is created, or tightened, to mode 0700.
	FileDir string
	// Passphrase gives the file backend's passphrase. It is called at most
	// once per Store, outside the call timeout (a person may be typing).
	Passphrase func() (string, error)
	// NewPassphrase, if set, is called instead of Passphrase when the folder
	// holds no item yet: the passphrase of a new keyring, which a person
	// should type twice, since a typo would lock every key away.
	NewPassphrase func() (string, error)
	// PassphraseSource names where the passphrase came from, for the error
	// of one that does not decrypt (default: WAASCTL_KEYRING_PASSPHRASE).
	PassphraseSource string
	// Timeout bounds every keyring call, opening included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// KeyctlScope is the kernel keyring that holds waasctl's own "waasctl"
	// keyring: user (default), usersession, session, process or thread.
	KeyctlScope string
}

// DefaultTimeout bounds each keyring call. A Secret Service that is locked
// without a desktop to prompt on, or a D-Bus activation that never
// completes, would otherwise hang waasctl for minutes or forever.
const DefaultTimeout = 10 * time.Second

const (
	serviceName = "waasctl"
	// keyPrefix makes our keys recognisable in shared keyrings (the Secret
	// Service's default collection holds every application's secrets). No
	// ':' because the file backend turns keys into file names, and Windows
	// file names cannot hold one.
	keyPrefix = "waasctl.profile."
)

// backendNames is every backend in 99designs/keyring's preference order.
var backendNames = []string{"wincred", "keychain", "secret-service", "kwallet", "keyctl", "pass", "file"}

// DefaultKeyringDir is the file backend's folder when StoreConfig.FileDir is
// empty: "keyring" in waasctl's state folder ($WAASCTL_STATE_DIR, else
// $XDG_STATE_HOME/waasctl, else ~/.local/state/waasctl).
func DefaultKeyringDir() (string, error) {
	dir, err := config.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "keyring"), nil
}

// AvailableBackends lists the backends compiled in and usable in principle
// on this host, in the order OpenStore tries them. Usable in principle: a
// listed backend can still fail to open (no pass store, a dead daemon).
func AvailableBackends() []string {
	var out []string
	for _, b := range keyring.AvailableBackends() {
		out = append(out, string(b))
	}
	return out
}

// openKeyring opens cfg's backend: waasctl's own for the file backend
// (filekeyring.go), 99designs/keyring's for the others. Tests replace it to
// simulate a hung daemon.
var openKeyring = func(cfg keyring.Config) (keyring.Keyring, error) {
	if len(cfg.AllowedBackends) == 1 && cfg.AllowedBackends[0] == keyring.FileBackend {
		return &fileKeyring{dir: cfg.FileDir, passphrase: func() (string, error) { return cfg.FilePasswordFunc("") }}, nil
	}
	return keyring.Open(cfg)
}

// OpenStore opens the keyring cfg names, or the first one that opens.
func OpenStore(cfg StoreConfig) (Store, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.KeyctlScope == "" {
		// 99designs/keyring has no default and fails with `unknown scope ""`.
		cfg.KeyctlScope = "user"
	}
	if cfg.Backend != "" {
		if !slices.Contains(backendNames, cfg.Backend) {
			return nil, fmt.Errorf("unknown keyring backend %q: want one of %s", cfg.Backend, strings.Join(backendNames, ", "))
		}
		return openBackend(cfg, cfg.Backend)
	}
	var reasons []string
	for _, b := range AvailableBackends() {
		s, err := openBackend(cfg, b)
		if err == nil {
			return s, nil
		}
		if errors.Is(err, ErrTimeout) {
			// A backend that is there but stuck is reported, not skipped:
			// storing in the next one would leave the key where the next
			// run, with a responsive daemon, does not look.
			return nil, err
		}
		reasons = append(reasons, b+": "+strings.TrimPrefix(err.Error(), "keyring backend "+b+" is not available here: "))
	}
	return nil, fmt.Errorf("no keyring backend works here (%s); use --keyring-backend file with WAASCTL_KEYRING_PASSPHRASE", strings.Join(reasons, "; "))
}

func openBackend(cfg StoreConfig, backend string) (Store, error) {
	if !slices.Contains(AvailableBackends(), backend) {
		return nil, unavailable(backend, notCompiledReason(backend))
	}
	kcfg := keyring.Config{
		AllowedBackends: []keyring.BackendType{keyring.BackendType(backend)},
		ServiceName:     serviceName,
		// Trusting the application spares a Keychain prompt on every read
		// (aws-vault does the same); an unsigned build still prompts once
		// after each upgrade. Never synchronised to iCloud.
		KeychainTrustApplication: true,
		KeyCtlScope:              cfg.KeyctlScope,
		KeyCtlPerm:               keyctlPerm,
		KWalletAppID:             serviceName,
		KWalletFolder:            serviceName,
		PassPrefix:               serviceName,
		WinCredPrefix:            serviceName,
	}
	if backend == "kwallet" {
		// For KWallet the service name is the wallet's: use the one KDE
		// opens at login rather than create a wallet of our own (which asks
		// for a new password).
		kcfg.ServiceName = "kdewallet"
	}
	s := &keyringStore{backend: backend, timeout: cfg.Timeout}
	if backend == "file" {
		dir, err := fileDir(cfg.FileDir)
		if err != nil {
			return nil, err
		}
		if cfg.Passphrase == nil {
			return nil, unavailable(backend, "no passphrase source (set WAASCTL_KEYRING_PASSPHRASE)")
		}
		s.file = &fileBackend{dir: dir, passphrase: cfg.Passphrase, newPassphrase: cfg.NewPassphrase, source: cfg.PassphraseSource}
		if s.file.source == "" {
			s.file.source = "WAASCTL_KEYRING_PASSPHRASE"
		}
		kcfg.FileDir = dir
		kcfg.FilePasswordFunc = func(string) (string, error) { return s.file.getPassphrase() }
	}
	open := openKeyring // read here: a test may restore it while an abandoned call still runs
	ring, err := call(context.Background(), s, "open", func() (keyring.Keyring, error) {
		if backend == "secret-service" {
			// The collection is looked up here, inside the timeout: it is
			// the first D-Bus call that needs the daemon to answer.
			name, err := secretServiceCollection()
			if err != nil {
				return nil, unavailable(backend, oneLine(err.Error()))
			}
			kcfg.LibSecretCollectionName = name
		}
		r, err := open(kcfg)
		if err != nil {
			// keyring.Open hides the backend's reason behind
			// ErrNoAvailImpl; diagnose finds it again.
			return nil, unavailable(backend, diagnose(backend, cfg))
		}
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	s.ring = ring
	return s, nil
}

func unavailable(backend, reason string) error {
	return fmt.Errorf("keyring backend %s is not available here: %s", backend, reason)
}

// notCompiledReason explains a backend missing from AvailableBackends.
func notCompiledReason(backend string) string {
	switch backend {
	case "keychain":
		if runtime.GOOS == "darwin" {
			return "this waasctl was built without cgo (CGO_ENABLED=0), which leaves the macOS Keychain out"
		}
		return "the Keychain is macOS only"
	case "wincred":
		return "Credential Manager is Windows only"
	case "secret-service", "kwallet":
		if runtime.GOOS != "linux" {
			return backend + " is supported on Linux only"
		}
		if backend == "kwallet" && os.Getenv("DISABLE_KWALLET") == "1" {
			return "disabled by DISABLE_KWALLET=1"
		}
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset, or the bus did not answer when waasctl started)"
	case "keyctl":
		return "kernel keyrings are Linux only"
	case "pass":
		return "pass is not supported on Windows"
	}
	return "not compiled in"
}

// diagnose finds out why a compiled-in backend failed to open.
func diagnose(backend string, cfg StoreConfig) string {
	switch backend {
	case "keyctl":
		if err := keyctlCheck(cfg.KeyctlScope); err != nil {
			return fmt.Sprintf("the %q kernel keyring cannot be used: %s", cfg.KeyctlScope, oneLine(err.Error()))
		}
		return fmt.Sprintf("waasctl's keyring in the %q kernel keyring cannot be opened or created", cfg.KeyctlScope)
	case "pass":
		return "the pass program is not on PATH"
	case "kwallet":
		return "KDE Wallet (kwalletd5) did not open its wallet over D-Bus"
	case "secret-service":
		return "the Secret Service did not open a session over D-Bus"
	}
	return "it failed to open"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func fileDir(dir string) (string, error) {
	if dir == "" {
		d, err := DefaultKeyringDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	// Absolute, so that nothing that changes the working folder later moves
	// the keyring.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return "", fmt.Errorf("keyring backend file: cannot create its folder: %w", err)
	}
	return dir, nil
}

// keyringStore is Store over a 99designs/keyring backend.
type keyringStore struct {
	backend string
	timeout time.Duration
	ring    keyring.Keyring
	// mu serialises calls into ring: not every backend is safe for
	// concurrent use, and a call that timed out may still be running.
	mu   sync.Mutex
	file *fileBackend // the file backend's extras; nil for the others
}

type fileBackend struct {
	dir           string
	passphrase    func() (string, error)
	newPassphrase func() (string, error) // nil: passphrase
	source        string                 // where the passphrase came from, for errors

	mu       sync.Mutex
	pass     string
	verified bool // the passphrase opened an existing item, or there was none
}

// getPassphrase asks once. An empty passphrase is refused: the file backend
// would ask again on every call, and would encrypt with nothing.
func (f *fileBackend) getPassphrase() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pass != "" {
		return f.pass, nil
	}
	ask := f.passphrase
	if f.newPassphrase != nil && !hasItemFiles(f.dir) {
		ask = f.newPassphrase
	}
	p, err := ask()
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("the file keyring's passphrase is empty")
	}
	f.pass = p
	return p, nil
}

// hasItemFiles says whether dir holds any item (a file not hidden: atomic writes' temporary
// files are). A folder that cannot be read counts as holding some: never take a damaged keyring
// for a new one.
func hasItemFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return true
		}
	}
	return false
}

// path is where the file backend keeps key.
func (f *fileBackend) path(key string) string { return filepath.Join(f.dir, filenameEscape(key)) }

func (s *keyringStore) Backend() string { return s.backend }

type timeoutError struct {
	backend, what string
	after         time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("keyring backend %q did not answer within %s (%s); %s", e.backend, e.after, e.what, timeoutHint(e.backend))
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

func timeoutHint(backend string) string {
	const avoid = "Use --keyring-backend file (WAASCTL_KEYRING_BACKEND=file) to avoid it"
	switch backend {
	case "secret-service":
		return "is the keyring daemon running and unlocked? (Without a desktop a locked keyring waits for a password prompt nobody sees.) " + avoid
	case "kwallet":
		return "is KDE Wallet running and its wallet open? " + avoid
	case "keychain":
		return "is the Keychain locked, waiting for its password dialog? " + avoid
	case "pass":
		return "is gpg waiting for its passphrase (pinentry)? " + avoid
	case "file":
		return "is its folder on a network filesystem that stopped answering?"
	}
	return avoid
}

// callTimer starts the timer of one keyring call; tests replace it to expire a call when they
// choose instead of waiting for a real timeout.
var callTimer = func(d time.Duration) (expired <-chan time.Time, stop func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// call runs f, one at a time per store, and gives up after s.timeout or when
// ctx ends. On giving up it returns at once and leaves f running: a call
// into a hung daemon cannot be cancelled, and leaking one goroutine is
// better than hanging the command.
func call[T any](ctx context.Context, s *keyringStore, what string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late answer must not block the goroutine forever
	go func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		v, err := f()
		done <- result{v, err}
	}()
	expired, stop := callTimer(s.timeout)
	defer stop()
	var zero T
	select {
	case r := <-done:
		return r.v, r.err
	case <-expired:
		return zero, &timeoutError{backend: s.backend, what: what, after: s.timeout}
	case <-ctx.Done():
		return zero, fmt.Errorf("keyring backend %q (%s): %w", s.backend, what, ctx.Err())
	}
}

func itemKey(profile string) string { return keyPrefix + profile }

func (s *keyringStore) Get(ctx context.Context, profile string) (*Item, error) {
	if err := CheckProfile(profile); err != nil {
		return nil, err
	}
	key := itemKey(profile)
	if s.file != nil {
		if _, err := os.Stat(s.file.path(key)); errors.Is(err, fs.ErrNotExist) {
			return nil, notFound(profile, s.backend) // no passphrase needed to say so
		}
		if _, err := s.file.getPassphrase(); err != nil {
			return nil, fmt.Errorf("keyring backend file: %w", err)
		}
	}
	it, err := call(ctx, s, fmt.Sprintf("get profile %q", profile), func() (keyring.Item, error) { return s.ring.Get(key) })
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound):
		return nil, notFound(profile, s.backend)
	case err != nil:
		return nil, s.wrap("reading profile", profile, err)
	}
	return decodeItem(it.Data, profile, s.backend)
}

func (s *keyringStore) Put(ctx context.Context, item *Item) error {
	it, err := prepareItem(item)
	if err != nil {
		return err
	}
	data, err := encodeItem(it)
	if err != nil {
		return err
	}
	kitem := keyring.Item{
		Key:         itemKey(it.Profile),
		Data:        data,
		Label:       fmt.Sprintf("waasctl API key (profile %s)", it.Profile),
		Description: "WaaS API keys of waasctl profile " + it.Profile + " (current, pending, previous); manage with waasctl auth",
	}
	what := fmt.Sprintf("store profile %q", it.Profile)
	if s.file != nil {
		if _, err := s.file.getPassphrase(); err != nil {
			return fmt.Errorf("keyring backend file: %w", err)
		}
		_, err = call(ctx, s, what, func() (struct{}, error) { return struct{}{}, s.filePut(kitem) })
	} else {
		_, err = call(ctx, s, what, func() (struct{}, error) { return struct{}{}, s.ring.Set(kitem) })
	}
	if err != nil {
		return scrub(s.wrap("storing profile", it.Profile, err), it)
	}
	return nil
}

// filePut stores an item in the file backend, which writes atomically
// and at the current key-derivation cost (filekeyring.go). Runs under s.mu.
func (s *keyringStore) filePut(item keyring.Item) error {
	if err := s.checkFilePassphrase(item.Key); err != nil {
		return err
	}
	return s.ring.Set(item)
}

// checkFilePassphrase refuses to store under a passphrase that does not open
// the items already there: a mistyped passphrase or a wrong CI secret would
// otherwise leave a folder whose items need two different passphrases.
func (s *keyringStore) checkFilePassphrase(key string) error {
	f := s.file
	f.mu.Lock()
	verified := f.verified
	f.mu.Unlock()
	if verified {
		return nil
	}
	keys, err := s.ring.Keys()
	if err != nil {
		return err
	}
	var probe string
	for _, k := range keys {
		if k == key || (probe == "" && strings.HasPrefix(k, keyPrefix)) {
			probe = k
		}
	}
	if probe != "" {
		if _, err := s.ring.Get(probe); err != nil && !errors.Is(err, keyring.ErrKeyNotFound) {
			var pe *fs.PathError
			var fe *itemFileError
			if errors.As(err, &pe) || errors.As(err, &fe) {
				return err
			}
			return fmt.Errorf("the passphrase does not open the items already in %s (tried %s); refusing to store with a different one", f.dir, probe)
		}
	}
	f.mu.Lock()
	f.verified = true
	f.mu.Unlock()
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // some filesystems refuse to sync a folder; the rename is done either way
		d.Close()
	}
}

func (s *keyringStore) Remove(ctx context.Context, profile string) error {
	if err := CheckProfile(profile); err != nil {
		return err
	}
	key := itemKey(profile)
	_, err := call(ctx, s, fmt.Sprintf("remove profile %q", profile), func() (struct{}, error) {
		// Look first: the Secret Service reports success for a missing
		// item, and the file backend an *fs.PathError.
		keys, err := s.ring.Keys()
		if err != nil {
			return struct{}{}, err
		}
		if !slices.Contains(keys, key) {
			return struct{}{}, keyring.ErrKeyNotFound
		}
		return struct{}{}, s.ring.Remove(key)
	})
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound), errors.Is(err, fs.ErrNotExist):
		return notFound(profile, s.backend)
	case err != nil:
		return s.wrap("removing profile", profile, err)
	}
	return nil
}

func (s *keyringStore) Profiles(ctx context.Context) ([]string, error) {
	keys, err := call(ctx, s, "list profiles", s.ring.Keys)
	if err != nil {
		if errors.Is(err, ErrTimeout) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("keyring backend %s: listing profiles: %w", s.backend, err)
	}
	var out []string
	for _, k := range keys {
		// Shared keyrings (the Secret Service's default collection, the
		// kernel's user keyring) hold other programs' items too.
		p, ok := strings.CutPrefix(k, keyPrefix)
		if ok && CheckProfile(p) == nil {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// wrap adds the backend and profile to a backend's error. Timeouts and
// cancellations already say everything.
func (s *keyringStore) wrap(doing, profile string, err error) error {
	if errors.Is(err, ErrTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if s.file != nil {
		var fe *itemFileError
		if errors.As(err, &fe) {
			return err // names the file and what is wrong with it
		}
		if errors.Is(err, errFileDecrypt) {
			return fmt.Errorf("keyring backend file: cannot decrypt profile %q in %s: wrong passphrase (%s), or the file is damaged", profile, s.file.dir, s.file.source)
		}
	}
	if s.backend == "secret-service" && strings.Contains(err.Error(), "locked") {
		// Unlocking needs a password prompt, which fails without a desktop.
		return fmt.Errorf("keyring backend secret-service: %s %q: %w; unlock the keyring (a desktop session does so at login), or use --keyring-backend file", doing, profile, err)
	}
	return fmt.Errorf("keyring backend %s: %s %q: %w", s.backend, doing, profile, err)
}

// scrub withholds a backend's error message if it quotes key material. None
// is known to, but the message comes from code we do not control (D-Bus
// daemons, gpg) and ends up on terminals and in CI logs.
func scrub(err error, it *Item) error {
	msg := err.Error()
	for _, k := range []*StoredKey{it.Current, it.Pending, it.Previous} {
		if k == nil {
			continue
		}
		for _, frag := range strings.FieldsFunc(k.PrivateKey, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if len(frag) >= 16 && !strings.HasPrefix(frag, "-----") && strings.Contains(msg, frag) {
				return fmt.Errorf("keyring error storing profile %q (its message was withheld because it quoted key material)", it.Profile)
			}
		}
	}
	return err
}
