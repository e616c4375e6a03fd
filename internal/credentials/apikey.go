package credentials

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// APIKey is a parsed API key: its name, the signer behind it and where it
// came from. It deliberately has no field holding the secret text, and its
// String method prints only the name and fingerprint, so that printing an
// APIKey by mistake cannot leak it.
type APIKey struct {
	Name        string // organizations/{org}/apiKeys/{id}, or a bare CDP key id
	Signer      crypto.Signer
	Fingerprint string
	Source      string // e.g. "env WAASCTL_API_KEY_*", "file ./key.json"
}

// String and GoString have value receivers so that every verb of every
// form (k, *k, %v, %+v, %#v) goes through them and never prints Signer.
func (k APIKey) String() string {
	return fmt.Sprintf("%s (%s)", k.Name, ShortFingerprint(k.Fingerprint))
}

func (k APIKey) GoString() string { return "credentials.APIKey{" + k.String() + "}" }

// NewAPIKey parses secret and pairs it with name. The name is checked first, so that a
// secret in the name field is refused before anything prints or sends it.
func NewAPIKey(name, secret, source string) (*APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("API key name is empty")
	}
	if err := CheckKeyName(name); err != nil {
		return nil, err
	}
	signer, err := ParsePrivateKey(secret)
	if err != nil {
		return nil, err
	}
	return &APIKey{Name: name, Signer: signer, Fingerprint: Fingerprint(signer.Public()), Source: source}, nil
}

// keyFile is the Coinbase Cloud / WaaS download ({"name", "privateKey"}) or
// the newer CDP one ({"id", "privateKey"}).
type keyFile struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	PrivateKey string `json:"privateKey"`
}

// ParseKeyFile parses a downloaded key file. Errors name what is wrong with
// the file, never its content.
func ParseKeyFile(data []byte, source string) (*APIKey, error) {
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, errors.New(`not a key file: want JSON like {"name": "organizations/.../apiKeys/...", "privateKey": "-----BEGIN EC PRIVATE KEY-----..."}`)
	}
	name := kf.Name
	if name == "" {
		name = kf.ID
	}
	if kf.Name != "" && kf.ID != "" && kf.Name != kf.ID && !strings.HasSuffix(kf.Name, "/apiKeys/"+kf.ID) {
		return nil, errors.New(`key file has both "name" and "id", and they name different keys`)
	}
	if name == "" {
		return nil, errors.New(`key file has no "name" (or "id")`)
	}
	if kf.PrivateKey == "" {
		return nil, errors.New(`key file has no "privateKey"`)
	}
	return NewAPIKey(name, kf.PrivateKey, source)
}

// LoadKeyFile reads and parses the key file at path.
func LoadKeyFile(path string) (*APIKey, error) {
	return LoadKeyFileContext(context.Background(), path)
}

// LoadKeyFileContext reads and parses the key file at path; ctx ends a wait
// for a FIFO's writer or a slow read.
func LoadKeyFileContext(ctx context.Context, path string) (*APIKey, error) {
	data, err := ReadKeyFile(ctx, path)
	if err != nil {
		return nil, err
	}
	// The same forms auth add takes: the portal's JSON (a BOM too) or a .env file.
	k, err := ParseKeyInput(data, "file "+path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// Environment variables that carry a key: waasctl's own, then the official
// client's (which the reference proxy also reads).
const (
	EnvKeyName             = "WAASCTL_API_KEY_NAME"
	EnvKeyPrivateKey       = "WAASCTL_API_KEY_PRIVATE_KEY"
	EnvOfficialName        = "COINBASE_CLOUD_API_KEY_NAME"
	EnvOfficialPrivateKey  = "COINBASE_CLOUD_API_KEY_PRIVATE_KEY"
	envPairWaasctlSource   = "env " + EnvKeyName + "/" + EnvKeyPrivateKey
	envPairOfficialSource  = "env " + EnvOfficialName + "/" + EnvOfficialPrivateKey
	noCredentialsGuidance  = "no API key: pass --key-file FILE (the JSON the portal downloads), or set " + EnvKeyName + " and " + EnvKeyPrivateKey
	incompletePairGuidance = "%s is set but %s is not: set both, or neither"
)

// Lookup finds the key to use, in order: an explicit key file, waasctl's
// environment variables, the official client's environment variables.
// getenv is os.Getenv outside tests. (The OS keyring, per profile, slots in
// after these: the environment overrides it: docs/credentials.md.)
func Lookup(keyFile string, getenv func(string) string) (*APIKey, error) {
	return LookupContext(context.Background(), keyFile, getenv)
}

// LookupContext is Lookup with a context that ends a wait for the key file.
func LookupContext(ctx context.Context, keyFile string, getenv func(string) string) (*APIKey, error) {
	if keyFile != "" {
		return LoadKeyFileContext(ctx, keyFile)
	}
	for _, pair := range [][3]string{
		{EnvKeyName, EnvKeyPrivateKey, envPairWaasctlSource},
		{EnvOfficialName, EnvOfficialPrivateKey, envPairOfficialSource},
	} {
		name, secret := getenv(pair[0]), getenv(pair[1])
		switch {
		case name == "" && secret == "":
			continue
		case name == "":
			return nil, fmt.Errorf(incompletePairGuidance, pair[1], pair[0])
		case secret == "":
			return nil, fmt.Errorf(incompletePairGuidance, pair[0], pair[1])
		}
		k, err := NewAPIKey(name, secret, pair[2])
		if errors.Is(err, ErrKeyName) {
			return nil, fmt.Errorf("%s: %w", pair[0], err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pair[1], err)
		}
		return k, nil
	}
	return nil, ErrNoCredentials
}

// ErrNoCredentials says where a key can come from.
var ErrNoCredentials = errors.New(noCredentialsGuidance)
