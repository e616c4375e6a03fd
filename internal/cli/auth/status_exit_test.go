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

// `auth status` exits 4 when WaaS rejects the key, whether as unauthenticated (401) or as not
// allowed (403); a server error is no verdict on the key and exits 1.
func TestAuthStatusExitCodeFollowsWaaSAnswer(t *testing.T) {
	store := credentials.NewMemoryStore()
	if err := store.Put(testctx.New(t), &credentials.Item{Profile: "prod", Current: clitest.FixedKey(t, 1, clitest.FixedNow, "")}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Path: "config.yaml", Profiles: map[string]config.Profile{"prod": {}}}
	for _, tc := range []struct {
		status int
		exit   int
	}{
		{http.StatusUnauthorized, cmdutil.ExitAuth},
		{http.StatusForbidden, cmdutil.ExitAuth},
		{http.StatusInternalServerError, cmdutil.ExitFailure},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			err := statusRun(testctx.New(t), &StatusOptions{
				IO:      ios,
				Keyring: func() (credentials.Store, error) { return store, nil },
				Config:  func() (*config.Config, error) { return cfg, nil },
				Output:  func() cmdutil.OutputFormat { return "" },
				Now:     func() time.Time { return clitest.FixedNow },
				Getenv:  func(string) string { return "" },
				Verify: func(context.Context, *credentials.APIKey, string) error {
					return &waas.APIError{Call: "ListPools", HTTPStatus: tc.status}
				},
				Location: time.UTC,
				Profile:  "prod",
			})
			code := cmdutil.ExitFailure
			var ee *cmdutil.ExitError
			if errors.As(err, &ee) {
				code = ee.Code
			}
			if err == nil || code != tc.exit {
				t.Fatalf("HTTP %d: err %v, exit %d; want exit %d", tc.status, err, code, tc.exit)
			}
		})
	}
}
