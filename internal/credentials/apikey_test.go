package credentials

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testSecret(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := EncodeSEC1PEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemText
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLookupOrder(t *testing.T) {
	secret := testSecret(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "key.json")
	data, _ := json.Marshal(map[string]string{"name": "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/17139055-4df6-4361-8282-4ec64d7cbd91", "privateKey": secret})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		EnvKeyName: "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/c8812118-37dc-4584-8cb7-c40991eae85d", EnvKeyPrivateKey: strings.ReplaceAll(secret, "\n", `\n`),
		EnvOfficialName: "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/7f7aaeba-5fbb-401b-8f9e-e437d23bfe85", EnvOfficialPrivateKey: secret,
	}
	k, err := Lookup(file, envOf(env))
	if err != nil || k.Name != "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/17139055-4df6-4361-8282-4ec64d7cbd91" || !strings.HasPrefix(k.Source, "file ") {
		t.Fatalf("a key file comes first: %v %v", k, err)
	}
	k, err = Lookup("", envOf(env))
	if err != nil || k.Name != "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/c8812118-37dc-4584-8cb7-c40991eae85d" {
		t.Fatalf("then waasctl's variables: %v %v", k, err)
	}
	delete(env, EnvKeyName)
	delete(env, EnvKeyPrivateKey)
	k, err = Lookup("", envOf(env))
	if err != nil || k.Name != "organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/7f7aaeba-5fbb-401b-8f9e-e437d23bfe85" {
		t.Fatalf("then the official client's: %v %v", k, err)
	}
	if _, err := Lookup("", envOf(nil)); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("nothing set: %v", err)
	}
}

func TestLookupErrorsNeverShowTheSecret(t *testing.T) {
	secret := testSecret(t)
	body := secret[40:80]
	cases := map[string]func() error{
		"half a pair": func() error {
			_, err := Lookup("", envOf(map[string]string{EnvKeyPrivateKey: secret}))
			return err
		},
		"truncated secret": func() error {
			_, err := Lookup("", envOf(map[string]string{EnvKeyName: testKeyName("n"), EnvKeyPrivateKey: secret[:len(secret)/2]}))
			return err
		},
		"key file that is not JSON": func() error {
			_, err := ParseKeyFile([]byte(secret), "file x")
			return err
		},
		"key file without a name": func() error {
			_, err := ParseKeyFile([]byte(fmt.Sprintf(`{"privateKey": %q}`, secret)), "file x")
			return err
		},
	}
	for name, f := range cases {
		err := f()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), body) {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

func TestAPIKeyPrintsNoSecret(t *testing.T) {
	secret := testSecret(t)
	k, err := NewAPIKey("organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022", secret, "test")
	if err != nil {
		t.Fatal(err)
	}
	d := k.Signer.(*ecdsa.PrivateKey).D.String()
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v", k), fmt.Sprintf("%+v", *k), fmt.Sprintf("%#v", k), fmt.Sprintf("%#v", *k)} {
		if strings.Contains(s, secret[40:80]) || strings.Contains(s, d) {
			t.Fatalf("printing the key shows its secret: %s", s)
		}
	}
	if !strings.Contains(k.String(), "SHA256:") {
		t.Fatalf("String() = %q, want the name and fingerprint", k.String())
	}
}

func TestCDPKeyFile(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyFile([]byte(`{"id": "9e33a4e0-5b8b-4d4e-9d21-7b4f8a1c2d3e", "privateKey": "`+EncodeEd25519(ed)+`"}`), "file cdp.json")
	if err != nil || k.Name != "9e33a4e0-5b8b-4d4e-9d21-7b4f8a1c2d3e" {
		t.Fatalf("%v %v", k, err)
	}
}

// TestLookupRefusesHalfAPair: one variable of a pair set without the other
// is a mistake to name, not a pair to skip (skipping would fall through to
// another key, or the keyring's, silently).
func TestLookupRefusesHalfAPair(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{EnvKeyName: "organizations/o/apiKeys/k"}, EnvKeyName + " is set but " + EnvKeyPrivateKey + " is not"},
		{map[string]string{EnvKeyPrivateKey: "x"}, EnvKeyPrivateKey + " is set but " + EnvKeyName + " is not"},
		{map[string]string{EnvOfficialName: "organizations/o/apiKeys/k"}, EnvOfficialName + " is set but " + EnvOfficialPrivateKey + " is not"},
		{map[string]string{EnvOfficialPrivateKey: "x"}, EnvOfficialPrivateKey + " is set but " + EnvOfficialName + " is not"},
	} {
		_, err := Lookup("", func(k string) string { return tc.set[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.set, err, tc.want)
		}
	}
	if _, err := Lookup("", func(string) string { return "" }); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("nothing set: err %v, want ErrNoCredentials", err)
	}
}
