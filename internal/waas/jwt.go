package waas

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWTForm selects which of Coinbase's two bearer-JWT dialects a Signer emits.
type JWTForm int

const (
	// FormWaaS is the legacy Coinbase Cloud form: iss "coinbase-cloud", a
	// string "uri" claim, 60 s lifetime, ES256 only. It is exactly what the
	// official waas-client-library-go v1.0.8 sends, so it is the default.
	FormWaaS JWTForm = iota
	// FormCDP is the newer CDP form: iss "cdp", a "uris" array, an "iat"
	// claim, 120 s lifetime, ES256 or EdDSA.
	FormCDP
)

func (f JWTForm) String() string {
	switch f {
	case FormWaaS:
		return "waas"
	case FormCDP:
		return "cdp"
	default:
		return fmt.Sprintf("JWTForm(%d)", int(f))
	}
}

// Lifetimes match the official clients; servers may reject longer ones.
const (
	waasLifetime = 60 * time.Second
	cdpLifetime  = 120 * time.Second
)

// Signer builds per-request bearer JWTs for one API key. It is safe for
// concurrent use as long as Now is not modified while signing.
type Signer struct {
	// Now returns the current time; nil means time.Now. Tests inject a
	// fixed clock here.
	Now func() time.Time

	name   string
	form   JWTForm
	signer jose.Signer
	public crypto.PublicKey
}

// NewSigner prepares a Signer for the key named keyName (for example
// "organizations/{org}/apiKeys/{id}", or a bare CDP key id).
//
// FormWaaS requires an ECDSA P-256 key, because that form only exists as
// ES256. Ed25519 keys are accepted only with FormCDP.
func NewSigner(keyName string, key crypto.Signer, form JWTForm) (*Signer, error) {
	if keyName == "" {
		return nil, errors.New("jwt: key name is empty")
	}
	alg, signingKey, err := signingKeyFor(key)
	if err != nil {
		return nil, err
	}
	switch form {
	case FormWaaS:
		if alg != jose.ES256 {
			return nil, errors.New("jwt: Ed25519 keys need the CDP JWT form; the WaaS form (and the official WaaS client) only supports ECDSA P-256")
		}
	case FormCDP:
	default:
		return nil, fmt.Errorf("jwt: unknown JWT form %d", int(form))
	}
	opts := (&jose.SignerOptions{NonceSource: nonceSourceFor(form)}).
		WithType("JWT").
		WithHeader(jose.HeaderKey("kid"), keyName)
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signingKey}, opts)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	return &Signer{name: keyName, form: form, signer: js, public: key.Public()}, nil
}

// signingKeyFor picks the JWS algorithm for key and unwraps it into the
// concrete type go-jose signs with. Other crypto.Signers (HSMs, agents) are
// not supported yet.
func signingKeyFor(key crypto.Signer) (jose.SignatureAlgorithm, any, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", nil, errors.New("jwt: ECDSA keys must use curve P-256")
		}
		return jose.ES256, k, nil
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return "", nil, errors.New("jwt: malformed Ed25519 key")
		}
		return jose.EdDSA, k, nil
	case nil:
		return "", nil, errors.New("jwt: no key")
	default:
		return "", nil, fmt.Errorf("jwt: unsupported key type %T", key)
	}
}

// KeyName returns the name the Signer puts in kid and sub.
func (s *Signer) KeyName() string { return s.name }

// Public returns the public half of the key the Signer signs with, so that
// what the key did (a snapshot, say) can record its fingerprint.
func (s *Signer) Public() crypto.PublicKey { return s.public }

// Sign returns a compact JWT authorising one request. audience is the
// service's JWT audience (e.g. "waas_pool_service"); method is the HTTP
// method; hostPath is host[:port]/path with no scheme and no query, the same
// string the official transport derives from req.URL.Host + req.URL.Path.
func (s *Signer) Sign(audience, method, hostPath string) (string, error) {
	if err := checkRequestParts(audience, method, hostPath); err != nil {
		return "", err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	payload, err := s.claims(now(), audience, method+" "+hostPath)
	if err != nil {
		return "", err
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("jwt: %w", err)
	}
	return obj.CompactSerialize()
}

// checkRequestParts catches the easy mistakes that would produce a token the
// server rejects with a bare "uri mismatch".
func checkRequestParts(audience, method, hostPath string) error {
	switch {
	case audience == "":
		return errors.New("jwt: audience is empty")
	case method == "" || strings.ContainsAny(method, " \t\r\n"):
		return errors.New("jwt: invalid HTTP method")
	case hostPath == "" || strings.ContainsAny(hostPath, " \t\r\n"):
		return errors.New("jwt: invalid host/path")
	case strings.Contains(hostPath, "://"):
		return errors.New("jwt: host/path must not include a scheme")
	case strings.ContainsAny(hostPath, "?#"):
		return errors.New("jwt: host/path must not include a query or fragment")
	}
	return nil
}

// waasClaims reproduces the official client's claim set. go-jose v2's
// builder merges claims through a map, so the official payload has its keys
// sorted; the field order here matches. aud is a []string, not go-jose v4's
// jwt.Audience, because v4 collapses a one-element audience to a bare string
// while v2.6.0 (used by the official client) emits an array.
type waasClaims struct {
	Audience  []string `json:"aud"`
	Expiry    int64    `json:"exp"`
	Issuer    string   `json:"iss"`
	NotBefore int64    `json:"nbf"`
	Subject   string   `json:"sub"`
	URI       string   `json:"uri"`
}

// cdpClaims reproduces the CDP SDK's claim set; field order follows the
// sorted map encoding golang-jwt produces there.
type cdpClaims struct {
	Audience  []string `json:"aud"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	Issuer    string   `json:"iss"`
	NotBefore int64    `json:"nbf"`
	Subject   string   `json:"sub"`
	URIs      []string `json:"uris"`
}

// claims marshals the payload for one token. Times are whole seconds, as JWT
// NumericDates are in both official clients.
func (s *Signer) claims(now time.Time, audience, uri string) ([]byte, error) {
	t := now.Unix()
	switch s.form {
	case FormCDP:
		return json.Marshal(cdpClaims{
			Audience:  []string{audience},
			Expiry:    t + int64(cdpLifetime/time.Second),
			IssuedAt:  t,
			Issuer:    "cdp",
			NotBefore: t,
			Subject:   s.name,
			URIs:      []string{uri},
		})
	default:
		return json.Marshal(waasClaims{
			Audience:  []string{audience},
			Expiry:    t + int64(waasLifetime/time.Second),
			Issuer:    "coinbase-cloud",
			NotBefore: t,
			Subject:   s.name,
			URI:       uri,
		})
	}
}

// nonceSourceFor returns the header nonce generator of each official client.
func nonceSourceFor(form JWTForm) jose.NonceSource {
	if form == FormCDP {
		return cdpNonce{}
	}
	return waasNonce{}
}

// waasNonce is a random decimal int64 in [0, MaxInt64), exactly like the
// official client's nonceSource.
type waasNonce struct{}

func (waasNonce) Nonce() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64))
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// cdpNonce is 16 random bytes in hex, as the CDP Go SDK sends.
type cdpNonce struct{}

func (cdpNonce) Nonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
