package rotation

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// SandboxIssuer uses the sandbox's key-admin API, authenticated by the
// profile's current key.
type SandboxIssuer struct {
	Client *waas.Client // signs with the current key
}

func (s *SandboxIssuer) Name() string { return "sandbox" }

func (s *SandboxIssuer) Create(ctx context.Context, requestID string) (*NewKey, error) {
	created, err := s.Client.CreateAPIKey(ctx, waasapi.CreateAPIKeyRequest{Nickname: "waasctl rotation", RequestID: requestID})
	if waas.HTTPCode(err) == http.StatusConflict {
		return nil, fmt.Errorf("%w (request %s)", ErrCreatedButLost, requestID)
	}
	if err != nil {
		return nil, err
	}
	return newKeyFrom(created.Name, created.PrivateKey, "issuer sandbox")
}

func (s *SandboxIssuer) Find(ctx context.Context, requestID string) (string, bool, error) {
	keys, err := s.Client.ListAPIKeys(ctx)
	if err != nil {
		return "", false, err
	}
	for _, k := range keys.APIKeys {
		if k.RequestID == requestID {
			if err := checkKeyName(k.Name); err != nil {
				return "", false, err
			}
			return k.Name, true, nil
		}
	}
	return "", false, nil
}

func (s *SandboxIssuer) Revoke(ctx context.Context, name string) error {
	_, err := s.Client.RevokeAPIKey(ctx, name)
	var ae *waas.APIError
	if errors.As(err, &ae) && ae.HTTPStatus == http.StatusUnauthorized {
		return fmt.Errorf("revoking %s: the key used for the key-admin API was rejected: %w", name, err)
	}
	return err
}
