package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
)

// TestEveryFormOfOneKeyHasOneFingerprint: the portal's JSON, the CDP JSON,
// .env files with escaped or real newlines, PKCS#8, CRLF and padding all
// give the same key.
func TestEveryFormOfOneKeyHasOneFingerprint(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := EncodeSEC1PEM(k)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	name := "organizations/b901e753-3856-4a64-846e-29297af8c16d/apiKeys/d0c2b17e-d392-4f31-87e9-485be7e87755"
	jsonOf := func(field, secret string) string {
		b, _ := json.Marshal(map[string]string{field: name, "privateKey": secret})
		return string(b)
	}
	escaped := strings.ReplaceAll(sec1, "\n", `\n`)
	forms := map[string]string{
		"portal JSON":        jsonOf("name", sec1),
		"portal JSON, PKCS8": jsonOf("name", pkcs8),
		"JSON, CRLF":         strings.ReplaceAll(jsonOf("name", sec1), `\n`, `\r\n`),
		"JSON, padded":       "\n\n  " + jsonOf("name", sec1) + "  \n",
		".env escaped":       fmt.Sprintf("HTTP_ADDRESS=0.0.0.0:8091\n%s=%s\n%s=\"%s\"\n", EnvOfficialName, name, EnvOfficialPrivateKey, escaped),
		".env export":        fmt.Sprintf("export %s='%s'\nexport %s=\"%s\"\n", EnvKeyName, name, EnvKeyPrivateKey, escaped),
		".env multi-line":    fmt.Sprintf("%s=%s\n%s=\"%s\"\nOTHER=1\n", EnvOfficialName, name, EnvOfficialPrivateKey, strings.TrimSpace(sec1)),
	}
	want := Fingerprint(k.Public())
	for form, in := range forms {
		got, err := ParseKeyInput([]byte(in), "test")
		if err != nil {
			t.Errorf("%s: %v", form, err)
			continue
		}
		if got.Fingerprint != want || got.Name != name {
			t.Errorf("%s: %s %s", form, got.Name, got.Fingerprint)
		}
		if s, _ := got.SecretText(); !strings.HasPrefix(s, "-----BEGIN EC PRIVATE KEY-----\n") {
			t.Errorf("%s: stored form is not SEC1 PEM", form)
		}
	}
}

func TestMalformedInputsGetOneLineReasons(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := EncodeSEC1PEM(k)
	pub, _ := x509.MarshalPKIXPublicKey(k.Public())
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	j := func(name, secret string) string {
		b, _ := json.Marshal(map[string]string{"name": name, "privateKey": secret})
		return string(b)
	}
	for what, in := range map[string]string{
		"empty":           "  \n",
		"bare PEM":        sec1,
		"truncated PEM":   j("organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022", sec1[:len(sec1)/2]),
		"public key":      j("organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022", pubPEM),
		"placeholder":     j("organizations/61b476de-7c9b-4bb1-8760-aead0a20d3d7/apiKeys/8383ab8f-9e40-4c39-863a-5b3e2e016f03", "-----BEGIN EC PRIVATE KEY-----\nmy-private-key\n-----END EC PRIVATE KEY-----\n"),
		"mismatched name": j("apiKeys/k", sec1),
		"env half":        EnvOfficialName + "=organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022\n",
		"not a key":       "hello world",
	} {
		_, err := ParseKeyInput([]byte(in), "test")
		if err == nil {
			t.Errorf("%s: accepted", what)
			continue
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), sec1[40:70]) {
			t.Errorf("%s: error is not one clean line: %q", what, err)
		}
	}
}

func FuzzParseKeyInput(f *testing.F) {
	f.Add([]byte(`{"name":"organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022","privateKey":"x"}`))
	f.Add([]byte(EnvOfficialName + "=organizations/8557e111-a176-4711-8c81-0a751668af99/apiKeys/fec64fdb-3640-46a2-86fb-6805d3f86022\n" + EnvOfficialPrivateKey + "=\"-----BEGIN EC PRIVATE KEY-----\\nAAAA\\n-----END EC PRIVATE KEY-----\"\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ParseKeyInput(in, "fuzz")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if _, err := k.SecretText(); err != nil {
			t.Fatalf("accepted a key it cannot store: %v", err)
		}
	})
}
