package team

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
	"github.com/waasctl/waasctl/internal/team"
	"github.com/waasctl/waasctl/internal/team/teamtest"
)

func factory(t *testing.T) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, stdout, stderr := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios}, stdout, stderr
}

func TestInitParsesRecipients(t *testing.T) {
	f, _, _ := factory(t)
	var got *InitOptions
	cmd := NewCmdInit(f, func(_ context.Context, o *InitOptions) error { got = o; return nil })
	id, _ := teamtest.NewIdentity(t)
	key := id.Recipient()
	_, secret := teamtest.NewIdentity(t)
	cmd.SetArgs([]string{"--recipient", "alice=" + key, "--recipient", "ci-nightly= " + key + " "})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if len(got.Recipients) != 2 || got.Recipients[0] != (team.Recipient{Name: "alice", PublicKey: key}) || got.Recipients[1].PublicKey != key {
		t.Fatalf("recipients = %+v", got.Recipients)
	}
	for _, bad := range []string{"alice", "alice=age1nope", "bad/name=" + key, "x=" + secret} {
		cmd := NewCmdInit(f, func(context.Context, *InitOptions) error { t.Fatal("ran"); return nil })
		cmd.SetArgs([]string{"--recipient", bad})
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "AGE-SECRET-KEY") {
			t.Errorf("--recipient %.12s...: %v", bad, err)
		}
	}
}

// Without a terminal, remove needs --yes (exit 2) before anything is opened.
func TestRecipientsRemoveNeedsYesWithoutATerminal(t *testing.T) {
	f, _, _ := factory(t)
	cmd := NewCmdRecipientsRemove(f, func(context.Context, *RecipientsRemoveOptions) error { t.Fatal("ran"); return nil })
	cmd.SetArgs([]string{"bob"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	var fe *cmdutil.FlagError
	if err := cmd.Execute(); !errors.As(err, &fe) || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("remove without --yes: %v", err)
	}
}

type answer bool

func (a answer) Secret(string) (string, error)      { return "", errors.New("no secrets here") }
func (a answer) Input(string) (string, error)       { return "", errors.New("no input here") }
func (a answer) Confirm(string, bool) (bool, error) { return bool(a), nil }

// On a terminal, remove asks; "no" changes nothing. "yes" removes, re-encrypts and names the
// keys to rotate.
func TestRecipientsRemoveAsksAndNamesTheKeysToRotate(t *testing.T) {
	dsn := teamtest.NewDatabase(t)
	s, err := team.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Migrate(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	alice, _ := teamtest.NewIdentity(t)
	bob, _ := teamtest.NewIdentity(t)
	if err := s.AddRecipients(t.Context(), []team.Recipient{{Name: "alice", PublicKey: alice.Recipient()}, {Name: "bob", PublicKey: bob.Recipient()}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Keys(alice).Put(t.Context(), &credentials.Item{Profile: "prod", Current: storetest.Key(t, 0, "prod")}); err != nil {
		t.Fatal(err)
	}
	run := func(yes answer) (string, error) {
		ios, _, _, stderr := iostreams.Test()
		ios.SetStdinTTY(true)
		ios.SetStdoutTTY(true)
		opts := &RecipientsRemoveOptions{IO: ios, Prompter: yes, Name: "bob",
			TeamStore:   func() (*team.Store, error) { return s, nil },
			AgeIdentity: func() (*team.Identity, error) { return alice, nil }}
		err := recipientsRemoveRun(t.Context(), opts)
		return stderr.String(), err
	}
	if _, err := run(false); err == nil || !strings.Contains(err.Error(), "nothing removed") {
		t.Fatalf("declined: %v", err)
	}
	if rs, _ := s.Recipients(t.Context()); len(rs) != 2 {
		t.Fatalf("a declined removal removed: %v", rs)
	}
	out, err := run(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Removed recipient bob (" + bob.Recipient() + "); re-encrypted 1 profile's key to", "bob could read the key of 1 profile and may have kept it: rotate it now:\n  waasctl keys rotate prod\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := s.Keys(bob).Get(t.Context(), "prod"); err == nil {
		t.Fatal("bob still reads prod")
	}
}

// identity new prints the public key alone on stdout, and says when WAASCTL_AGE_IDENTITY will
// win over the identity it just made.
func TestIdentityNewPrintsThePublicKeyAndWarnsOfTheVariable(t *testing.T) {
	kr := credentials.NewMemoryStore()
	state := t.TempDir()
	for _, env := range []string{"", "AGE-SECRET-KEY-1..."} {
		ios, _, stdout, stderr := iostreams.Test()
		opts := &IdentityNewOptions{IO: ios, Replace: true, StateDir: func() (string, error) { return state, nil },
			LocalKeyring: func() (credentials.Store, error) { return kr, nil },
			Getenv: func(k string) string {
				if k == team.IdentityEnv {
					return env
				}
				return ""
			}}
		if err := identityNewRun(t.Context(), opts); err != nil {
			t.Fatal(err)
		}
		pub := strings.TrimSpace(stdout.String())
		if _, err := team.ParseRecipient(pub); err != nil || strings.Count(stdout.String(), "\n") != 1 {
			t.Fatalf("stdout %q: %v", stdout, err)
		}
		if warned := strings.Contains(stderr.String(), "WAASCTL_AGE_IDENTITY is set"); warned != (env != "") {
			t.Errorf("with WAASCTL_AGE_IDENTITY=%q, stderr:\n%s", env, stderr)
		}
		if strings.Contains(stdout.String()+stderr.String(), "AGE-SECRET-KEY-1") && env == "" {
			t.Fatalf("the identity was printed")
		}
	}
}

// racingKeyring holds every GetSecret until n callers are inside it at once (or until bound has
// passed once, after which it holds nobody): without a lock around check-then-put, n concurrent
// 'identity new' all find no identity and each keeps its own.
type racingKeyring struct {
	credentials.Store
	ss      credentials.SecretStore
	n       int
	bound   time.Duration
	mu      sync.Mutex
	arrived int
	inside  int // callers inside GetSecret now
	most    int // the most that ever were at once
	open    chan struct{}
	once    sync.Once
}

func (r *racingKeyring) GetSecret(ctx context.Context, name string) (string, error) {
	r.mu.Lock()
	r.arrived++
	r.inside++
	r.most = max(r.most, r.inside)
	if r.arrived >= r.n {
		r.once.Do(func() { close(r.open) })
	}
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.inside--; r.mu.Unlock() }()
	select {
	case <-r.open:
	case <-time.After(r.bound): // only one caller at a time got here: the lock works
		r.once.Do(func() { close(r.open) })
	}
	return r.ss.GetSecret(ctx, name)
}

func (r *racingKeyring) PutSecret(ctx context.Context, name, value string) error {
	return r.ss.PutSecret(ctx, name, value)
}

func (r *racingKeyring) RemoveSecret(ctx context.Context, name string) error {
	return r.ss.RemoveSecret(ctx, name)
}

// Three 'team identity new' at once on one host: exactly one makes and prints an identity, the
// others say this host has one, naming the kept public key (they each printed their own, exit 0,
// and only the last was kept).
func TestIdentityNewConcurrentlyKeepsAndPrintsOne(t *testing.T) {
	mem := credentials.NewMemoryStore()
	ss := mem.(credentials.SecretStore)
	kr := &racingKeyring{Store: mem, ss: ss, n: 3, bound: 2 * time.Second, open: make(chan struct{})}
	state := t.TempDir()
	type result struct {
		out string
		err error
	}
	results := make([]result, kr.n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ios, _, stdout, _ := iostreams.Test()
			opts := &IdentityNewOptions{IO: ios, StateDir: func() (string, error) { return state, nil },
				LocalKeyring: func() (credentials.Store, error) { return kr, nil },
				Getenv:       func(string) string { return "" }}
			err := identityNewRun(context.Background(), opts)
			results[i] = result{strings.TrimSpace(stdout.String()), err}
		}()
	}
	wg.Wait()
	kept, err := team.LoadIdentity(t.Context(), func(string) string { return "" }, ss, "memory")
	if err != nil {
		t.Fatal(err)
	}
	made := 0
	for i, r := range results {
		switch {
		case r.err == nil:
			made++
			if r.out != kept.Recipient() {
				t.Errorf("run %d printed %s, but the keyring kept %s", i, r.out, kept.Recipient())
			}
		case errors.Is(r.err, team.ErrIdentityExists):
			if r.out != "" || !strings.Contains(r.err.Error(), kept.Recipient()) {
				t.Errorf("run %d: printed %q, error %v; want nothing printed and the kept key named", i, r.out, r.err)
			}
		default:
			t.Errorf("run %d: %v", i, r.err)
		}
	}
	if made != 1 {
		t.Errorf("%d runs made an identity, want exactly 1", made)
	}
	if kr.most != 1 {
		t.Errorf("%d runs read the keyring at once: the check and the put are not under one lock", kr.most)
	}
}
