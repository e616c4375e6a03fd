package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// TestAuthStatus: what `auth status` says of a keyring key within its policy's max_age, one
// overdue, one WaaS rejects (exit 4) and a key from the environment (which has no age), on a
// terminal, piped and as JSON.
func TestAuthStatus(t *testing.T) {
	now := clitest.FixedNow
	// Added at noon UTC and printed in UTC (StatusOptions.Location): the dates do not depend on
	// the zone the test runs in.
	noon := func(daysAgo int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, -daysAgo)
	}
	store := credentials.NewMemoryStore()
	revoked := clitest.FixedKey(t, 3, noon(1), "")
	for _, it := range []*credentials.Item{
		{Profile: "fresh", Current: clitest.FixedKey(t, 1, noon(10), "")},
		{Profile: "stale", Current: clitest.FixedKey(t, 2, noon(120), "")},
		{Profile: "revoked", Current: revoked},
	} {
		if err := store.Put(testctx.New(t), it); err != nil {
			t.Fatal(err)
		}
	}
	envKey := clitest.FixedKey(t, 4, time.Time{}, "")
	env := map[string]string{credentials.EnvKeyName: envKey.Name, credentials.EnvKeyPrivateKey: envKey.PrivateKey}
	policy := &config.Policy{MaxAge: "90d"}
	cfg := &config.Config{Path: "config.yaml", Profiles: map[string]config.Profile{
		"fresh":   {Endpoint: "https://waas.example.test", Policy: policy},
		"stale":   {Policy: policy},
		"revoked": {Policy: policy},
	}}
	for _, tc := range []struct {
		profile string
		fromEnv bool
		exit    int
	}{
		{"fresh", false, 0},
		{"stale", false, 0},
		{"revoked", false, cmdutil.ExitAuth},
		{"ci", true, 0},
	} {
		for _, out := range []struct {
			suffix   string
			terminal bool
			format   cmdutil.OutputFormat
		}{
			{"tty", true, ""},
			{"nontty", false, ""},
			{"json", false, cmdutil.OutputJSON},
		} {
			name := "status_" + tc.profile + "_" + out.suffix
			t.Run(name, func(t *testing.T) {
				ios, _, stdout, stderr := iostreams.Test()
				if out.terminal {
					ios.SetStdoutTTY(true)
					ios.SetTerminalWidth(120)
				}
				opts := &StatusOptions{
					IO:      ios,
					Keyring: func() (credentials.Store, error) { return store, nil },
					Config:  func() (*config.Config, error) { return cfg, nil },
					Output:  func() cmdutil.OutputFormat { return out.format },
					Now:     func() time.Time { return now },
					Getenv: func(k string) string {
						if tc.fromEnv {
							return env[k]
						}
						return ""
					},
					Verify: func(_ context.Context, key *credentials.APIKey, _ string) error {
						if key.Name == revoked.Name {
							return &waas.APIError{Call: "ListPools", HTTPStatus: http.StatusUnauthorized}
						}
						return nil
					},
					Location: time.UTC,
					Profile:  tc.profile,
				}
				err := statusRun(testctx.New(t), opts)
				var ee *cmdutil.ExitError
				switch {
				case tc.exit == 0 && err != nil:
					t.Fatalf("err %v", err)
				case tc.exit != 0 && (!errors.As(err, &ee) || ee.Code != tc.exit):
					t.Fatalf("err %v, want exit %d", err, tc.exit)
				}
				if stderr.Len() != 0 {
					t.Fatalf("stderr %q", stderr)
				}
				clitest.Golden(t, name+".golden", stdout.String())
			})
		}
	}
}
