package sandbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// A key added with its public half authenticates under the name asked for; its ID cannot be
// taken twice, and a key of another curve is refused.
func TestAddAPIKey(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1})
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	const id = "11111111-0000-4000-8000-000000000000"
	added, err := sb.srv.AddAPIKey(sb.srv.DefaultOrg(), id, priv.Public(), "fixed")
	if err != nil {
		t.Fatal(err)
	}
	if want := "organizations/" + sb.srv.DefaultOrg() + "/apiKeys/" + id; added.Name != want || added.Fingerprint != credentials.Fingerprint(priv.Public()) || added.PrivateKey != "" || added.State != waasapi.APIKeyActive {
		t.Fatalf("added %+v, want %s, active, fingerprint of the key given, no private key", added, want)
	}
	c := clientFor(t, sb.url, waasapi.APIKey{Name: added.Name, Algorithm: "Ed25519", PrivateKey: credentials.EncodeEd25519(priv)})
	if _, err := c.ListPools(testctx.New(t), waas.PageRequest{}); err != nil {
		t.Fatalf("the added key is refused: %v", err)
	}
	if _, err := sb.srv.AddAPIKey(sb.srv.DefaultOrg(), id, priv.Public(), "again"); err == nil {
		t.Fatal("an ID already taken was added again")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := sb.srv.AddAPIKey(sb.srv.DefaultOrg(), "22222222-0000-4000-8000-000000000000", p384.Public(), ""); err == nil {
		t.Fatal("a P-384 key was added")
	}
}
