package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// keyRecord is a registered API key. The sandbox keeps only the public key:
// the private key is handed out once, in the answer to the create call.
type keyRecord struct {
	ID          string
	Org         string
	Algorithm   string // "ES256" or "Ed25519"
	PublicDER   []byte // PKIX
	State       waasapi.APIKeyState
	CreateTime  time.Time
	RevokeTime  time.Time
	LastUseNano int64 // saved copy of lastUse
	RequestID   string
	Nickname    string
	Fingerprint string

	pub     crypto.PublicKey
	lastUse atomic.Int64 // unix nanoseconds; updated without the estate lock
	// propagating is how many more requests the key authenticates although it is
	// revoked (Config.RevocationDelay); not saved: a restart ends the delay.
	propagating atomic.Int64
}

// markRevoked revokes k at now; the caller holds the state's write lock.
func (s *Server) markRevoked(k *keyRecord, now time.Time) {
	if k.State == waasapi.APIKeyRevoked {
		return
	}
	k.State, k.RevokeTime = waasapi.APIKeyRevoked, now.UTC()
	k.propagating.Store(int64(s.cfg.RevocationDelay))
	s.dirty.Store(true)
}

// usePropagation spends one of the requests a revoked key still authenticates
// for; false once they are used up.
func (k *keyRecord) usePropagation() bool {
	for {
		n := k.propagating.Load()
		if n <= 0 {
			return false
		}
		if k.propagating.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (k *keyRecord) name() string { return "organizations/" + k.Org + "/apiKeys/" + k.ID }

func (k *keyRecord) restore() error {
	pub, err := x509.ParsePKIXPublicKey(k.PublicDER)
	if err != nil {
		return fmt.Errorf("API key %s: bad public key: %w", k.ID, err)
	}
	k.pub = pub
	k.lastUse.Store(k.LastUseNano)
	return nil
}

func (k *keyRecord) view() waasapi.APIKey {
	v := waasapi.APIKey{
		Name:        k.name(),
		Algorithm:   k.Algorithm,
		State:       k.State,
		Nickname:    k.Nickname,
		RequestID:   k.RequestID,
		Fingerprint: k.Fingerprint,
		CreateTime:  k.CreateTime.UTC(),
	}
	if n := k.lastUse.Load(); n != 0 {
		t := time.Unix(0, n).UTC()
		v.LastUseTime = &t
	}
	if !k.RevokeTime.IsZero() {
		t := k.RevokeTime.UTC()
		v.RevokeTime = &t
	}
	return v
}

// CreateAPIKey registers a new active key for org and returns it with its
// private key: SEC1 PEM for ES256 (what the official client reads), base64
// of the 64-byte key for Ed25519 (the CDP form).
func (s *Server) CreateAPIKey(org string, req waasapi.CreateAPIKeyRequest) (waasapi.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createKeyLocked(org, req)
}

func (s *Server) createKeyLocked(org string, req waasapi.CreateAPIKeyRequest) (waasapi.APIKey, error) {
	if req.RequestID != "" {
		for _, k := range s.state.Keys {
			if k.Org == org && k.RequestID == req.RequestID {
				return waasapi.APIKey{}, errorf(waasapi.AlreadyExists, "requestId %q already created API key %s", req.RequestID, k.name())
			}
		}
	}
	var (
		signer crypto.Signer
		secret string
		err    error
	)
	switch req.Algorithm {
	case "", "ES256", "ECDSA":
		req.Algorithm = "ES256"
		var k *ecdsa.PrivateKey
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err == nil {
			signer = k
			secret, err = credentials.EncodeSEC1PEM(k)
		}
	case "Ed25519", "EdDSA":
		req.Algorithm = "Ed25519"
		var k ed25519.PrivateKey
		if _, k, err = ed25519.GenerateKey(rand.Reader); err == nil {
			signer = k
			secret = credentials.EncodeEd25519(k)
		}
	default:
		return waasapi.APIKey{}, invalidArg("algorithm %q: want ES256 or Ed25519", req.Algorithm)
	}
	if err != nil {
		return waasapi.APIKey{}, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return waasapi.APIKey{}, err
	}
	rec := &keyRecord{
		ID:          uuid.NewString(),
		Org:         org,
		Algorithm:   req.Algorithm,
		PublicDER:   der,
		State:       waasapi.APIKeyActive,
		CreateTime:  s.now().UTC(),
		RequestID:   req.RequestID,
		Nickname:    req.Nickname,
		Fingerprint: credentials.Fingerprint(signer.Public()),
		pub:         signer.Public(),
	}
	s.state.Keys[rec.ID] = rec
	s.dirty.Store(true)
	s.log.Info("API key created", "key", rec.name(), "fingerprint", rec.Fingerprint)
	v := rec.view()
	v.PrivateKey = secret
	return v, nil
}

// AddAPIKey registers an active key of org with the given ID and public key (ECDSA P-256 or
// Ed25519), whose private half the caller holds: a test's fixed key, whose name and fingerprint
// are then the same on every run, where CreateAPIKey mints a new one each time.
func (s *Server) AddAPIKey(org, id string, pub crypto.PublicKey, nickname string) (waasapi.APIKey, error) {
	alg := ""
	switch k := pub.(type) {
	case ed25519.PublicKey:
		alg = "Ed25519"
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			alg = "ES256"
		}
	}
	if alg == "" {
		return waasapi.APIKey{}, invalidArg("public key %T: want ECDSA P-256 or Ed25519", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return waasapi.APIKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state.Keys[id]; ok {
		return waasapi.APIKey{}, errorf(waasapi.AlreadyExists, "API key %s already exists", id)
	}
	rec := &keyRecord{ID: id, Org: org, Algorithm: alg, PublicDER: der, State: waasapi.APIKeyActive,
		CreateTime: s.now().UTC(), Nickname: nickname, Fingerprint: credentials.Fingerprint(pub), pub: pub}
	s.state.Keys[id] = rec
	s.dirty.Store(true)
	return rec.view(), nil
}

// resolveKey finds a key by the JWT's kid or sub: a full key name or, as
// CDP keys are often given, the bare key ID.
func (s *Server) resolveKey(id string) (resolvedKey, bool) {
	rec := s.lookupKey(id)
	if rec == nil {
		return resolvedKey{}, false
	}
	s.mu.RLock()
	// A revoked key whose revocation has not propagated yet still works.
	active := rec.State == waasapi.APIKeyActive || rec.propagating.Load() > 0
	s.mu.RUnlock()
	return resolvedKey{Name: rec.name(), Public: rec.pub, Active: active}, true
}

func (s *Server) lookupKey(id string) *keyRecord {
	org, keyID := "", id
	if rest, ok := strings.CutPrefix(id, "organizations/"); ok {
		var found bool
		org, keyID, found = strings.Cut(rest, "/apiKeys/")
		if !found {
			return nil
		}
	}
	s.mu.RLock()
	rec := s.state.Keys[keyID]
	s.mu.RUnlock()
	if rec == nil || (org != "" && rec.Org != org) {
		return nil
	}
	return rec
}

// authenticate verifies the request's bearer JWT for audience and returns
// the key that signed it.
func (s *Server) authenticate(r *http.Request, audience string) (*keyRecord, error) {
	authz := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || token == "" {
		return nil, &authError{reason: "missing bearer token"}
	}
	uri := r.Method + " " + r.Host + r.URL.Path
	v, err := s.verifier.verify(token, audience, uri, s.resolveKey)
	if err == nil {
		if !s.nonces.first(v.Name, v.Nonce, v.Expiry.Add(s.verifier.skew), s.now()) {
			err = jwtReject(jwtReasonReplayed)
		} else {
			// A used nonce is state like any other change: with --state the
			// save loop writes it within about a second, so that a restart
			// does not make the token good again.
			s.dirty.Store(true)
		}
	}
	if err != nil {
		s.log.Debug("authentication failed", "uri", uri, "reason", err)
		return nil, err
	}
	rec := s.lookupKey(v.Name)
	if rec == nil { // revoked and deleted between the two look-ups
		return nil, &authError{reason: "unknown API key"}
	}
	s.mu.RLock()
	revoked := rec.State == waasapi.APIKeyRevoked
	s.mu.RUnlock()
	if revoked && !rec.usePropagation() {
		// Revoked while the token was checked, or its delay used up meanwhile.
		return nil, jwtReject(jwtReasonRevoked)
	}
	// Last use is saved with the next save (the nonce above asked for one).
	rec.lastUse.Store(s.now().UnixNano())
	return rec, nil
}

// The key-admin API: what the Coinbase developer portal does by hand.

func (s *Server) createAPIKey(c *call) (any, error) {
	var req waasapi.CreateAPIKeyRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return s.createKeyLocked(c.key.Org, req)
}

func (s *Server) listAPIKeys(c *call) (any, error) {
	var out waasapi.ListAPIKeysResponse
	out.APIKeys = []waasapi.APIKey{}
	for _, k := range s.state.Keys {
		if k.Org == c.key.Org {
			out.APIKeys = append(out.APIKeys, k.view())
		}
	}
	slices.SortFunc(out.APIKeys, func(a, b waasapi.APIKey) int {
		if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func (s *Server) keyInCallerOrg(c *call) (*keyRecord, error) {
	org, id := c.arg(1), c.arg(3)
	k := s.state.Keys[id]
	if k == nil || k.Org != org || org != c.key.Org {
		return nil, notFound("API key", c.name)
	}
	return k, nil
}

func (s *Server) getAPIKey(c *call) (any, error) {
	k, err := s.keyInCallerOrg(c)
	if err != nil {
		return nil, err
	}
	return k.view(), nil
}

// revokeAPIKey revokes a key; revoking a revoked key is not an error, so a
// retried revocation succeeds.
func (s *Server) revokeAPIKey(c *call) (any, error) {
	k, err := s.keyInCallerOrg(c)
	if err != nil {
		return nil, err
	}
	if k.State != waasapi.APIKeyRevoked {
		s.markRevoked(k, c.now)
		s.log.Info("API key revoked", "key", k.name(), "fingerprint", k.Fingerprint, "by", c.key.name())
	}
	return k.view(), nil
}

// RevokeAPIKey revokes a key by name, for tests and the demo.
func (s *Server) RevokeAPIKey(name string) error {
	rec := s.lookupKey(name)
	if rec == nil {
		return fmt.Errorf("API key %s not found", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markRevoked(rec, s.now())
	return nil
}

// APIKeys lists the keys of org as the key-admin API shows them.
func (s *Server) APIKeys(org string) []waasapi.APIKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, _ := s.listAPIKeys(&call{key: &keyRecord{Org: org}})
	return out.(waasapi.ListAPIKeysResponse).APIKeys
}

// nonceCache remembers the nonces of tokens until they expire, so that each
// token authenticates one request: a token copied off the wire is useless.
type nonceCache struct {
	mu      sync.Mutex
	seen    map[string]time.Time // key name + nonce -> when the token expires
	inserts int
}

// first records (key, nonce) and says whether it is new. Expired entries
// are swept now and then, so the map holds about a token lifetime's worth.
func (c *nonceCache) first(key, nonce string, until, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	id := key + "\x00" + nonce
	if exp, ok := c.seen[id]; ok && exp.After(now) {
		return false
	}
	c.seen[id] = until
	if c.inserts++; c.inserts%4096 == 0 {
		c.sweep(now)
	}
	return true
}

func (c *nonceCache) sweep(now time.Time) {
	for k, exp := range c.seen {
		if !exp.After(now) {
			delete(c.seen, k)
		}
	}
}

// live returns a copy of the entries whose tokens are still valid at now:
// what a save keeps.
func (c *nonceCache) live(now time.Time) map[string]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	return maps.Clone(c.seen)
}

// restore loads saved entries, dropping those whose tokens have expired.
func (c *nonceCache) restore(saved map[string]time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = maps.Clone(saved)
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	c.sweep(now)
}
