package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
)

// goldenEndpoint is the profile's endpoint in the auth golden tests; Verify is injected, so
// nothing is sent there.
const goldenEndpoint = "https://waas.example.test"

// writeKeyFile writes k as the portal's download ({"name", "privateKey"}) to path.
func writeKeyFile(t *testing.T, path string, k *credentials.StoredKey) {
	t.Helper()
	data, err := json.Marshal(map[string]string{"name": k.Name, "privateKey": k.PrivateKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuthAddGolden: what `auth add` says, on a terminal and piped, when it stores a first key
// from a file it then deletes (--remove-source), replaces a current key (--force; the old one
// is kept as previous, and a previous key WaaS already refuses is let go), and stores a key
// unchecked (--no-verify). Everything goes to stderr; the key file's content never does.
func TestAuthAddGolden(t *testing.T) {
	first, second, third := clitest.FixedKey(t, 1, clitest.FixedNow, ""), clitest.FixedKey(t, 2, clitest.FixedNow, ""), clitest.FixedKey(t, 3, clitest.FixedNow, "")
	for _, tc := range []struct {
		name   string
		before *credentials.Item // what the keyring holds for prod first; nil: nothing
		opts   func(*AddOptions)
	}{
		{"add_new", nil, func(o *AddOptions) { o.RemoveSource = true }},
		{"add_force", &credentials.Item{Profile: "prod", Current: second, Previous: third}, func(o *AddOptions) { o.Force = true }},
		{"add_no_verify", nil, func(o *AddOptions) { o.NoVerify = true }},
	} {
		for _, terminal := range []bool{true, false} {
			name := tc.name + map[bool]string{true: "_tty", false: "_nontty"}[terminal]
			t.Run(name, func(t *testing.T) {
				t.Chdir(t.TempDir())
				writeKeyFile(t, "cdp_api_key.json", first)
				store := credentials.NewMemoryStore()
				if tc.before != nil {
					if err := store.Put(testctx.New(t), tc.before); err != nil {
						t.Fatal(err)
					}
				}
				ios, _, stdout, stderr := iostreams.Test()
				if terminal {
					ios.SetStdoutTTY(true)
					ios.SetTerminalWidth(120)
				}
				cfg := &config.Config{Path: "config.yaml", Profiles: map[string]config.Profile{"prod": {Endpoint: goldenEndpoint}}}
				opts := &AddOptions{
					IO:       ios,
					Keyring:  func() (credentials.Store, error) { return store, nil },
					Config:   func() (*config.Config, error) { return cfg, nil },
					AuditDir: func() (string, error) { return "audit", nil },
					StateDir: func() (string, error) { return "state", nil },
					// WaaS accepts every key but the third, which a rotation revoked.
					Verify: func(_ context.Context, key *credentials.APIKey, _ string) error {
						if key.Name == third.Name {
							return &waas.APIError{Call: "ListPools", HTTPStatus: http.StatusUnauthorized}
						}
						return nil
					},
					Profile: "prod",
					KeyFile: "cdp_api_key.json",
				}
				tc.opts(opts)
				if err := addRun(testctx.New(t), opts); err != nil {
					t.Fatalf("err %v, stderr %s", err, stderr)
				}
				it, err := store.Get(testctx.New(t), "prod")
				if err != nil || it.Current.Fingerprint != first.Fingerprint {
					t.Fatalf("the keyring's current key is not the one added (%v)", err)
				}
				clitest.Golden(t, name+".golden", stdout.String())
				clitest.Golden(t, name+".stderr.golden", stderr.String())
			})
		}
	}
}

// TestAuthRemoveGolden: what `auth remove --yes` says, on a terminal and piped, when it deletes
// a profile's current and previous keys: that WaaS still has them.
func TestAuthRemoveGolden(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		name := "remove" + map[bool]string{true: "_tty", false: "_nontty"}[terminal]
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			store := credentials.NewMemoryStore()
			item := &credentials.Item{Profile: "prod", Current: clitest.FixedKey(t, 1, clitest.FixedNow, ""), Previous: clitest.FixedKey(t, 2, clitest.FixedNow, "")}
			if err := store.Put(testctx.New(t), item); err != nil {
				t.Fatal(err)
			}
			ios, _, stdout, stderr := iostreams.Test()
			if terminal {
				ios.SetStdoutTTY(true)
				ios.SetTerminalWidth(120)
			}
			opts := &RemoveOptions{
				IO:       ios,
				Keyring:  func() (credentials.Store, error) { return store, nil },
				AuditDir: func() (string, error) { return "audit", nil },
				StateDir: func() (string, error) { return "state", nil },
				Profile:  "prod",
				Yes:      true,
			}
			if err := removeRun(testctx.New(t), opts); err != nil {
				t.Fatalf("err %v, stderr %s", err, stderr)
			}
			if _, err := store.Get(testctx.New(t), "prod"); err == nil {
				t.Fatal("the profile's keys are still in the keyring")
			}
			clitest.Golden(t, name+".golden", stdout.String())
			clitest.Golden(t, name+".stderr.golden", stderr.String())
		})
	}
}
