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
