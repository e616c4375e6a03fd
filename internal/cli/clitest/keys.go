package clitest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
)

// FixedKey is a stored key that is the same on every run, for golden output: an Ed25519 key from
// a seed of id repeated, named organizations/{org}/apiKeys/{id x8}-0000-4000-8000-000000000000,
// added at addedAt. Its private key appears in no golden file: commands print only the name and
// the fingerprint.
func FixedKey(t testing.TB, id byte, addedAt time.Time, source string) *credentials.StoredKey {
	t.Helper()
	secret := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{id}, ed25519.SeedSize)))
	name := fmt.Sprintf("organizations/5c3c0c44-cf54-567e-923a-2a0fa82add2d/apiKeys/%s-0000-4000-8000-000000000000", bytes.Repeat([]byte{'0' + id%10}, 8))
	k, err := credentials.NewAPIKey(name, secret, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &credentials.StoredKey{Name: name, PrivateKey: secret, Fingerprint: k.Fingerprint, Algorithm: "Ed25519", AddedAt: addedAt, Source: source}
}
