package waas

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coinbase/waas-client-library-go/auth"
	"github.com/go-jose/go-jose/v4"
)

const (
	testKeyName  = "organizations/org-1/apiKeys/key-1"
	testAudience = "waas_pool_service"
	testHostPath = "api.developer.coinbase.com/waas/pools/v1/pools"
)

var testNow = time.Unix(1_700_000_000, 0)

func fixedClock() time.Time { return testNow }

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSigner(t testing.TB, key crypto.Signer, form JWTForm) *Signer {
	t.Helper()
	s, err := NewSigner(testKeyName, key, form)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	s.Now = fixedClock
	return s
}

// segment base64url-decodes part i of a compact JWT.
func segment(t testing.TB, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return b
}

// verifyWith checks the token's signature with go-jose and returns the
// verified payload.
func verifyWith(t testing.TB, token string, pub crypto.PublicKey) []byte {
	t.Helper()
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return payload
}

// shape renders a JSON object with its key order and value types but with
// the volatile values (nonce, times) blanked, so two tokens minted at
// different moments can be compared byte for byte.
var volatile = regexp.MustCompile(`("nonce":)"[^"]*"|("(?:exp|nbf|iat)":)\d+`)

func shape(b []byte) string {
	return volatile.ReplaceAllString(string(b), `${1}${2}0`)
}

func TestFormWaaSMatchesOfficialClient(t *testing.T) {
	key := newP256(t)
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	uri := "GET " + testHostPath

	official, err := auth.NewAuthenticator(&auth.APIKey{Name: testKeyName, PrivateKey: pemKey}).BuildJWT(testAudience, uri)
	if err != nil {
		t.Fatalf("official BuildJWT: %v", err)
	}
	ours, err := newSigner(t, key, FormWaaS).Sign(testAudience, "GET", testHostPath)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}

	for i, what := range []string{"header", "payload"} {
		got, want := shape(segment(t, ours, i)), shape(segment(t, official, i))
		if got != want {
			t.Errorf("%s differs from the official client's:\n got  %s\n want %s", what, got, want)
		}
	}
	// Pin the expected form too, so an upstream change cannot silently move
	// both sides together.
	wantHeader := `{"alg":"ES256","kid":"` + testKeyName + `","nonce":0,"typ":"JWT"}`
	if got := shape(segment(t, ours, 0)); got != wantHeader {
		t.Errorf("header %s, want %s", got, wantHeader)
	}
	wantPayload := `{"aud":["` + testAudience + `"],"exp":0,"iss":"coinbase-cloud","nbf":0,"sub":"` + testKeyName + `","uri":"` + uri + `"}`
	if got := shape(segment(t, ours, 1)); got != wantPayload {
		t.Errorf("payload %s, want %s", got, wantPayload)
	}
	verifyWith(t, ours, key.Public())
}

func TestFormWaaSClaims(t *testing.T) {
	key := newP256(t)
	token, err := newSigner(t, key, FormWaaS).Sign(testAudience, "POST", "127.0.0.1:8091/waas/pools/v1/pools")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Iss, Sub, URI string
		Aud           []string
		Exp, Nbf      int64
		Iat           *int64
		Jti           *string
	}
	if err := json.Unmarshal(verifyWith(t, token, key.Public()), &c); err != nil {
		t.Fatal(err)
	}
	switch {
	case c.Iss != "coinbase-cloud", c.Sub != testKeyName:
		t.Errorf("iss/sub = %q/%q", c.Iss, c.Sub)
	case len(c.Aud) != 1 || c.Aud[0] != testAudience:
		t.Errorf("aud = %q", c.Aud)
	case c.URI != "POST 127.0.0.1:8091/waas/pools/v1/pools":
		t.Errorf("uri = %q", c.URI)
	case c.Nbf != testNow.Unix() || c.Exp != testNow.Unix()+60:
		t.Errorf("nbf/exp = %d/%d", c.Nbf, c.Exp)
	case c.Iat != nil || c.Jti != nil:
		t.Error("iat/jti must be absent in the WaaS form")
	}

	var h struct{ Nonce string }
	if err := json.Unmarshal(segment(t, token, 0), &h); err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.ParseInt(h.Nonce, 10, 64); err != nil || n < 0 {
		t.Errorf("nonce %q is not a non-negative decimal int64", h.Nonce)
	}
}

func TestFormCDP(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"ES256", newP256(t), "ES256"},
		{"EdDSA", newEd25519(t), "EdDSA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, err := newSigner(t, tc.key, FormCDP).Sign("cdp_service", "GET", "api.cdp.coinbase.com/platform/v2/evm/accounts")
			if err != nil {
				t.Fatal(err)
			}
			payload := verifyWith(t, token, tc.key.Public())

			wantHeader := `{"alg":"` + tc.alg + `","kid":"` + testKeyName + `","nonce":0,"typ":"JWT"}`
			if got := shape(segment(t, token, 0)); got != wantHeader {
				t.Errorf("header %s, want %s", got, wantHeader)
			}
			wantPayload := `{"aud":["cdp_service"],"exp":0,"iat":0,"iss":"cdp","nbf":0,"sub":"` + testKeyName +
				`","uris":["GET api.cdp.coinbase.com/platform/v2/evm/accounts"]}`
			if got := shape(payload); got != wantPayload {
				t.Errorf("payload %s, want %s", got, wantPayload)
			}

			var c struct{ Exp, Nbf, Iat int64 }
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			if c.Nbf != testNow.Unix() || c.Iat != c.Nbf || c.Exp != c.Nbf+120 {
				t.Errorf("nbf/iat/exp = %d/%d/%d", c.Nbf, c.Iat, c.Exp)
			}

			var h struct{ Nonce string }
			if err := json.Unmarshal(segment(t, token, 0), &h); err != nil {
				t.Fatal(err)
			}
			if b, err := hex.DecodeString(h.Nonce); err != nil || len(b) != 16 {
				t.Errorf("nonce %q is not 16 bytes of hex", h.Nonce)
			}
		})
	}
}

func TestNoncesDiffer(t *testing.T) {
	for _, form := range []JWTForm{FormWaaS, FormCDP} {
		s := newSigner(t, newP256(t), form)
		a, _ := s.Sign(testAudience, "GET", testHostPath)
		b, _ := s.Sign(testAudience, "GET", testHostPath)
		if bytes.Equal(segment(t, a, 0), segment(t, b, 0)) {
			t.Errorf("%v: two tokens share a header (nonce not random)", form)
		}
	}
}

func TestSignerDefaultClock(t *testing.T) {
	s, err := NewSigner(testKeyName, newP256(t), FormWaaS)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	token, err := s.Sign(testAudience, "GET", testHostPath)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Nbf int64 }
	if err := json.Unmarshal(segment(t, token, 1), &c); err != nil {
		t.Fatal(err)
	}
	if c.Nbf < before || c.Nbf > time.Now().Unix() {
		t.Errorf("nbf %d not close to now", c.Nbf)
	}
}

func TestSignerKeyName(t *testing.T) {
	if got := newSigner(t, newP256(t), FormWaaS).KeyName(); got != testKeyName {
		t.Fatalf("KeyName = %q", got)
	}
}

func TestNewSignerRejects(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		form JWTForm
		kn   string
	}{
		{"Ed25519 with WaaS form", newEd25519(t), FormWaaS, testKeyName},
		{"P-384 WaaS", p384, FormWaaS, testKeyName},
		{"P-384 CDP", p384, FormCDP, testKeyName},
		{"RSA", rsaKey, FormCDP, testKeyName},
		{"nil key", nil, FormWaaS, testKeyName},
		{"nil ECDSA pointer", (*ecdsa.PrivateKey)(nil), FormWaaS, testKeyName},
		{"short Ed25519", newEd25519(t)[:32], FormCDP, testKeyName},
		{"empty name", newP256(t), FormWaaS, ""},
		{"unknown form", newP256(t), JWTForm(7), testKeyName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := NewSigner(tc.kn, tc.key, tc.form); err == nil {
				t.Fatalf("accepted: %+v", s)
			}
		})
	}
}

func TestSignRejectsMalformedRequests(t *testing.T) {
	s := newSigner(t, newP256(t), FormWaaS)
	for _, tc := range []struct{ name, aud, method, hostPath string }{
		{"empty audience", "", "GET", testHostPath},
		{"empty method", testAudience, "", testHostPath},
		{"method with space", testAudience, "GET ", testHostPath},
		{"empty host/path", testAudience, "GET", ""},
		{"scheme", testAudience, "GET", "https://" + testHostPath},
		{"query", testAudience, "GET", testHostPath + "?pageSize=1"},
		{"fragment", testAudience, "GET", testHostPath + "#x"},
		{"newline", testAudience, "GET", testHostPath + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := s.Sign(tc.aud, tc.method, tc.hostPath); err == nil {
				t.Fatalf("signed %q", tok)
			}
		})
	}
}

func TestSignConcurrent(t *testing.T) {
	key := newEd25519(t)
	s := newSigner(t, key, FormCDP)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				tok, err := s.Sign("cdp_service", "GET", testHostPath)
				if err != nil {
					t.Error(err)
					return
				}
				// verifyWith calls t.Fatal, which must not run off the test goroutine.
				obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
				if err == nil {
					_, err = obj.Verify(key.Public())
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestJWTFormString(t *testing.T) {
	if FormWaaS.String() != "waas" || FormCDP.String() != "cdp" || JWTForm(9).String() != "JWTForm(9)" {
		t.Fatal("unexpected String output")
	}
}
