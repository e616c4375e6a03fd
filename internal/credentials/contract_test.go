package credentials_test

import (
	"errors"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/credentials/storetest"
)

// The shared contract (storetest.Run), on the stores of this package. The team store runs it
// in internal/team.
func TestContractMemoryStore(t *testing.T) {
	storetest.Run(t, credentials.NewMemoryStore(), storetest.Options{})
}

func TestContractFileKeyring(t *testing.T) {
	dir := t.TempDir()
	open := func(t *testing.T) credentials.Store {
		s, err := credentials.OpenStore(credentials.StoreConfig{Backend: "file", FileDir: dir, Passphrase: func() (string, error) { return "contract test", nil }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t, open(t), storetest.Options{Reopen: open})
}

// SecretStore: the host's own secrets (the team identity) round-trip, are not profiles, and a
// missing one says so.
func TestSecretStore(t *testing.T) {
	dir := t.TempDir()
	for name, s := range map[string]credentials.Store{
		"memory": credentials.NewMemoryStore(),
		"file": func() credentials.Store {
			s, err := credentials.OpenStore(credentials.StoreConfig{Backend: "file", FileDir: dir, Passphrase: func() (string, error) { return "p", nil }})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			ss := s.(credentials.SecretStore)
			if _, err := ss.GetSecret(ctx, "age-identity"); !errors.Is(err, credentials.ErrSecretNotFound) {
				t.Fatalf("GetSecret of a missing secret: %v", err)
			}
			if err := ss.PutSecret(ctx, "age-identity", "AGE-SECRET-KEY-1TEST"); err != nil {
				t.Fatal(err)
			}
			got, err := ss.GetSecret(ctx, "age-identity")
			if err != nil || got != "AGE-SECRET-KEY-1TEST" {
				t.Fatalf("GetSecret = %q, %v", got, err)
			}
			if ps, err := s.Profiles(ctx); err != nil || len(ps) != 0 {
				t.Fatalf("a secret is listed as a profile: %v, %v", ps, err)
			}
			if err := ss.RemoveSecret(ctx, "age-identity"); err != nil {
				t.Fatal(err)
			}
			if err := ss.RemoveSecret(ctx, "age-identity"); !errors.Is(err, credentials.ErrSecretNotFound) {
				t.Fatalf("second RemoveSecret: %v", err)
			}
			if err := ss.PutSecret(ctx, "../x", "v"); err == nil {
				t.Fatal("PutSecret took a name with a path in it")
			}
		})
	}
}
