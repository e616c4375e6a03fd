package credentials

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/99designs/keyring"
)

// SecretStore keeps waasctl's own small secrets that are not API keys: the
// host's age identity for team mode (internal/team) is the one so far. They
// live in the same OS keyring as the profiles' items, under keys of their own
// ("waasctl.secret.NAME") that Profiles never lists, with the same timeout on
// every call.
type SecretStore interface {
	// GetSecret returns the named secret, or an error matching ErrSecretNotFound.
	GetSecret(ctx context.Context, name string) (string, error)
	// PutSecret creates or replaces the named secret.
	PutSecret(ctx context.Context, name, value string) error
	// RemoveSecret deletes it, or returns an error matching ErrSecretNotFound.
	RemoveSecret(ctx context.Context, name string) error
}

// ErrSecretNotFound: the keyring holds no secret of that name.
var ErrSecretNotFound = errors.New("no such secret in the keyring")

const secretPrefix = "waasctl.secret."

var secretName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

func checkSecretName(name string) error {
	if !secretName.MatchString(name) {
		return fmt.Errorf("invalid keyring secret name %q", name)
	}
	return nil
}

func (s *keyringStore) GetSecret(ctx context.Context, name string) (string, error) {
	if err := checkSecretName(name); err != nil {
		return "", err
	}
	if s.file != nil {
		if _, err := s.file.getPassphrase(); err != nil {
			return "", fmt.Errorf("keyring backend file: %w", err)
		}
	}
	it, err := call(ctx, s, "get secret "+name, func() (keyring.Item, error) { return s.ring.Get(secretPrefix + name) })
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound):
		return "", fmt.Errorf("%s: %w (keyring backend %s)", name, ErrSecretNotFound, s.backend)
	case err != nil:
		// The wrapped error names the item, never its value: a backend
		// error on Get has no value to quote.
		return "", s.wrap("reading secret", name, err)
	}
	return string(it.Data), nil
}

func (s *keyringStore) PutSecret(ctx context.Context, name, value string) error {
	if err := checkSecretName(name); err != nil {
		return err
	}
	item := keyring.Item{
		Key:         secretPrefix + name,
		Data:        []byte(value),
		Label:       "waasctl " + name,
		Description: "waasctl's " + name + " (team mode); manage with waasctl team",
	}
	var err error
	if s.file != nil {
		if _, err := s.file.getPassphrase(); err != nil {
			return fmt.Errorf("keyring backend file: %w", err)
		}
		_, err = call(ctx, s, "store secret "+name, func() (struct{}, error) { return struct{}{}, s.filePut(item) })
	} else {
		_, err = call(ctx, s, "store secret "+name, func() (struct{}, error) { return struct{}{}, s.ring.Set(item) })
	}
	if err != nil {
		err = s.wrap("storing secret", name, err)
		if len(value) >= 16 && strings.Contains(err.Error(), value) {
			return fmt.Errorf("keyring error storing secret %s (its message was withheld because it quoted the secret)", name)
		}
		return err
	}
	return nil
}

func (s *keyringStore) RemoveSecret(ctx context.Context, name string) error {
	if err := checkSecretName(name); err != nil {
		return err
	}
	key := secretPrefix + name
	_, err := call(ctx, s, "remove secret "+name, func() (struct{}, error) {
		keys, err := s.ring.Keys()
		if err != nil {
			return struct{}{}, err
		}
		if !slices.Contains(keys, key) {
			return struct{}{}, keyring.ErrKeyNotFound
		}
		return struct{}{}, s.ring.Remove(key)
	})
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound):
		return fmt.Errorf("%s: %w (keyring backend %s)", name, ErrSecretNotFound, s.backend)
	case err != nil:
		return s.wrap("removing secret", name, err)
	}
	return nil
}

func (m *memoryStore) GetSecret(ctx context.Context, name string) (string, error) {
	if err := checkSecretName(name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.secrets[name]
	if !ok {
		return "", fmt.Errorf("%s: %w (keyring backend memory)", name, ErrSecretNotFound)
	}
	return v, nil
}

func (m *memoryStore) PutSecret(ctx context.Context, name, value string) error {
	if err := checkSecretName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secrets == nil {
		m.secrets = map[string]string{}
	}
	m.secrets[name] = value
	return nil
}

func (m *memoryStore) RemoveSecret(ctx context.Context, name string) error {
	if err := checkSecretName(name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.secrets[name]; !ok {
		return fmt.Errorf("%s: %w (keyring backend memory)", name, ErrSecretNotFound)
	}
	delete(m.secrets, name)
	return nil
}
