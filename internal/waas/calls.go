package waas

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// PageRequest selects one page of a list call. Zero values leave the choice
// to the server.
type PageRequest struct {
	Size  int
	Token string
}

func (p PageRequest) query() url.Values {
	q := url.Values{}
	if p.Size > 0 {
		q.Set("pageSize", strconv.Itoa(p.Size))
	}
	if p.Token != "" {
		q.Set("pageToken", p.Token)
	}
	return q
}

// PoolService

func (c *Client) ListPools(ctx context.Context, page PageRequest) (*waasapi.ListPoolsResponse, error) {
	var out waasapi.ListPoolsResponse
	err := c.do(ctx, waasEndpoint("ListPools", waasapi.PoolService), http.MethodGet, "pools", page.query(), nil, &out)
	return &out, err
}

func (c *Client) GetPool(ctx context.Context, name string) (*waasapi.Pool, error) {
	var out waasapi.Pool
	err := c.do(ctx, waasEndpoint("GetPool", waasapi.PoolService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// CreatePool creates a pool; poolID may be empty to let the service choose.
// With a poolID the call is retried like a read, and a retry that finds the
// pool already there (the first try's answer was lost) returns that pool if
// its display name is the one asked for.
func (c *Client) CreatePool(ctx context.Context, displayName, poolID string) (*waasapi.Pool, error) {
	q := url.Values{}
	if poolID != "" {
		q.Set("poolId", poolID)
	}
	ep := waasEndpoint("CreatePool", waasapi.PoolService)
	if poolID == "" { // without a chosen ID a repeat would create a second pool
		ep = ep.unsafe()
	}
	var out waasapi.Pool
	err := c.do(ctx, ep, http.MethodPost, "pools", q, waasapi.Pool{DisplayName: displayName}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.HTTPStatus == http.StatusConflict && ae.Attempts > 1 {
		if p, gerr := c.GetPool(ctx, "pools/"+poolID); gerr == nil && p.DisplayName == displayName {
			return p, nil
		}
	}
	return &out, err
}

// MPCWalletService

func (c *Client) ListMPCWallets(ctx context.Context, pool string, page PageRequest) (*waasapi.ListMPCWalletsResponse, error) {
	var out waasapi.ListMPCWalletsResponse
	err := c.do(ctx, waasEndpoint("ListMPCWallets", waasapi.MPCWalletService), http.MethodGet, pool+"/mpcWallets", page.query(), nil, &out)
	return &out, err
}

func (c *Client) GetMPCWallet(ctx context.Context, name string) (*waasapi.MPCWallet, error) {
	var out waasapi.MPCWallet
	err := c.do(ctx, waasEndpoint("GetMPCWallet", waasapi.MPCWalletService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// MPCKeyService

// ListMPCOperations lists a device group's pending MPC operations; the API
// does not paginate this call.
func (c *Client) ListMPCOperations(ctx context.Context, deviceGroup string) (*waasapi.ListMPCOperationsResponse, error) {
	var out waasapi.ListMPCOperationsResponse
	err := c.do(ctx, waasEndpoint("ListMPCOperations", waasapi.MPCKeyService), http.MethodGet, deviceGroup+"/mpcOperations", nil, nil, &out)
	return &out, err
}

func (c *Client) ListAddresses(ctx context.Context, network, wallet string, page PageRequest) (*waasapi.ListAddressesResponse, error) {
	q := page.query()
	if wallet != "" {
		q.Set("mpcWallet", wallet)
	}
	var out waasapi.ListAddressesResponse
	err := c.do(ctx, waasEndpoint("ListAddresses", waasapi.MPCWalletService), http.MethodGet, network+"/addresses", q, nil, &out)
	return &out, err
}

func (c *Client) GetAddress(ctx context.Context, name string) (*waasapi.Address, error) {
	var out waasapi.Address
	err := c.do(ctx, waasEndpoint("GetAddress", waasapi.MPCWalletService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

func (c *Client) ListBalances(ctx context.Context, address string, page PageRequest) (*waasapi.ListBalancesResponse, error) {
	var out waasapi.ListBalancesResponse
	err := c.do(ctx, waasEndpoint("ListBalances", waasapi.MPCWalletService), http.MethodGet, address+"/balances", page.query(), nil, &out)
	return &out, err
}

func (c *Client) ListBalanceDetails(ctx context.Context, balance string, page PageRequest) (*waasapi.ListBalanceDetailsResponse, error) {
	var out waasapi.ListBalanceDetailsResponse
	err := c.do(ctx, waasEndpoint("ListBalanceDetails", waasapi.MPCWalletService), http.MethodGet, balance+"/balanceDetails", page.query(), nil, &out)
	return &out, err
}

func (c *Client) GetDeviceGroup(ctx context.Context, name string) (*waasapi.DeviceGroup, error) {
	var out waasapi.DeviceGroup
	err := c.do(ctx, waasEndpoint("GetDeviceGroup", waasapi.MPCKeyService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

func (c *Client) GetMPCKey(ctx context.Context, name string) (*waasapi.MPCKey, error) {
	var out waasapi.MPCKey
	err := c.do(ctx, waasEndpoint("GetMPCKey", waasapi.MPCKeyService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

func (c *Client) GetDevice(ctx context.Context, name string) (*waasapi.Device, error) {
	var out waasapi.Device
	err := c.do(ctx, waasEndpoint("GetDevice", waasapi.MPCKeyService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// MPCTransactionService

func (c *Client) ListMPCTransactions(ctx context.Context, wallet string, page PageRequest) (*waasapi.ListMPCTransactionsResponse, error) {
	var out waasapi.ListMPCTransactionsResponse
	err := c.do(ctx, waasEndpoint("ListMPCTransactions", waasapi.MPCTransactionService), http.MethodGet, wallet+"/mpcTransactions", page.query(), nil, &out)
	return &out, err
}

func (c *Client) GetMPCTransaction(ctx context.Context, name string) (*waasapi.MPCTransaction, error) {
	var out waasapi.MPCTransaction
	err := c.do(ctx, waasEndpoint("GetMPCTransaction", waasapi.MPCTransactionService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// GetOperation reads a long-running operation from the service that owns it.
func (c *Client) GetOperation(ctx context.Context, svc waasapi.Service, name string) (*waasapi.Operation, error) {
	var out waasapi.Operation
	err := c.do(ctx, waasEndpoint("GetOperation", svc), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// BlockchainService

func (c *Client) GetNetwork(ctx context.Context, name string) (*waasapi.Network, error) {
	var out waasapi.Network
	err := c.do(ctx, waasEndpoint("GetNetwork", waasapi.BlockchainService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

func (c *Client) ListAssets(ctx context.Context, network, filter string, page PageRequest) (*waasapi.ListAssetsResponse, error) {
	q := page.query()
	if filter != "" {
		q.Set("filter", filter)
	}
	var out waasapi.ListAssetsResponse
	err := c.do(ctx, waasEndpoint("ListAssets", waasapi.BlockchainService), http.MethodGet, network+"/assets", q, nil, &out)
	return &out, err
}

func (c *Client) GetAsset(ctx context.Context, name string) (*waasapi.Asset, error) {
	var out waasapi.Asset
	err := c.do(ctx, waasEndpoint("GetAsset", waasapi.BlockchainService), http.MethodGet, name, nil, nil, &out)
	return &out, err
}

// BatchGetAssets reads up to 1000 assets of one network at once.
func (c *Client) BatchGetAssets(ctx context.Context, network string, names []string) (*waasapi.BatchGetAssetsResponse, error) {
	q := url.Values{"names": names}
	var out waasapi.BatchGetAssetsResponse
	err := c.do(ctx, waasEndpoint("BatchGetAssets", waasapi.BlockchainService), http.MethodGet, network+"/assets:batchGet", q, nil, &out)
	return &out, err
}

// EstimateFee is ProtocolService's one read: the network's current fees.
func (c *Client) EstimateFee(ctx context.Context, network string) (*waasapi.EstimateFeeResponse, error) {
	var out waasapi.EstimateFeeResponse
	err := c.do(ctx, waasEndpoint("EstimateFee", waasapi.ProtocolService), http.MethodGet, network+":estimateFee", nil, nil, &out)
	return &out, err
}

func (c *Client) ListNetworks(ctx context.Context, page PageRequest) (*waasapi.ListNetworksResponse, error) {
	var out waasapi.ListNetworksResponse
	err := c.do(ctx, waasEndpoint("ListNetworks", waasapi.BlockchainService), http.MethodGet, "networks", page.query(), nil, &out)
	return &out, err
}

// The sandbox's key-admin API (the developer portal's job in production).

func (c *Client) CreateAPIKey(ctx context.Context, req waasapi.CreateAPIKeyRequest) (*waasapi.APIKey, error) {
	var out waasapi.APIKey
	ep := sandboxEndpoint("CreateAPIKey")
	if req.RequestID == "" { // with one, a repeat answers 409 naming the first key
		ep = ep.unsafe()
	}
	err := c.do(ctx, ep, http.MethodPost, "apiKeys", nil, req, &out)
	return &out, err
}

func (c *Client) ListAPIKeys(ctx context.Context) (*waasapi.ListAPIKeysResponse, error) {
	var out waasapi.ListAPIKeysResponse
	err := c.do(ctx, sandboxEndpoint("ListAPIKeys"), http.MethodGet, "apiKeys", nil, nil, &out)
	return &out, err
}

// RevokeAPIKey revokes the key called name (organizations/{org}/apiKeys/{id}).
func (c *Client) RevokeAPIKey(ctx context.Context, name string) (*waasapi.APIKey, error) {
	var out waasapi.APIKey
	err := c.do(ctx, sandboxEndpoint("RevokeAPIKey"), http.MethodDelete, name, nil, nil, &out)
	return &out, err
}

// SandboxEstate counts what the sandbox holds for the caller's organization.
func (c *Client) SandboxEstate(ctx context.Context) (*waasapi.EstateStats, error) {
	var out waasapi.EstateStats
	err := c.do(ctx, sandboxEndpoint("SandboxEstate"), http.MethodGet, "estate", nil, nil, &out)
	return &out, err
}

// SandboxRequestStats is what the sandbox counted of the requests of the
// caller's organization and its keys.
func (c *Client) SandboxRequestStats(ctx context.Context) (*waasapi.RequestStats, error) {
	var out waasapi.RequestStats
	err := c.do(ctx, sandboxEndpoint("SandboxRequestStats"), http.MethodGet, "stats", nil, nil, &out)
	return &out, err
}

// CompleteMPCOperation finishes a pending MPC operation in the sandbox, as a
// device running the WaaS SDK would.
func (c *Client) CompleteMPCOperation(ctx context.Context, name string) (*waasapi.Operation, error) {
	var out waasapi.Operation
	err := c.do(ctx, sandboxEndpoint("CompleteMPCOperation"), http.MethodPost, name+":complete", nil, nil, &out)
	return &out, err
}

// CreateSignature asks the devices of mpcKey's device group to sign digest (32 bytes): it
// queues a CreateSignature MPC operation. waasctl never signs anything; the sandbox demo calls
// this to play an attacker with a leaked key, whose request the audit then finds. A repeat
// would queue a second request, so it is never retried.
func (c *Client) CreateSignature(ctx context.Context, mpcKey string, digest []byte) (*waasapi.Operation, error) {
	var out waasapi.Operation
	err := c.do(ctx, waasEndpoint("CreateSignature", waasapi.MPCKeyService).unsafe(), http.MethodPost, mpcKey+"/signatures", nil, waasapi.Signature{Payload: digest}, &out)
	return &out, err
}
