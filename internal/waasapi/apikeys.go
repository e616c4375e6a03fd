package waasapi

import "time"

// APIKeyState is the state of an API key in the sandbox's key-admin API.
type APIKeyState string

const (
	APIKeyActive  APIKeyState = "ACTIVE"
	APIKeyRevoked APIKeyState = "REVOKED"
)

// KeyService is the JWT audience of the sandbox's key-admin API, the part of
// the real world that lives in the Coinbase developer portal.
const KeyServiceAudience = "sandbox_key_service"

// APIKey is an API key as the sandbox's key-admin API shows it. PrivateKey is
// set only in the answer to the create call, once.
type APIKey struct {
	Name        string      `json:"name"`
	PrivateKey  string      `json:"privateKey,omitempty"`
	Algorithm   string      `json:"algorithm,omitempty"` // "ES256" or "Ed25519"
	State       APIKeyState `json:"state,omitempty"`
	Nickname    string      `json:"nickname,omitempty"`
	RequestID   string      `json:"requestId,omitempty"`
	Fingerprint string      `json:"fingerprint,omitempty"`
	CreateTime  time.Time   `json:"createTime"`
	LastUseTime *time.Time  `json:"lastUseTime,omitempty"`
	RevokeTime  *time.Time  `json:"revokeTime,omitempty"`
}

// CreateAPIKeyRequest is the body of POST /sandbox/v1/apiKeys. A repeated
// requestId does not create a second key: the answer is 409 naming the key
// the first request created, so a caller whose answer was lost can find it.
type CreateAPIKeyRequest struct {
	Nickname  string `json:"nickname,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Algorithm string `json:"algorithm,omitempty"` // "ES256" (default) or "Ed25519"
}

type ListAPIKeysResponse struct {
	APIKeys []APIKey `json:"apiKeys"`
}

// RequestStats is what the sandbox counted of the requests of one
// organization and of its keys (GET BASE/sandbox/v1/stats), by full key name
// and by organization ID.
type RequestStats struct {
	Since         time.Time                `json:"since"`
	Keys          map[string]RequestCounts `json:"keys"`
	Organizations map[string]RequestCounts `json:"organizations"`
}

// RequestCounts is what the sandbox counted of one key, one organization or
// of every request.
type RequestCounts struct {
	Requests  int64 `json:"requests"`  // every request, the throttled ones included
	Throttled int64 `json:"throttled"` // answered 429
	Penalties int64 `json:"penalties"` // times a penalty box was entered
}

// EstateStats counts what the sandbox holds for one organization.
type EstateStats struct {
	Pools             int `json:"pools"`
	MPCWallets        int `json:"mpcWallets"`
	DeviceGroups      int `json:"deviceGroups"`
	MPCKeys           int `json:"mpcKeys"`
	Addresses         int `json:"addresses"`
	PendingOperations int `json:"pendingOperations"`
	MPCTransactions   int `json:"mpcTransactions"`
}
