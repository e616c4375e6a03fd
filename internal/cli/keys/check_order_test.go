package keys

import (
	"context"
	"errors"
	"net/http"
	"strings"
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

// The CI gate's exit code is its worst verdict whatever order the profiles are checked in: a
// key WaaS refuses (4) is not hidden by an overdue (3) or missing (3) profile checked after it.
func TestCheckExitsWithTheWorstVerdictInAnyOrder(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	store := credentials.NewMemoryStore()
	for _, it := range []*credentials.Item{
		{Profile: "stale", Current: clitest.FixedKey(t, 2, now.Add(-120*24*time.Hour), "")},
		{Profile: "revoked", Current: clitest.FixedKey(t, 3, now.Add(-2*time.Hour), "")},
	} {
		if err := store.Put(testctx.New(t), it); err != nil {
			t.Fatal(err)
		}
	}
	for _, profiles := range [][]string{
		{"revoked", "stale"}, {"stale", "revoked"}, {"revoked", "absent"}, {"absent", "stale", "revoked"},
	} {
		t.Run(strings.Join(profiles, ","), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			err := checkRun(testctx.New(t), &CheckOptions{
				IO:      ios,
				Keyring: func() (credentials.Store, error) { return store, nil },
				Config:  func() (*config.Config, error) { return &config.Config{Path: "config.yaml"}, nil },
				Output:  func() cmdutil.OutputFormat { return "" },
				Now:     func() time.Time { return now },
				Verify: func(_ context.Context, profile string, _ *credentials.APIKey) error {
					if profile == "revoked" {
						return &waas.APIError{Call: "ListPools", HTTPStatus: http.StatusUnauthorized}
					}
					return nil
				},
				MaxAge:   "90d",
				Profiles: profiles,
			})
			var ee *cmdutil.ExitError
			if !errors.As(err, &ee) || ee.Code != cmdutil.ExitAuth {
				t.Fatalf("profiles %v: err %v, want exit %d", profiles, err, cmdutil.ExitAuth)
			}
		})
	}
}
