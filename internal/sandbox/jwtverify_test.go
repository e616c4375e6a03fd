package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coinbase/waas-client-library-go/auth"
	"github.com/go-jose/go-jose/v4"

	"github.com/waasctl/waasctl/internal/waas"
)

// Identifiers here carry a "jv" prefix: this package's other tests share
// the namespace.

const (
	jvOrg      = "organizations/org-1/apiKeys/"
	jvAudience = "waas_pool_service"
	jvHostPath = "127.0.0.1:8091/waas/pools/v1/pools"
	jvURI      = "GET " + jvHostPath
)

var jvNow = time.Unix(1_700_000_000, 0)

func jvClock() time.Time { return jvNow }

type jvKeys struct {
	ec      *ecdsa.PrivateKey  // registered, active
	ed      ed25519.PrivateKey // registered, active
	revoked *ecdsa.PrivateKey  // registered, revoked
	other   *ecdsa.PrivateKey  // not registered
	ec2     *ecdsa.PrivateKey  // registered, active, a second key
}

var jvFixture = sync.OnceValue(func() jvKeys {
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return jvKeys{ec: gen(), ed: ed, revoked: gen(), other: gen(), ec2: gen()}
})

// jvResolver knows keys by full name and by bare id, like the emulator.
func jvResolver() keyResolver {
	k := jvFixture()
	byID := map[string]resolvedKey{
		"ec":      {Name: jvOrg + "ec", Public: k.ec.Public(), Active: true},
		"ed":      {Name: jvOrg + "ed", Public: k.ed.Public(), Active: true},
		"revoked": {Name: jvOrg + "revoked", Public: k.revoked.Public(), Active: false},
		"ec2":     {Name: jvOrg + "ec2", Public: k.ec2.Public(), Active: true},
	}
	return func(id string) (resolvedKey, bool) {
		id = strings.TrimPrefix(id, jvOrg)
		rk, ok := byID[id]
		return rk, ok
	}
}

func jvB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jvJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jvSignRaw signs an arbitrary payload with go-jose, so tests can forge any
// header/claims combination with a real signature.
func jvSignRaw(t testing.TB, key crypto.Signer, header map[string]any, payload []byte) string {
	t.Helper()
	alg := jose.ES256
	if _, ok := key.(ed25519.PrivateKey); ok {
		alg = jose.EdDSA
	}
	opts := &jose.SignerOptions{}
	for k, v := range header {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func jvSign(t testing.TB, key crypto.Signer, header, claims map[string]any) string {
	t.Helper()
	return jvSignRaw(t, key, header, jvJSON(t, claims))
}

func jvHeader(kid string) map[string]any {
	return map[string]any{"kid": kid, "typ": "JWT", "nonce": "12345"}
}

// jvWaaSClaims mirrors the official client's claims for key id.
func jvWaaSClaims(id string) map[string]any {
	return map[string]any{
		"iss": "coinbase-cloud", "sub": jvOrg + id, "aud": []string{jvAudience},
		"nbf": jvNow.Unix(), "exp": jvNow.Unix() + 60, "uri": jvURI,
	}
}

func jvCDPClaims(id string) map[string]any {
	return map[string]any{
		"iss": "cdp", "sub": jvOrg + id, "aud": []string{jvAudience},
		"nbf": jvNow.Unix(), "iat": jvNow.Unix(), "exp": jvNow.Unix() + 120, "uris": []string{jvURI},
	}
}

// jvWith returns a copy of m with kv pairs applied; a nil value deletes.
func jvWith(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

// jvUnsigned hand-builds a token, bypassing go-jose (which refuses to emit
// "none" and whose HMAC signer we do not want to trust for the attack test).
func jvUnsigned(t testing.TB, header, claims map[string]any) (signingInput string) {
	return jvB64(jvJSON(t, header)) + "." + jvB64(jvJSON(t, claims))
}

// jvHS256 forges the classic algorithm-confusion token: HMAC keyed with the
// server's public key bytes, hoping the server feeds its key to HMAC.
func jvHS256(t testing.TB, secret []byte, claims map[string]any) string {
	in := jvUnsigned(t, map[string]any{"alg": "HS256", "kid": jvOrg + "ec", "typ": "JWT"}, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + jvB64(mac.Sum(nil))
}

func jvVerify(token, audience, uri string) (string, error) {
	v, err := newJWTVerifier(jvClock).verify(token, audience, uri, jvResolver())
	return v.Name, err
}

func TestVerifyJWTRejectsForgeries(t *testing.T) {
	k := jvFixture()
	pkix, err := x509.MarshalPKIXPublicKey(k.ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	good := jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWaaSClaims("ec"))
	goodParts := strings.Split(good, ".")
	claimsEC := jvWaaSClaims("ec")
	now := jvNow.Unix()

	cases := []struct {
		name   string
		token  string
		reason string
	}{
		// Algorithm attacks.
		{"alg none", jvUnsigned(t, map[string]any{"alg": "none", "kid": jvOrg + "ec", "typ": "JWT"}, claimsEC) + ".", jwtReasonAlgorithm},
		{"alg None with signature", jvUnsigned(t, map[string]any{"alg": "None", "kid": jvOrg + "ec"}, claimsEC) + "." + goodParts[2], jwtReasonAlgorithm},
		{"alg missing", jvUnsigned(t, map[string]any{"kid": jvOrg + "ec"}, claimsEC) + "." + goodParts[2], jwtReasonAlgorithm},
		{"HS256 keyed with public key PEM", jvHS256(t, pubPEM, claimsEC), jwtReasonAlgorithm},
		{"HS256 keyed with public key DER", jvHS256(t, pkix, claimsEC), jwtReasonAlgorithm},
		{"ES384 header", jvUnsigned(t, map[string]any{"alg": "ES384", "kid": jvOrg + "ec"}, claimsEC) + "." + goodParts[2], jwtReasonAlgorithm},
		{"RS256 header", jvUnsigned(t, map[string]any{"alg": "RS256", "kid": jvOrg + "ec"}, claimsEC) + "." + goodParts[2], jwtReasonAlgorithm},
		{"EdDSA token for ECDSA key", jvSign(t, k.ed, jvHeader(jvOrg+"ec"), jvWith(jvCDPClaims("ec"))), jwtReasonKeyType},
		{"ES256 token for Ed25519 key", jvSign(t, k.ec, jvHeader(jvOrg+"ed"), jvCDPClaims("ed")), jwtReasonKeyType},
		{"Ed25519 with iss coinbase-cloud", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWaaSClaims("ed")), jwtReasonIssuerAlgorithm},

		// Key identity.
		{"missing kid", jvSign(t, k.ec, map[string]any{"typ": "JWT"}, claimsEC), jwtReasonMissingKid},
		{"missing nonce", jvSign(t, k.ec, map[string]any{"kid": jvOrg + "ec", "typ": "JWT"}, claimsEC), jwtReasonMissingNonce},
		{"CDP lifetime over 120s", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "exp", jvNow.Unix()+121)), jwtReasonLifetimeTooLong},
		{"unknown kid", jvSign(t, k.other, jvHeader(jvOrg+"nope"), jvWith(claimsEC, "sub", jvOrg+"nope")), jwtReasonUnknownKey},
		{"kid in another org", jvSign(t, k.ec, jvHeader("organizations/org-2/apiKeys/ec"), claimsEC), jwtReasonUnknownKey},
		{"signed by another key", jvSign(t, k.other, jvHeader(jvOrg+"ec"), claimsEC), jwtReasonSignature},
		{"sub names another key", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "sub", jvOrg+"ec2")), jwtReasonSubject},
		{"sub unknown", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "sub", jvOrg+"nope")), jwtReasonSubject},
		{"sub missing", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "sub", nil)), jwtReasonSubject},
		{"revoked key", jvSign(t, k.revoked, jvHeader(jvOrg+"revoked"), jvWaaSClaims("revoked")), jwtReasonRevoked},
		{"revoked key, bad signature", jvSign(t, k.other, jvHeader(jvOrg+"revoked"), jvWaaSClaims("revoked")), jwtReasonSignature},

		// Signature tampering.
		{"payload swapped", goodParts[0] + "." + jvB64(jvJSON(t, jvWith(claimsEC, "uri", "DELETE "+jvHostPath))) + "." + goodParts[2], jwtReasonSignature},
		{"signature stripped", goodParts[0] + "." + goodParts[1] + ".", jwtReasonSignature},
		{"signature truncated", good[:len(good)-8], jwtReasonSignature},

		// Header.
		{"wrong typ", jvSign(t, k.ec, jvWith(jvHeader(jvOrg+"ec"), "typ", "at+jwt"), claimsEC), jwtReasonTyp},
		{"typ not a string", jvSign(t, k.ec, jvWith(jvHeader(jvOrg+"ec"), "typ", 1), claimsEC), jwtReasonTyp},

		// Binding to service and request.
		{"wrong aud", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "aud", []string{"waas_mpc_wallet_service"})), jwtReasonAudience},
		{"aud missing", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "aud", nil)), jwtReasonAudience},
		{"cdp_service aud with WaaS issuer", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "aud", "cdp_service")), jwtReasonAudience},
		{"wrong method", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", "POST "+jvHostPath)), jwtReasonURI},
		{"wrong host", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", "GET evil.example:8091/waas/pools/v1/pools")), jwtReasonURI},
		{"wrong port", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", "GET 127.0.0.1/waas/pools/v1/pools")), jwtReasonURI},
		{"wrong path", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", "GET 127.0.0.1:8091/waas/pools/v1/pools/p1")), jwtReasonURI},
		{"uri missing", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", nil)), jwtReasonURI},
		{"WaaS issuer with uris only", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", nil, "uris", []string{jvURI})), jwtReasonURI},
		{"CDP issuer with uri only", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(jvCDPClaims("ec"), "uris", nil, "uri", jvURI)), jwtReasonURI},
		{"CDP wrong uris", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "uris", []string{"GET 127.0.0.1:8091/waas/pools/v1/pools/p1"})), jwtReasonURI},
		{"CDP wrong aud", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "aud", "waas_blockchain_service")), jwtReasonAudience},
		{"other issuer", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "iss", "evil")), jwtReasonIssuer},
		{"issuer missing", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "iss", nil)), jwtReasonIssuer},

		// Time.
		{"expired", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", now-120, "exp", now-60)), jwtReasonExpired},
		{"nbf in the future", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", now+60, "exp", now+120)), jwtReasonNotYetValid},
		{"iat in the future", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "iat", now+60)), jwtReasonIssuedFuture},
		{"lifetime too long", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "exp", now+3600)), jwtReasonLifetimeTooLong},
		{"exp before nbf", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", now+10, "exp", now+5)), jwtReasonLifetime},
		{"missing exp", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "exp", nil)), jwtReasonMissingExp},
		{"missing nbf", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", nil)), jwtReasonMissingNbf},
		{"exp as string", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "exp", "1700000060")), jwtReasonClaims},
		{"exp overflow", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", -9e18, "exp", 9e18)), jwtReasonClaims},
		{"nbf negative", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "nbf", -1)), jwtReasonClaims},
		{"exp huge", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "exp", 1e300)), jwtReasonClaims},

		// Claims encoding.
		{"duplicate aud", jvSignRaw(t, k.ec, jvHeader(jvOrg+"ec"), []byte(`{"iss":"coinbase-cloud","sub":"`+jvOrg+`ec","aud":"x","aud":"`+jvAudience+`","nbf":1700000000,"exp":1700000060,"uri":"`+jvURI+`"}`)), jwtReasonClaims},
		{"payload not an object", jvSignRaw(t, k.ec, jvHeader(jvOrg+"ec"), []byte(`["coinbase-cloud"]`)), jwtReasonClaims},
		{"payload trailing data", jvSignRaw(t, k.ec, jvHeader(jvOrg+"ec"), append(jvJSON(t, claimsEC), `{}`...)), jwtReasonClaims},
		{"uri not a string", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "uri", []string{jvURI})), jwtReasonClaims},
		{"aud of numbers", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claimsEC, "aud", []int{1})), jwtReasonClaims},

		// Garbage.
		{"empty", "", jwtReasonMalformed},
		{"one part", "abc", jwtReasonMalformed},
		{"two parts", "abc.def", jwtReasonMalformed},
		{"four parts", good + ".x", jwtReasonMalformed},
		{"truncated in header", good[:20], jwtReasonMalformed},
		{"bad base64", "!!!." + goodParts[1] + "." + goodParts[2], jwtReasonMalformed},
		{"header not JSON", jvB64([]byte("hello")) + "." + goodParts[1] + "." + goodParts[2], jwtReasonMalformed},
		{"Bearer prefix left on", "Bearer " + good, jwtReasonMalformed},
		{"trailing newline", good + "\n", jwtReasonMalformed},
		{"JSON serialization", `{"payload":"` + goodParts[1] + `","protected":"` + goodParts[0] + `","signature":"` + goodParts[2] + `"}`, jwtReasonMalformed},
		{"oversized", good + strings.Repeat("A", jwtMaxTokenBytes), jwtReasonTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, err := jvVerify(tc.token, jvAudience, jvURI)
			if err == nil {
				t.Fatalf("accepted, key %q", name)
			}
			var ae *authError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v is not *authError", err, err)
			}
			if ae.reason != tc.reason {
				t.Fatalf("reason %q, want %q", ae.reason, tc.reason)
			}
			if want := "unauthenticated: " + tc.reason; err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err, want)
			}
			jvAssertNoEcho(t, err, tc.token)
		})
	}
}

// jvAssertNoEcho fails if any 8-character window of the token appears in the
// error. Reasons are short lower-case phrases, so only real token material
// could match.
func jvAssertNoEcho(t testing.TB, err error, token string) {
	t.Helper()
	msg := err.Error()
	const window = 8
	for i := 0; i+window <= len(token); i++ {
		if w := token[i : i+window]; strings.Contains(msg, w) {
			t.Fatalf("error %q echoes token fragment %q", msg, w)
		}
	}
}

func TestVerifyJWTOfficialClient(t *testing.T) {
	k := jvFixture()
	der, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	key := &auth.APIKey{
		Name:       jvOrg + "ec",
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
	}
	// The official transport builds uri exactly like this from req.URL.
	for _, tc := range []struct{ service, uri string }{
		{"waas_pool_service", "GET 127.0.0.1:8091/waas/pools/v1/pools"},
		{"waas_mpc_wallet_service", "POST localhost:8091/waas/mpc_wallets/v1/pools/p1/mpcWallets/w1:generateAddress"},
		{"waas_mpc_key_service", "GET api.developer.coinbase.com/waas/mpc_keys/v1/pools/p1/deviceGroups/g1"},
	} {
		token, err := auth.NewAuthenticator(key).BuildJWT(tc.service, tc.uri)
		if err != nil {
			t.Fatalf("official BuildJWT: %v", err)
		}
		// The official client uses the real clock.
		v := newJWTVerifier(time.Now)
		got, err := v.verify(token, tc.service, tc.uri, jvResolver())
		if err != nil {
			t.Fatalf("%s: official token rejected: %v", tc.service, err)
		}
		if got.Name != jvOrg+"ec" || got.Nonce == "" {
			t.Fatalf("verified %+v", got)
		}
		// And it is bound to its service and request.
		if _, err := v.verify(token, "waas_protocol_service", tc.uri, jvResolver()); err == nil {
			t.Fatalf("%s: official token accepted for another service", tc.service)
		}
		if _, err := v.verify(token, tc.service, "DELETE"+strings.TrimPrefix(tc.uri, strings.Fields(tc.uri)[0]), jvResolver()); err == nil {
			t.Fatalf("%s: official token accepted for another method", tc.service)
		}
	}
}

func TestVerifyJWTOurSigner(t *testing.T) {
	k := jvFixture()
	for _, tc := range []struct {
		name     string
		key      crypto.Signer
		id       string
		form     waas.JWTForm
		audience string // what the token says; the service is always jvAudience
	}{
		{"WaaS ES256", k.ec, "ec", waas.FormWaaS, jvAudience},
		{"CDP ES256", k.ec, "ec", waas.FormCDP, jvAudience},
		{"CDP EdDSA", k.ed, "ed", waas.FormCDP, jvAudience},
		{"CDP EdDSA cdp_service", k.ed, "ed", waas.FormCDP, "cdp_service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kid := range []string{jvOrg + tc.id, tc.id} { // full name and bare CDP-style id
				s, err := waas.NewSigner(kid, tc.key, tc.form)
				if err != nil {
					t.Fatal(err)
				}
				s.Now = jvClock
				token, err := s.Sign(tc.audience, "GET", jvHostPath)
				if err != nil {
					t.Fatal(err)
				}
				name, err := jvVerify(token, jvAudience, jvURI)
				if err != nil {
					t.Fatalf("kid %q: rejected: %v", kid, err)
				}
				if name != jvOrg+tc.id {
					t.Fatalf("key name %q, want the full name", name)
				}
			}
		})
	}
}

func TestVerifyJWTAcceptsVariants(t *testing.T) {
	k := jvFixture()
	claims := jvWaaSClaims("ec")
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"aud as string", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "aud", jvAudience))},
		{"aud among several", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "aud", []string{"x", jvAudience}))},
		{"no typ header", jvSign(t, k.ec, map[string]any{"kid": jvOrg + "ec", "nonce": "7"}, claims)},
		{"kid bare id, sub full name", jvSign(t, k.ec, jvHeader("ec"), claims)},
		{"kid full name, sub bare id", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "sub", "ec"))},
		{"fractional times", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "nbf", float64(jvNow.Unix())+0.5, "exp", float64(jvNow.Unix())+60.5))},
		{"unknown claims ignored", jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "jti", "abc", "iat", jvNow.Unix()))},
		{"CDP uris among several", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "uris", []string{"GET x/y", jvURI}))},
		{"CDP without iat", jvSign(t, k.ed, jvHeader(jvOrg+"ed"), jvWith(jvCDPClaims("ed"), "iat", nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jvVerify(tc.token, jvAudience, jvURI); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestVerifyJWTClockSkewEdges(t *testing.T) {
	k := jvFixture()
	v := newJWTVerifier(jvClock)
	now := jvNow.Unix()
	skew := int64(v.skew / time.Second)
	maxLife := int64(jwtWaaSMaxLifetime / time.Second) // the legacy form's cap
	claims := jvWaaSClaims("ec")
	for _, tc := range []struct {
		name     string
		nbf, exp int64
		reason   string // "" means accepted
	}{
		{"exp just inside skew", now - 60, now - skew + 1, ""},
		{"exp exactly at skew", now - 60, now - skew, jwtReasonExpired},
		{"exp just outside skew", now - 60, now - skew - 1, jwtReasonExpired},
		{"nbf exactly at skew", now + skew, now + skew + 60, ""},
		{"nbf just outside skew", now + skew + 1, now + skew + 61, jwtReasonNotYetValid},
		{"lifetime exactly max", now - 10, now - 10 + maxLife, ""},
		{"lifetime max plus one", now - 10, now - 10 + maxLife + 1, jwtReasonLifetimeTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := jvSign(t, k.ec, jvHeader(jvOrg+"ec"), jvWith(claims, "nbf", tc.nbf, "exp", tc.exp))
			_, err := v.verify(token, jvAudience, jvURI, jvResolver())
			got := ""
			if ae := (*authError)(nil); errors.As(err, &ae) {
				got = ae.reason
			} else if err != nil {
				t.Fatalf("non-authError %v", err)
			}
			if got != tc.reason {
				t.Fatalf("reason %q, want %q", got, tc.reason)
			}
		})
	}

	// A token from a signer whose clock runs 25 s fast or slow still works.
	for _, off := range []time.Duration{-25 * time.Second, 25 * time.Second} {
		s, err := waas.NewSigner(jvOrg+"ec", k.ec, waas.FormWaaS)
		if err != nil {
			t.Fatal(err)
		}
		s.Now = func() time.Time { return jvNow.Add(off) }
		token, err := s.Sign(jvAudience, "GET", jvHostPath)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.verify(token, jvAudience, jvURI, jvResolver()); err != nil {
			t.Fatalf("client clock %v: %v", off, err)
		}
	}
}

func TestNewJWTVerifierDefaults(t *testing.T) {
	v := newJWTVerifier(nil)
	if v.skew != 30*time.Second || v.maxLifetime != 2*time.Minute || v.now == nil {
		t.Fatalf("unexpected defaults %+v", v)
	}
}

// jvReasons lists every reason verify may give; the fuzz target checks
// membership so that no input-derived text can ever appear in an error.
var jvReasons = map[string]bool{
	jwtReasonMalformed: true, jwtReasonTooLarge: true, jwtReasonAlgorithm: true,
	jwtReasonSignatureCount: true, jwtReasonTyp: true, jwtReasonMissingKid: true,
	jwtReasonUnknownKey: true, jwtReasonKeyType: true, jwtReasonSignature: true,
	jwtReasonSubject: true, jwtReasonRevoked: true, jwtReasonClaims: true,
	jwtReasonIssuer: true, jwtReasonIssuerAlgorithm: true, jwtReasonAudience: true,
	jwtReasonURI: true, jwtReasonMissingExp: true, jwtReasonMissingNbf: true,
	jwtReasonNotYetValid: true, jwtReasonExpired: true, jwtReasonIssuedFuture: true,
	jwtReasonLifetime: true, jwtReasonLifetimeTooLong: true, jwtReasonMissingNonce: true,
}

func FuzzVerifyJWT(f *testing.F) {
	k := jvFixture()
	claimsEC := jvWaaSClaims("ec")
	for _, s := range []string{
		"", ".", "..", "a.b.c",
		jvSign(f, k.ec, jvHeader(jvOrg+"ec"), claimsEC),
		jvSign(f, k.ed, jvHeader(jvOrg+"ed"), jvCDPClaims("ed")),
		jvSign(f, k.revoked, jvHeader(jvOrg+"revoked"), jvWaaSClaims("revoked")),
		jvUnsigned(f, map[string]any{"alg": "none", "kid": jvOrg + "ec"}, claimsEC) + ".",
		jvHS256(f, []byte("secret"), claimsEC),
		jvSignRaw(f, k.ec, jvHeader(jvOrg+"ec"), []byte(`{"exp":1e999,"nbf":-1,"aud":[1]}`)),
	} {
		f.Add(s)
	}
	resolve := jvResolver()
	v := newJWTVerifier(jvClock)
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.verify(token, jvAudience, jvURI, resolve)
		if err == nil {
			if got.Name == "" {
				t.Fatal("accepted without a key name")
			}
			return
		}
		var ae *authError
		if !errors.As(err, &ae) {
			t.Fatalf("error %T is not *authError", err)
		}
		if !jvReasons[ae.reason] {
			t.Fatalf("unknown reason %q", ae.reason)
		}
	})
}

// TestJWTCompactCharset pins the token alphabet at its edges: every base64url character and the
// dot pass, the characters just outside each range (and standard base64's + / =) do not. A
// random token would not reliably hold a 'z' or a '9' to catch an off-by-one. (Mutation testing
// cannot see this switch's cases: Go's coverage profile has no block for them.)
func TestJWTCompactCharset(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
	for _, c := range alphabet {
		if !jwtCompactCharset("ab" + string(c) + "cd") {
			t.Errorf("%q refused", c)
		}
	}
	if !jwtCompactCharset(alphabet) || !jwtCompactCharset("") {
		t.Error("the whole alphabet, or the empty string, refused")
	}
	for _, c := range "`{@[/:+= \t\n\x00\x7f\u00e9" {
		if jwtCompactCharset("ab" + string(c) + "cd") {
			t.Errorf("%q accepted", c)
		}
	}
}
