package team

import "filippo.io/age"

// NewTestIdentity makes an identity that lives only in memory.
func NewTestIdentity() *Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	return &Identity{id: id, Source: "test"}
}

// SecretOf is the private half, for canary searches.
func SecretOf(id *Identity) string { return id.id.String() }

// Decrypt exposes decrypt.
func Decrypt(ct []byte, id *Identity) ([]byte, error) { return decrypt(ct, id) }

var ErrNotARecipient = errNotARecipient

// LockKey is the advisory key of profile's lock.
func LockKey(profile string) int64 { return advisoryKey("profile:" + profile) }

// Freeze stops l's heartbeat as SIGSTOP would, keeping its session open.
func Freeze(l *Lock) { l.stopHeartbeat() }

// SealItem exposes sealItem (a member forging, or replaying, a row).
func SealItem(id *Identity, p *Pins, profile string, version int64, ct []byte) (string, error) {
	return sealItem(id, p, profile, version, ct)
}

// Encrypt exposes encrypt.
func Encrypt(plain []byte, keys ...string) ([]byte, error) {
	var rs []*age.X25519Recipient
	for _, k := range keys {
		r, err := ParseRecipient(k)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return encrypt(plain, rs)
}

// ScalarOf is the identity's raw X25519 private scalar, which sealing decodes: for canary
// searches.
func ScalarOf(id *Identity) []byte {
	b, err := bech32Bytes(id.id.String(), "age-secret-key-")
	if err != nil {
		panic(err)
	}
	return b
}
