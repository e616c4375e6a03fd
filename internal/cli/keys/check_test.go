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
	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waasapi"
)

func storeWith(t *testing.T, added map[string]time.Time) credentials.Store {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := credentials.NewMemoryStore()
	for profile, at := range added {
		k, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		key, _ := credentials.NewAPIKey(k.Name, k.PrivateKey, "test")
		if err := store.Put(testctx.New(t), &credentials.Item{Profile: profile, Current: &credentials.StoredKey{
			Name: k.Name, PrivateKey: k.PrivateKey, Fingerprint: key.Fingerprint, Algorithm: "ES256", AddedAt: at,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// TestCheckExitsThreeExactlyWhenOverdue: the CI gate fails exactly when a
// key is older than the policy, and names that key.
func TestCheckExitsThreeExactlyWhenOverdue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	store := storeWith(t, map[string]time.Time{"fresh": now.Add(-89 * 24 * time.Hour), "stale": now.Add(-91 * 24 * time.Hour)})
	run := func(maxAge string, profiles ...string) (int, string, string) {
		ios, _, stdout, stderr := iostreams.Test()
		opts := &CheckOptions{
			IO: ios, Keyring: func() (credentials.Store, error) { return store, nil },
			Config: func() (*config.Config, error) {
				return &config.Config{Profiles: map[string]config.Profile{"fresh": {Policy: &config.Policy{MaxAge: "30d"}}}}, nil
			},
			Output: func() cmdutil.OutputFormat { return "" }, Now: func() time.Time { return now }, MaxAge: maxAge, Profiles: profiles,
			Verify: func(context.Context, string, *credentials.APIKey) error { return nil },
		}
		err := checkRun(testctx.New(t), opts)
		var ee *cmdutil.ExitError
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.As(err, &ee):
			return ee.Code, stdout.String(), stderr.String()
		}
		var fe *cmdutil.FlagError
		if errors.As(err, &fe) {
			return 2, "", err.Error()
		}
		t.Fatal(err)
		return -1, "", ""
	}
	if code, out, _ := run("90d", "fresh"); code != 0 || !strings.Contains(out, "\tok") {
		t.Fatalf("89 days against 90d: exit %d\n%s", code, out)
	}
	code, out, errOut := run("90d")
	if code != 3 || !strings.Contains(out, "stale\t") || !strings.Contains(errOut, "overdue: profile stale") || strings.Contains(errOut, "profile fresh") {
		t.Fatalf("91 days against 90d: exit %d\n%s\n%s", code, out, errOut)
	}
	// Without --max-age, each profile's policy decides: fresh's is 30d.
	if code, _, errOut := run("", "fresh"); code != 3 || !strings.Contains(errOut, "over its max age of 30d") {
		t.Fatalf("policy max_age: exit %d %s", code, errOut)
	}
	// A profile with neither is a usage error that says what to set.
	if code, _, msg := run("", "stale"); code != 2 || !strings.Contains(msg, "policy.max_age") {
		t.Fatalf("no max age: exit %d %s", code, msg)
	}
}
