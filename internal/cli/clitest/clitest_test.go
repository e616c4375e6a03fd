package clitest

import (
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
)

// The guard in Golden would notice a fixed key's secret printed by mistake.
func TestFixedKeySecretLooksSecret(t *testing.T) {
	k := FixedKey(t, 1, FixedNow, "")
	if !credentials.LooksSecret("key: "+k.PrivateKey+"\n") || credentials.LooksSecret(k.Name+" "+k.Fingerprint) {
		t.Fatal("LooksSecret does not tell a fixed key's secret from its name and fingerprint")
	}
	if FixedKey(t, 1, time.Time{}, "").Fingerprint != k.Fingerprint || FixedKey(t, 2, FixedNow, "").Name == k.Name {
		t.Fatal("fixed keys are not the same for the same id, or the same for different ids")
	}
}
