package keys

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

// TestKeysCheck: the CI gate's table and its verdicts on stderr, for a key within its age, one
// overdue, one WaaS refuses and a profile with no key: exit 4 (the rejection is the worst).
func TestKeysCheck(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	store := credentials.NewMemoryStore()
	for _, it := range []*credentials.Item{
		{Profile: "fresh", Current: clitest.FixedKey(t, 1, now.Add(-10*24*time.Hour), "")},
		{Profile: "stale", Current: clitest.FixedKey(t, 2, now.Add(-120*24*time.Hour), "")},
		{Profile: "revoked", Current: clitest.FixedKey(t, 3, now.Add(-2*time.Hour), "")},
	} {
		if err := store.Put(testctx.New(t), it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		terminal bool
		format   cmdutil.OutputFormat
	}{
		{"check_tty", true, ""},
		{"check_nontty", false, ""},
		{"check_json", false, cmdutil.OutputJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			if tc.terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			opts := &CheckOptions{
				IO:      ios,
				Keyring: func() (credentials.Store, error) { return store, nil },
				Config:  func() (*config.Config, error) { return &config.Config{Path: "config.yaml"}, nil },
				Output:  func() cmdutil.OutputFormat { return tc.format },
				Now:     func() time.Time { return now },
				Verify: func(_ context.Context, profile string, _ *credentials.APIKey) error {
					if profile == "revoked" {
						return &waas.APIError{Call: "ListPools", HTTPStatus: http.StatusUnauthorized}
					}
					return nil
				},
				MaxAge:   "90d",
				Profiles: []string{"fresh", "stale", "revoked", "absent"},
			}
			err := checkRun(testctx.New(t), opts)
			var ee *cmdutil.ExitError
			if !errors.As(err, &ee) || ee.Code != cmdutil.ExitAuth {
				t.Fatalf("err %v, want exit %d", err, cmdutil.ExitAuth)
			}
			clitest.Golden(t, tc.name+".golden", stdout.String())
			clitest.Golden(t, tc.name+".stderr.golden", stderr.String())
		})
	}
}
