package credentials

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
)

// ParseKeyInput reads an API key from what a user hands over: the JSON file
// the portal downloads ({"name"|"id", "privateKey"}), or a .env file with
// the official variables (COINBASE_CLOUD_API_KEY_NAME and _PRIVATE_KEY, or
// waasctl's WAASCTL_API_KEY_*). Errors say what is wrong in one line and
// never quote the input.
func ParseKeyInput(data []byte, source string) (*APIKey, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	var (
		k   *APIKey
		err error
	)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("the key input is empty")
	case trimmed[0] == '{':
		k, err = ParseKeyFile(trimmed, source)
	case bytes.Contains(trimmed, []byte("-----BEGIN")) && !bytes.Contains(trimmed, []byte("=")):
		return nil, errors.New(`a bare private key has no name: give the key file the portal downloads ({"name", "privateKey"}) or a .env file with ` + EnvOfficialName)
	default:
		k, err = parseDotenv(trimmed, source)
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// parseDotenv reads KEY=VALUE lines (optionally "export", quotes, comments)
// and takes the key from the official or waasctl's variable pair.
func parseDotenv(data []byte, source string) (*APIKey, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errors.New("not a key file: want the portal's JSON download or a .env file with " + EnvOfficialName + " and " + EnvOfficialPrivateKey)
		}
		v = strings.TrimSpace(v)
		// A quoted value may span lines, as a PEM pasted with real newlines
		// does (godotenv reads it so): read on to the closing quote.
		if q := v[:min(1, len(v))]; (q == `"` || q == "'") && (len(v) == 1 || !strings.HasSuffix(v, q)) {
			for sc.Scan() {
				next := strings.TrimRight(sc.Text(), "\r")
				v += "\n" + next
				if strings.HasSuffix(strings.TrimSpace(next), q) {
					v = strings.TrimRight(v, " \t")
					break
				}
			}
		}
		vars[strings.TrimSpace(k)] = unquote(v)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("reading the .env input: a line is too long")
	}
	for _, pair := range [][2]string{{EnvOfficialName, EnvOfficialPrivateKey}, {EnvKeyName, EnvKeyPrivateKey}} {
		name, secret := vars[pair[0]], vars[pair[1]]
		if name == "" && secret == "" {
			continue
		}
		if name == "" || secret == "" {
			return nil, fmt.Errorf(".env input sets only one of %s and %s", pair[0], pair[1])
		}
		return NewAPIKey(name, secret, source)
	}
	return nil, errors.New(".env input has no " + EnvOfficialName + "/" + EnvOfficialPrivateKey + " (or " + EnvKeyName + "/" + EnvKeyPrivateKey + ")")
}

// unquote strips one pair of matching quotes; ParsePrivateKey turns the
// literal \n of a double-quoted PEM into newlines.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	if i := strings.Index(v, " #"); i >= 0 { // an unquoted value may carry a comment
		return strings.TrimSpace(v[:i])
	}
	return v
}

// SecretText is the canonical stored form of a key's secret: SEC1 PEM for
// ECDSA (what the official client and the reference proxy read), base64 of
// the 64-byte key for Ed25519 (the CDP form).
func (k *APIKey) SecretText() (string, error) {
	switch s := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		return EncodeSEC1PEM(s)
	case ed25519.PrivateKey:
		return EncodeEd25519(s), nil
	}
	return "", ErrUnsupportedKey
}

// Algorithm names the key's signature algorithm: "ES256" or "Ed25519".
func (k *APIKey) Algorithm() string {
	if _, ok := k.Signer.(ed25519.PrivateKey); ok {
		return "Ed25519"
	}
	return "ES256"
}
