package sandbox

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The emulator authenticates every request the way the real WaaS API is
// assumed to: a per-request ES256 (or, for CDP keys, EdDSA) bearer JWT bound
// to the service audience and to "METHOD host/path". No public source states
// the server's exact rules (clock skew, replay protection), so these are
// deliberately strict but accept everything the official clients emit.

// authError is the only error type verify returns. Its reason is a short
// fixed phrase: never any part of the token, which is a live credential for
// up to a minute or two.
type authError struct{ reason string }

func (e *authError) Error() string { return "unauthenticated: " + e.reason }

// Rejection reasons, one per rule.
const (
	jwtReasonMalformed       = "malformed token"
	jwtReasonTooLarge        = "token too large"
	jwtReasonAlgorithm       = "algorithm not allowed"
	jwtReasonSignatureCount  = "exactly one signature required"
	jwtReasonTyp             = "invalid typ header"
	jwtReasonMissingKid      = "missing kid"
	jwtReasonUnknownKey      = "unknown API key"
	jwtReasonKeyType         = "algorithm does not match key type"
	jwtReasonSignature       = "signature invalid"
	jwtReasonSubject         = "subject does not match key id"
	jwtReasonRevoked         = "API key is revoked"
	jwtReasonClaims          = "malformed claims"
	jwtReasonIssuer          = "issuer not allowed"
	jwtReasonIssuerAlgorithm = "algorithm not allowed for issuer"
	jwtReasonAudience        = "audience mismatch"
	jwtReasonURI             = "uri mismatch"
	jwtReasonMissingExp      = "missing exp"
	jwtReasonMissingNbf      = "missing nbf"
	jwtReasonBeforeRestart   = "token made before the sandbox restarted from its state file"
	jwtReasonNotYetValid     = "token not yet valid"
	jwtReasonExpired         = "token expired"
	jwtReasonIssuedFuture    = "token issued in the future"
	jwtReasonLifetime        = "invalid token lifetime"
	jwtReasonLifetimeTooLong = "token lifetime too long"
	jwtReasonMissingNonce    = "missing nonce"
	jwtReasonReplayed        = "token already used"
)

func jwtReject(reason string) error { return &authError{reason: reason} }

const (
	// jwtIssuerWaaS is the legacy Coinbase Cloud issuer used by
	// waas-client-library-go; its tokens carry a string "uri" claim.
	jwtIssuerWaaS = "coinbase-cloud"
	// jwtIssuerCDP is the newer CDP issuer; its tokens carry a "uris" array
	// and may be EdDSA.
	jwtIssuerCDP = "cdp"
	// jwtAudienceCDP is the CDP SDKs' default audience, valid for any service.
	jwtAudienceCDP = "cdp_service"
	// jwtMaxTokenBytes bounds the work done on unauthenticated input; real
	// tokens are well under 1 KiB.
	jwtMaxTokenBytes = 8 << 10
)

// jwtAllowedAlgs is the complete allow-list. Anything else, notably "none"
// and the HMAC family (the public-key-as-HMAC-secret confusion attack), fails
// at parse time.
var jwtAllowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA}

// resolvedKey is what the verifier needs to know about a registered API key.
type resolvedKey struct {
	Name   string
	Public crypto.PublicKey
	Active bool
}

// keyResolver finds a key by the JWT's kid/sub: either the full name
// organizations/{org}/apiKeys/{id} or a bare key id.
type keyResolver func(id string) (resolvedKey, bool)

type jwtVerifier struct {
	now         func() time.Time
	skew        time.Duration // tolerated clock difference, each way
	maxLifetime time.Duration // longest exp-nbf accepted
	// notBefore, when set, refuses tokens whose nbf is earlier: a sandbox
	// restored from --state cannot know every nonce used before it stopped
	// (they are saved a second or so after use), so it takes no token made
	// before it started serving.
	notBefore time.Time
}

// newJWTVerifier allows 30 s of skew, generous next to the 60 s tokens, and
// the lifetimes the clients use: 60 s for the legacy form (what the official
// client signs), 120 s for the CDP form (the CDP SDKs' default). A leaked
// token is of little use for long, and the nonce makes it good for one
// request only.
func newJWTVerifier(now func() time.Time) jwtVerifier {
	if now == nil {
		now = time.Now
	}
	return jwtVerifier{now: now, skew: 30 * time.Second, maxLifetime: 2 * time.Minute}
}

// jwtWaaSMaxLifetime is the legacy form's cap: the official client signs
// exactly nbf+60s.
const jwtWaaSMaxLifetime = time.Minute

// verify checks token for a request to audience with uri "METHOD host/path";
// it returns the key's full name. Every error is an *authError.
//
// The checks run in an order that never trusts unauthenticated data more
// than needed: header sanity, key lookup, signature, and only then the
// claims (including sub and the revocation state, so an unauthenticated
// caller cannot probe which keys are revoked).
func (v jwtVerifier) verify(token, audience, uri string, resolve keyResolver) (jwtVerified, error) {
	name, nonce, exp, err := v.verifyToken(token, audience, uri, resolve)
	return jwtVerified{Name: name, Nonce: nonce, Expiry: exp}, err
}

// jwtVerified is what a valid token proves: the key, and the nonce and
// expiry the caller needs to refuse a replay.
type jwtVerified struct {
	Name   string
	Nonce  string
	Expiry time.Time
}

func (v jwtVerifier) verifyToken(token, audience, uri string, resolve keyResolver) (string, string, time.Time, error) {
	sig, obj, err := jwtParse(token)
	if err != nil {
		return "", "", time.Time{}, err
	}
	key, err := jwtKeyFor(sig.Header, resolve)
	if err != nil {
		return "", "", time.Time{}, err
	}
	payload, err := obj.Verify(key.Public)
	if err != nil {
		return "", "", time.Time{}, jwtReject(jwtReasonSignature)
	}
	c, err := jwtDecodeClaims(payload)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if !jwtSameKey(c.sub, key, resolve) {
		return "", "", time.Time{}, jwtReject(jwtReasonSubject)
	}
	if !key.Active {
		return "", "", time.Time{}, jwtReject(jwtReasonRevoked)
	}
	if err := c.checkBinding(jose.SignatureAlgorithm(sig.Header.Algorithm), audience, uri); err != nil {
		return "", "", time.Time{}, err
	}
	if err := v.checkTimes(c); err != nil {
		return "", "", time.Time{}, err
	}
	if sig.Header.Nonce == "" {
		return "", "", time.Time{}, jwtReject(jwtReasonMissingNonce)
	}
	return key.Name, sig.Header.Nonce, *c.exp, nil
}

// jwtParse parses a compact JWS with go-jose, restricted to the allow-list,
// and checks the header fields that need no key.
func jwtParse(token string) (jose.Signature, *jose.JSONWebSignature, error) {
	if len(token) > jwtMaxTokenBytes {
		return jose.Signature{}, nil, jwtReject(jwtReasonTooLarge)
	}
	if !jwtCompactCharset(token) {
		// Go's base64 decoders skip CR and LF, so without this a token with
		// stray newlines would parse; insist on the canonical form instead.
		return jose.Signature{}, nil, jwtReject(jwtReasonMalformed)
	}
	obj, err := jose.ParseSignedCompact(token, jwtAllowedAlgs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return jose.Signature{}, nil, jwtReject(jwtReasonAlgorithm)
		}
		return jose.Signature{}, nil, jwtReject(jwtReasonMalformed)
	}
	// Compact serialisation always has exactly one; checked anyway so that
	// a future switch to JSON serialisation cannot smuggle in a second one.
	if len(obj.Signatures) != 1 {
		return jose.Signature{}, nil, jwtReject(jwtReasonSignatureCount)
	}
	sig := obj.Signatures[0]
	if typ, ok := sig.Header.ExtraHeaders[jose.HeaderType]; ok && typ != "JWT" {
		return jose.Signature{}, nil, jwtReject(jwtReasonTyp)
	}
	return sig, obj, nil
}

// jwtCompactCharset reports whether s uses only base64url characters and
// the dots between segments.
func jwtCompactCharset(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// jwtKeyFor resolves the kid header and checks that the token's algorithm
// fits the key. Any embedded "jwk" or "x5c" header is ignored: only keys
// registered with the emulator are trusted.
func jwtKeyFor(h jose.Header, resolve keyResolver) (resolvedKey, error) {
	if h.KeyID == "" {
		return resolvedKey{}, jwtReject(jwtReasonMissingKid)
	}
	key, ok := resolve(h.KeyID)
	if !ok || key.Name == "" {
		return resolvedKey{}, jwtReject(jwtReasonUnknownKey)
	}
	if !jwtAlgFits(jose.SignatureAlgorithm(h.Algorithm), key.Public) {
		return resolvedKey{}, jwtReject(jwtReasonKeyType)
	}
	return key, nil
}

// jwtSameKey reports whether sub names key. kid and sub may spell the key
// differently (full name vs bare id), so both are compared once resolved.
func jwtSameKey(sub string, key resolvedKey, resolve keyResolver) bool {
	if sub == "" {
		return false
	}
	k, ok := resolve(sub)
	return ok && k.Name == key.Name
}

func jwtAlgFits(alg jose.SignatureAlgorithm, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return alg == jose.ES256 && k != nil && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == jose.EdDSA && len(k) == ed25519.PublicKeySize
	default:
		return false
	}
}

// jwtClaims holds the registered and Coinbase-specific claims verify needs.
type jwtClaims struct {
	iss, sub      string
	aud           []string
	exp, nbf, iat *time.Time
	uri           *string
	uris          []string
}

// jwtDecodeClaims decodes the payload strictly: it must be a single JSON
// object without duplicate names (parsers disagree on which duplicate wins,
// a classic way to smuggle a second audience past one of them), and every
// claim we read must have the right JSON type.
func jwtDecodeClaims(payload []byte) (jwtClaims, error) {
	var c jwtClaims
	bad := jwtReject(jwtReasonClaims)
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return c, bad
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok || seen[name] {
			return c, bad
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return c, bad
		}
		if err := c.set(name, raw); err != nil {
			return c, bad
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return c, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, bad // trailing data after the object
	}
	return c, nil
}

// set stores one claim; unknown claims are ignored.
func (c *jwtClaims) set(name string, raw json.RawMessage) error {
	var err error
	switch name {
	case "iss":
		err = json.Unmarshal(raw, &c.iss)
	case "sub":
		err = json.Unmarshal(raw, &c.sub)
	case "aud":
		c.aud, err = jwtStrings(raw)
	case "uri":
		var s string
		if err = json.Unmarshal(raw, &s); err == nil {
			c.uri = &s
		}
	case "uris":
		err = json.Unmarshal(raw, &c.uris)
	case "exp":
		c.exp, err = jwtNumericDate(raw)
	case "nbf":
		c.nbf, err = jwtNumericDate(raw)
	case "iat":
		c.iat, err = jwtNumericDate(raw)
	}
	return err
}

// jwtStrings accepts a JSON string or array of strings, as RFC 7519 allows
// for "aud".
func jwtStrings(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	err := json.Unmarshal(raw, &many)
	return many, err
}

// jwtMaxNumericDate caps NumericDates well inside int64 nanoseconds and
// time.Time arithmetic (year ~2500), so exp-nbf cannot overflow into a
// small or negative lifetime.
const jwtMaxNumericDate = 1 << 34

var errJWTNumericDate = errors.New("bad NumericDate")

// jwtNumericDate parses a JSON number of seconds since the epoch (fractions
// allowed, as RFC 7519 permits). Strings, null, negatives and absurdly large
// values are rejected rather than silently clamped.
func jwtNumericDate(raw json.RawMessage) (*time.Time, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return nil, errJWTNumericDate
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f >= jwtMaxNumericDate {
		return nil, errJWTNumericDate
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9))
	return &t, nil
}

// checkBinding ties the token to this service and this request, using the
// rules of whichever dialect its issuer names.
func (c jwtClaims) checkBinding(alg jose.SignatureAlgorithm, audience, uri string) error {
	switch c.iss {
	case jwtIssuerWaaS:
		// The legacy form only ever existed as ES256.
		if alg != jose.ES256 {
			return jwtReject(jwtReasonIssuerAlgorithm)
		}
		if !slices.Contains(c.aud, audience) {
			return jwtReject(jwtReasonAudience)
		}
		if c.uri == nil || *c.uri != uri {
			return jwtReject(jwtReasonURI)
		}
	case jwtIssuerCDP:
		if !slices.Contains(c.aud, audience) && !slices.Contains(c.aud, jwtAudienceCDP) {
			return jwtReject(jwtReasonAudience)
		}
		if !slices.Contains(c.uris, uri) {
			return jwtReject(jwtReasonURI)
		}
	default:
		return jwtReject(jwtReasonIssuer)
	}
	return nil
}

// checkTimes enforces the validity window with v.skew of tolerance each way
// and caps its length, so a stolen long-lived token cannot be replayed.
func (v jwtVerifier) checkTimes(c jwtClaims) error {
	switch {
	case c.exp == nil:
		return jwtReject(jwtReasonMissingExp)
	case c.nbf == nil:
		return jwtReject(jwtReasonMissingNbf)
	}
	now := v.now()
	switch {
	case c.nbf.After(now.Add(v.skew)):
		return jwtReject(jwtReasonNotYetValid)
	case !c.exp.After(now.Add(-v.skew)):
		return jwtReject(jwtReasonExpired)
	case c.iat != nil && c.iat.After(now.Add(v.skew)):
		return jwtReject(jwtReasonIssuedFuture)
	case !v.notBefore.IsZero() && c.nbf.Before(v.notBefore):
		return jwtReject(jwtReasonBeforeRestart)
	case !c.exp.After(*c.nbf):
		return jwtReject(jwtReasonLifetime)
	case c.exp.Sub(*c.nbf) > v.maxLifetime,
		c.iss == jwtIssuerWaaS && c.exp.Sub(*c.nbf) > jwtWaaSMaxLifetime:
		return jwtReject(jwtReasonLifetimeTooLong)
	}
	return nil
}
