package cmdutil

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/team"
)

// Without a state backend the local keyring is used and no database is touched; with one that
// cannot be reached, the error names the database and never the password; a profile with its
// own local state stays local even when the top level is postgres.
func TestOpenKeyStorePicksTheBackend(t *testing.T) {
	local := credentials.NewMemoryStore()
	openLocal := func() (credentials.Store, error) { return local, nil }
	none := func(string) string { return "" }
	cfg, err := config.Parse("config.yaml", []byte(`
state: {backend: postgres, dsn: "postgres://ops:hunter2@127.0.0.1:1/team?connect_timeout=2"}
profiles:
  lab: {state: {backend: local}}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := &Factory{Profile: "prod", Config: func() (*config.Config, error) { return &config.Config{}, nil }}
	if s, err := OpenKeyStore(context.Background(), f, none, openLocal); err != nil || s != local {
		t.Fatalf("no state block: %v, %v", s, err)
	}
	f.Config = func() (*config.Config, error) { return cfg, nil }
	f.Profile = "lab"
	if s, err := OpenKeyStore(context.Background(), f, none, openLocal); err != nil || s != local {
		t.Fatalf("a profile with local state: %v, %v", s, err)
	}
	f.Profile = "prod"
	_, err = OpenKeyStore(context.Background(), f, none, openLocal)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "postgres database team on 127.0.0.1 as ops") {
		t.Fatalf("an unreachable team store: %v", err)
	}
	if _, err := OpenTeamStore(context.Background(), &Factory{}, none); !errors.Is(err, ErrNoTeamStore) {
		t.Fatalf("OpenTeamStore with nothing configured: %v", err)
	}
	// The identity comes from the environment without opening the keyring.
	f.LocalKeyring = func() (credentials.Store, error) { t.Fatal("the keyring was opened"); return nil, nil }
	if _, err := LoadAgeIdentity(context.Background(), f, func(k string) string {
		if k == team.IdentityEnv {
			return "AGE-SECRET-KEY-1NOTVALID"
		}
		return ""
	}); err == nil || strings.Contains(err.Error(), "NOTVALID") {
		t.Fatalf("a bad WAASCTL_AGE_IDENTITY: %v", err)
	}
}
