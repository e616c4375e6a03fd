package credentials

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// ed25519Secret is what a CDP key file's privateKey holds: base64 of the 64-byte key. Pasted
// into the name field, it is the secret that must never be printed as a name.
func ed25519Secret(t testing.TB) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// assertKeyNameRefused checks that err is CheckKeyName's refusal of secret: one line, the length
// given, the secret (and any part of it worth having) nowhere.
func assertKeyNameRefused(t testing.TB, what string, err error, secret string) {
	t.Helper()
	if !errors.Is(err, ErrKeyName) {
		t.Fatalf("%s: %v, want a key name error", what, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Fatalf("%s: not one line: %q", what, msg)
	}
	if want := fmt.Sprintf("key name (%d characters) is not %s", utf8.RuneCountInString(strings.TrimSpace(secret)), KeyNameForms); !strings.Contains(msg, want) {
		t.Fatalf("%s: %q does not say %q", what, msg, want)
	}
	rest := strings.Replace(msg, KeyNameForms, "", 1) // the forms' own text may share words with a bad name
	for i := 0; i+8 <= len(secret); i += 4 {
		if strings.Contains(rest, secret[i:i+8]) {
			t.Fatalf("%s: the error quotes the rejected name: %q", what, msg)
		}
	}
}

func TestCheckKeyName(t *testing.T) {
	for _, name := range []string{
		"organizations/2d8b1c7e-0c4f-4b6a-9a51-3f1e2d4c5b6a/apiKeys/8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b",
		"organizations/2D8B1C7E-0C4F-4B6A-9A51-3F1E2D4C5B6A/apiKeys/8F7E6D5C-4B3A-4291-8A7B-6C5D4E3F2A1B",
		"8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b", // a CDP key ID
		testKeyName("any"),
	} {
		if err := CheckKeyName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	secret := ed25519Secret(t)
	raw, _ := base64.StdEncoding.DecodeString(secret)
	for what, name := range map[string]string{
		"Ed25519 secret, base64":          secret,
		"Ed25519 secret, URL base64":      base64.RawURLEncoding.EncodeToString(raw),
		"Ed25519 seed, hex":               hex.EncodeToString(raw[:32]),
		"PEM":                             strings.TrimSpace(testSecret(t)),
		"secret as the key id":            "organizations/2d8b1c7e-0c4f-4b6a-9a51-3f1e2d4c5b6a/apiKeys/" + base64.RawURLEncoding.EncodeToString(raw[:32]),
		"placeholder segments":            "organizations/o/apiKeys/k",
		"UUID with something after it":    "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b\n" + secret,
		"organizations with a bare ID":    "organizations/8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b",
		"UUID without dashes, 32 hex":     "8f7e6d5c4b3a42918a7b6c5d4e3f2a1b",
		"non-ASCII counted in characters": "organizations/é/apiKeys/ü",
	} {
		assertKeyNameRefused(t, what, CheckKeyName(name), name)
	}
}

// TestSecretAsKeyNameIsRefusedFromEverySource: a private key in the name field, from each place
// a name comes from in this package, is refused before use and never quoted.
func TestSecretAsKeyNameIsRefusedFromEverySource(t *testing.T) {
	secret := ed25519Secret(t)
	keyFile := func(field string) []byte {
		data, _ := json.Marshal(map[string]string{field: secret, "privateKey": secret})
		return data
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, keyFile("name"), 0o600); err != nil {
		t.Fatal(err)
	}
	sources := map[string]func() error{
		"NewAPIKey": func() error { _, err := NewAPIKey(secret, secret, "test"); return err },
		"key file (name)": func() error {
			_, err := LoadKeyFile(path)
			return err
		},
		"key file (CDP id)":     func() error { _, err := ParseKeyFile(keyFile("id"), "file x"); return err },
		"auth add input (JSON)": func() error { _, err := ParseKeyInput(keyFile("name"), "stdin"); return err },
		"auth add input (.env)": func() error {
			_, err := ParseKeyInput([]byte(EnvOfficialName+"="+secret+"\n"+EnvOfficialPrivateKey+"="+secret+"\n"), "stdin")
			return err
		},
		"--key-file via Lookup": func() error { _, err := Lookup(path, envOf(nil)); return err },
		EnvKeyName + " via Lookup": func() error {
			_, err := Lookup("", envOf(map[string]string{EnvKeyName: secret, EnvKeyPrivateKey: secret}))
			return err
		},
		EnvOfficialName + " via Lookup": func() error {
			_, err := Lookup("", envOf(map[string]string{EnvOfficialName: secret, EnvOfficialPrivateKey: secret}))
			return err
		},
	}
	for what, f := range sources {
		assertKeyNameRefused(t, what, f(), secret)
	}
	// The environment's error names the variable that is wrong: the name's, not the key's.
	_, err := Lookup("", envOf(map[string]string{EnvOfficialName: secret, EnvOfficialPrivateKey: secret}))
	if !strings.HasPrefix(err.Error(), EnvOfficialName+": ") {
		t.Fatalf("the error does not name %s: %v", EnvOfficialName, err)
	}
}

// TestKeyringRefusesASecretAsKeyName: Put never stores such a name, and one found in an item
// (an older waasctl stored it, or the item was edited) is refused on Get, unquoted, as a damaged
// item that auth remove can delete.
func TestKeyringRefusesASecretAsKeyName(t *testing.T) {
	ctx := context.Background()
	secret := ed25519Secret(t)
	s := NewMemoryStore()
	for _, slot := range []string{"current", "pending", "previous"} {
		item := &Item{Profile: "p", Current: storeKey(t, 0, "cur")}
		bad := storeKey(t, 1, "bad")
		bad.Name = secret
		switch slot {
		case "current":
			item.Current = bad
		case "pending":
			item.Pending = bad
		case "previous":
			item.Previous = bad
		}
		err := s.Put(ctx, item)
		assertKeyNameRefused(t, "Put, "+slot, err, secret)
		if !strings.Contains(err.Error(), "the "+slot+" key") {
			t.Fatalf("Put, %s: the error does not name the slot: %v", slot, err)
		}

		data, err := encodeItem(item) // as an older waasctl would have stored it
		if err != nil {
			t.Fatal(err)
		}
		_, err = decodeItem(data, "p", "test")
		assertKeyNameRefused(t, "Get, "+slot, err, secret)
		if !errors.Is(err, ErrItemDamaged) || !strings.Contains(err.Error(), "waasctl auth remove p") {
			t.Fatalf("Get, %s: %v, want a damaged item to remove", slot, err)
		}
	}
}
