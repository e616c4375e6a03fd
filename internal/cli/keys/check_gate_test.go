package keys

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

// gateRun runs keys check with a 90d limit against store, with verify
// answering for every key; it returns the exit code and the outputs.
func gateRun(t *testing.T, store credentials.Store, verify func(string) error, profiles ...string) (int, string, string) {
	t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	opts := &CheckOptions{
		IO: ios, Keyring: func() (credentials.Store, error) { return store, nil },
		Config: func() (*config.Config, error) { return &config.Config{}, nil },
		Output: func() cmdutil.OutputFormat { return "" }, Now: time.Now, MaxAge: "90d", Profiles: profiles,
	}
	if verify != nil {
		opts.Verify = func(_ context.Context, profile string, _ *credentials.APIKey) error { return verify(profile) }
	}
	err := checkRun(context.Background(), opts)
	var ee *cmdutil.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.Code, stdout.String(), stderr.String() + err.Error()
	}
	return 1, stdout.String(), stderr.String() + err.Error()
}

func authenticates(string) error { return nil }

// An evicted CI cache gives an empty keyring: the gate used to pass it,
// checking nothing.
func TestCheckFailsOnAnEmptyKeyring(t *testing.T) {
	code, out, errOut := gateRun(t, credentials.NewMemoryStore(), authenticates)
	if code != 3 || out != "" || !strings.Contains(errOut, "no profile has a key") {
		t.Fatalf("empty keyring: exit %d, stdout %q, stderr %q; want exit 3 saying nothing was checked", code, out, errOut)
	}
}

func TestCheckFailsOnANamedProfileWithoutKey(t *testing.T) {
	store := storeWith(t, map[string]time.Time{"prod": time.Now()})
	code, out, errOut := gateRun(t, store, authenticates, "prod", "staging")
	if code != 3 || !strings.Contains(out, "staging\t") || !strings.Contains(out, "\tmissing") || !strings.Contains(errOut, "missing: profile staging has no key") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// No key, no age: the row once said 106751d (the age of the zero time).
	if !strings.Contains(out, "staging\t\t\t-\t\tmissing") {
		t.Errorf("the missing row shows an age:\n%s", out)
	}
}

// A young key that WaaS refuses (revoked) used to pass as "ok".
func TestCheckFailsOnARevokedKey(t *testing.T) {
	store := storeWith(t, map[string]time.Time{"prod": time.Now(), "old": time.Now().Add(-100 * 24 * time.Hour)})
	revoked := func(profile string) error {
		if profile == "prod" {
			return &waas.APIError{Call: "ListPools", HTTPStatus: 401, Message: "API key is revoked"}
		}
		return nil
	}
	code, out, errOut := gateRun(t, store, revoked)
	if code != 4 || !strings.Contains(out, "\trejected") || !strings.Contains(errOut, "rejected: WaaS refuses profile prod's key") ||
		!strings.Contains(errOut, "waasctl auth add prod --key-file FILE --force") {
		t.Fatalf("exit %d (want 4, over the overdue key's 3)\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "overdue: profile old") {
		t.Errorf("the overdue key is not reported beside the rejected one:\n%s", errOut)
	}
}

// A gate that cannot ask WaaS does not guess: it fails with exit 1.
func TestCheckFailsWhenWaaSCannotBeAsked(t *testing.T) {
	store := storeWith(t, map[string]time.Time{"prod": time.Now()})
	code, _, errOut := gateRun(t, store, func(string) error { return errors.New("dial tcp: connection refused") })
	if code != 1 || !strings.Contains(errOut, "--offline") {
		t.Fatalf("exit %d %s", code, errOut)
	}
	for _, status := range []int{500, 429} {
		code, _, _ = gateRun(t, store, func(string) error { return &waas.APIError{Call: "ListPools", HTTPStatus: status} })
		if code != 1 {
			t.Errorf("HTTP %d: exit %d, want 1 (not a rejection)", status, code)
		}
	}
}

func TestCheckOfflineSaysItDidNotAsk(t *testing.T) {
	store := storeWith(t, map[string]time.Time{"prod": time.Now()})
	code, out, _ := gateRun(t, store, nil)
	if code != 0 || !strings.Contains(out, "\tunchecked") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
