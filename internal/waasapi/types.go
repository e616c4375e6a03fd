package waasapi

import (
	"encoding/json"
	"fmt"
)

// Service identifies one of the six WaaS services: its path segment under
// BASE/waas/ and the audience its JWTs carry.
type Service struct {
	Path     string // e.g. "pools": requests go to BASE/waas/pools/v1/...
	Audience string // JWT aud, e.g. "waas_pool_service"
	Package  string // proto package, for google.protobuf.Any @type URLs
}

var (
	PoolService           = Service{"pools", "waas_pool_service", "coinbase.cloud.pools.v1"}
	MPCWalletService      = Service{"mpc_wallets", "waas_mpc_wallet_service", "coinbase.cloud.mpc_wallets.v1"}
	MPCKeyService         = Service{"mpc_keys", "waas_mpc_key_service", "coinbase.cloud.mpc_keys.v1"}
	MPCTransactionService = Service{"mpc_transactions", "waas_mpc_transaction_service", "coinbase.cloud.mpc_transactions.v1"}
	BlockchainService     = Service{"blockchain", "waas_blockchain_service", "coinbase.cloud.blockchain.v1"}
	ProtocolService       = Service{"protocols", "waas_protocol_service", "coinbase.cloud.protocols.v1"}

	// Services lists every WaaS service in a stable order.
	Services = []Service{PoolService, MPCWalletService, MPCKeyService, MPCTransactionService, BlockchainService, ProtocolService}
)

// TypeURL returns the google.protobuf.Any type URL of message msg in s.
func (s Service) TypeURL(msg string) string { return "type.googleapis.com/" + s.Package + "." + msg }

// Pool is a top-level container for resources.
type Pool struct {
	Name        string `json:"name,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

type ListPoolsResponse struct {
	Pools         []Pool `json:"pools,omitempty"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// MPCWallet is an HD collection of addresses backed by MPC keys.
type MPCWallet struct {
	Name        string `json:"name,omitempty"`
	DeviceGroup string `json:"deviceGroup,omitempty"`
}

type ListMPCWalletsResponse struct {
	MPCWallets    []MPCWallet `json:"mpcWallets,omitempty"`
	NextPageToken string      `json:"nextPageToken,omitempty"`
}

type CreateMPCWalletMetadata struct {
	DeviceGroup string `json:"deviceGroup,omitempty"`
}

type GenerateAddressRequest struct {
	MPCWallet string `json:"mpcWallet,omitempty"`
	Network   string `json:"network,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

type Address struct {
	Name      string   `json:"name,omitempty"`
	Address   string   `json:"address,omitempty"`
	MPCKeys   []string `json:"mpcKeys,omitempty"`
	MPCWallet string   `json:"mpcWallet,omitempty"`
}

type ListAddressesResponse struct {
	Addresses     []Address `json:"addresses,omitempty"`
	NextPageToken string    `json:"nextPageToken,omitempty"`
}

type Balance struct {
	Name      string `json:"name,omitempty"`
	Asset     string `json:"asset,omitempty"`
	Amount    string `json:"amount,omitempty"`
	MPCWallet string `json:"mpcWallet,omitempty"`
}

type ListBalancesResponse struct {
	Balances      []Balance `json:"balances,omitempty"`
	NextPageToken string    `json:"nextPageToken,omitempty"`
}

type BalanceDetail struct {
	Name            string           `json:"name,omitempty"`
	Asset           string           `json:"asset,omitempty"`
	Amount          string           `json:"amount,omitempty"`
	AssetDefinition *AssetDefinition `json:"assetDefinition,omitempty"`
	MPCWallet       string           `json:"mpcWallet,omitempty"`
}

type ListBalanceDetailsResponse struct {
	BalanceDetails []BalanceDetail `json:"balanceDetails,omitempty"`
	NextPageToken  string          `json:"nextPageToken,omitempty"`
}

// Device is a registered end-user device (the WaaS SDK's half of MPC).
type Device struct {
	Name string `json:"name,omitempty"`
}

type RegisterDeviceRequest struct {
	RegistrationData Bytes  `json:"registrationData,omitempty"`
	RequestID        string `json:"requestId,omitempty"`
}

type RevokeDeviceRequest struct {
	Name string `json:"name,omitempty"`
}

type HardenedChild struct {
	DerivationPath []int32 `json:"derivationPath,omitempty"`
}

type Seed struct {
	HardenedChildren     []HardenedChild `json:"hardenedChildren,omitempty"`
	MPCKeyExportMetadata Bytes           `json:"mpcKeyExportMetadata,omitempty"`
}

type DeviceGroup struct {
	Name    string   `json:"name,omitempty"`
	Devices []string `json:"devices,omitempty"`
	Seed    *Seed    `json:"seed,omitempty"`
}

// DeviceGroupMetadata is the metadata of CreateDeviceGroup,
// PrepareDeviceArchive and PrepareDeviceBackup operations.
type DeviceGroupMetadata struct {
	DeviceGroup string `json:"deviceGroup,omitempty"`
}

type CreateSignatureMetadata struct {
	DeviceGroup string `json:"deviceGroup,omitempty"`
	Payload     Bytes  `json:"payload,omitempty"`
}

type AddDeviceMetadata struct {
	DeviceGroup          string   `json:"deviceGroup,omitempty"`
	ParticipatingDevices []string `json:"participatingDevices,omitempty"`
}

// DeviceRequest is the body of PrepareDeviceArchive, PrepareDeviceBackup and
// AddDevice.
type DeviceRequest struct {
	DeviceGroup string `json:"deviceGroup,omitempty"`
	Device      string `json:"device,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
}

// MPCOperation is a pending operation that needs the device's MPC half.
// Its kind is told by which metadata member is set.
type MPCOperation struct {
	Name                         string                   `json:"name,omitempty"`
	MPCData                      Bytes                    `json:"mpcData,omitempty"`
	CreateDeviceGroupMetadata    *DeviceGroupMetadata     `json:"createDeviceGroupMetadata,omitempty"`
	CreateSignatureMetadata      *CreateSignatureMetadata `json:"createSignatureMetadata,omitempty"`
	PrepareDeviceArchiveMetadata *DeviceGroupMetadata     `json:"prepareDeviceArchiveMetadata,omitempty"`
	PrepareDeviceBackupMetadata  *DeviceGroupMetadata     `json:"prepareDeviceBackupMetadata,omitempty"`
	AddDeviceMetadata            *AddDeviceMetadata       `json:"addDeviceMetadata,omitempty"`
}

// Kind names the operation's kind from its metadata, e.g. "CreateSignature".
func (o MPCOperation) Kind() string {
	switch {
	case o.CreateDeviceGroupMetadata != nil:
		return "CreateDeviceGroup"
	case o.CreateSignatureMetadata != nil:
		return "CreateSignature"
	case o.PrepareDeviceArchiveMetadata != nil:
		return "PrepareDeviceArchive"
	case o.PrepareDeviceBackupMetadata != nil:
		return "PrepareDeviceBackup"
	case o.AddDeviceMetadata != nil:
		return "AddDevice"
	}
	return "Unknown"
}

type ListMPCOperationsResponse struct {
	MPCOperations []MPCOperation `json:"mpcOperations,omitempty"`
}

type EllipticCurve int32

const (
	EllipticCurveUnspecified EllipticCurve = 0
	Secp256k1                EllipticCurve = 1
)

var ellipticCurveNames = enumNames{"ELLIPTIC_CURVE_UNSPECIFIED", "SECP256K1"}

func (c EllipticCurve) MarshalJSON() ([]byte, error) { return ellipticCurveNames.marshal(int32(c)) }
func (c *EllipticCurve) UnmarshalJSON(b []byte) error {
	v, err := ellipticCurveNames.unmarshal(b, "EllipticCurve")
	*c = EllipticCurve(v)
	return err
}

type EllipticPublicKey struct {
	EllipticCurve EllipticCurve `json:"ellipticCurve,omitempty"`
	PublicKey     Bytes         `json:"publicKey,omitempty"`
}

type PublicKey struct {
	EllipticPublicKey *EllipticPublicKey `json:"ellipticPublicKey,omitempty"`
}

type MPCKey struct {
	Name           string     `json:"name,omitempty"`
	DerivationPath []int32    `json:"derivationPath,omitempty"`
	PublicKey      *PublicKey `json:"publicKey,omitempty"`
}

type ECDSASignature struct {
	R Bytes `json:"r,omitempty"`
	S Bytes `json:"s,omitempty"`
	V int32 `json:"v,omitempty"`
}

type CryptoSignature struct {
	ECDSASignature *ECDSASignature `json:"ecdsaSignature,omitempty"`
}

type Signature struct {
	Name      string           `json:"name,omitempty"`
	Payload   Bytes            `json:"payload,omitempty"`
	Signature *CryptoSignature `json:"signature,omitempty"`
}

// TransactionState is MPCTransaction.State.
type TransactionState int32

const (
	StateUnspecified TransactionState = iota
	StateCreated
	StateSigning
	StateSigned
	StateConfirming
	StateConfirmed
	StateFailed
	StateCancelled
)

var transactionStateNames = enumNames{"STATE_UNSPECIFIED", "CREATED", "SIGNING", "SIGNED", "CONFIRMING", "CONFIRMED", "FAILED", "CANCELLED"}

func (s TransactionState) String() string {
	b, _ := transactionStateNames.marshal(int32(s))
	return string(b[1 : len(b)-1])
}
func (s TransactionState) MarshalJSON() ([]byte, error) {
	return transactionStateNames.marshal(int32(s))
}
func (s *TransactionState) UnmarshalJSON(b []byte) error {
	v, err := transactionStateNames.unmarshal(b, "MPCTransaction.State")
	*s = TransactionState(v)
	return err
}

type EIP1559TransactionInput struct {
	ChainID              string `json:"chainId,omitempty"`
	Nonce                Uint64 `json:"nonce,omitempty"`
	MaxPriorityFeePerGas string `json:"maxPriorityFeePerGas,omitempty"`
	MaxFeePerGas         string `json:"maxFeePerGas,omitempty"`
	Gas                  Uint64 `json:"gas,omitempty"`
	FromAddress          string `json:"fromAddress,omitempty"`
	ToAddress            string `json:"toAddress,omitempty"`
	Value                string `json:"value,omitempty"`
	Data                 Bytes  `json:"data,omitempty"`
}

type RLPTransaction struct {
	Sender         string `json:"sender,omitempty"`
	TransactionRLP Bytes  `json:"transactionRlp,omitempty"`
}

type TransactionInput struct {
	EthereumRLPInput  *RLPTransaction          `json:"ethereumRlpInput,omitempty"`
	Ethereum1559Input *EIP1559TransactionInput `json:"ethereum1559Input,omitempty"`
}

type RequiredSignature struct {
	Payload   Bytes            `json:"payload,omitempty"`
	Signature *CryptoSignature `json:"signature,omitempty"`
}

type Transaction struct {
	Input                *TransactionInput   `json:"input,omitempty"`
	RequiredSignatures   []RequiredSignature `json:"requiredSignatures,omitempty"`
	RawSignedTransaction Bytes               `json:"rawSignedTransaction,omitempty"`
	Hash                 string              `json:"hash,omitempty"`
}

type MPCTransaction struct {
	Name          string           `json:"name,omitempty"`
	Network       string           `json:"network,omitempty"`
	FromAddresses []string         `json:"fromAddresses,omitempty"`
	State         TransactionState `json:"state,omitempty"`
	Transaction   *Transaction     `json:"transaction,omitempty"`
}

type CreateMPCTransactionRequest struct {
	Parent         string            `json:"parent,omitempty"`
	MPCTransaction *MPCTransaction   `json:"mpcTransaction,omitempty"`
	Input          *TransactionInput `json:"input,omitempty"`
	OverrideNonce  bool              `json:"overrideNonce,omitempty"`
	RequestID      string            `json:"requestId,omitempty"`
}

type CreateMPCTransactionMetadata struct {
	DeviceGroup    string           `json:"deviceGroup,omitempty"`
	State          TransactionState `json:"state,omitempty"`
	MPCTransaction string           `json:"mpcTransaction,omitempty"`
	Message        string           `json:"message,omitempty"`
}

type ListMPCTransactionsResponse struct {
	MPCTransactions []MPCTransaction `json:"mpcTransactions,omitempty"`
	NextPageToken   string           `json:"nextPageToken,omitempty"`
}

// NetworkType is Network.Type.
type NetworkType int32

const (
	NetworkTypeUnspecified NetworkType = iota
	Mainnet
	Testnet
)

var networkTypeNames = enumNames{"TYPE_UNSPECIFIED", "MAINNET", "TESTNET"}

func (t NetworkType) String() string {
	b, _ := networkTypeNames.marshal(int32(t))
	return string(b[1 : len(b)-1])
}
func (t NetworkType) MarshalJSON() ([]byte, error) { return networkTypeNames.marshal(int32(t)) }
func (t *NetworkType) UnmarshalJSON(b []byte) error {
	v, err := networkTypeNames.unmarshal(b, "Network.Type")
	*t = NetworkType(v)
	return err
}

type Network struct {
	Name           string      `json:"name,omitempty"`
	DisplayName    string      `json:"displayName,omitempty"`
	NativeAsset    string      `json:"nativeAsset,omitempty"`
	ProtocolFamily string      `json:"protocolFamily,omitempty"`
	Type           NetworkType `json:"type,omitempty"`
}

type ListNetworksResponse struct {
	Networks      []Network `json:"networks,omitempty"`
	NextPageToken string    `json:"nextPageToken,omitempty"`
}

type AssetDefinition struct {
	AssetType    string `json:"assetType,omitempty"`
	AssetGroupID string `json:"assetGroupId,omitempty"`
	SubGroupID   string `json:"subGroupId,omitempty"`
}

type Asset struct {
	Name             string           `json:"name,omitempty"`
	AdvertisedSymbol string           `json:"advertisedSymbol,omitempty"`
	Decimals         int32            `json:"decimals,omitempty"`
	Definition       *AssetDefinition `json:"definition,omitempty"`
}

type ListAssetsResponse struct {
	Assets        []Asset `json:"assets,omitempty"`
	NextPageToken string  `json:"nextPageToken,omitempty"`
}

type BatchGetAssetsResponse struct {
	Assets   []Asset  `json:"assets,omitempty"`
	NotFound []string `json:"notFound,omitempty"`
}

type FeeEstimate struct {
	GasPrice             string `json:"gasPrice,omitempty"`
	MaxFeePerGas         string `json:"maxFeePerGas,omitempty"`
	MaxPriorityFeePerGas string `json:"maxPriorityFeePerGas,omitempty"`
}

type EstimateFeeResponse struct {
	EthereumFeeEstimate *FeeEstimate `json:"ethereumFeeEstimate,omitempty"`
}

// Status is google.rpc.Status, the body of every error response.
type Status struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

// Operation is google.longrunning.Operation. Metadata and Response are
// google.protobuf.Any values: JSON objects carrying "@type".
type Operation struct {
	Name     string          `json:"name,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Done     bool            `json:"done,omitempty"`
	Error    *Status         `json:"error,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

// Any encodes msg as a google.protobuf.Any in JSON: the message's fields with
// "@type" first.
func Any(typeURL string, msg any) json.RawMessage {
	body, err := json.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("waasapi: marshal %T: %v", msg, err)) // our own types always marshal
	}
	head, _ := json.Marshal(typeURL)
	out := append([]byte(`{"@type":`), head...)
	if len(body) > 2 { // not "{}"
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out
}

// AnyType returns the "@type" of a google.protobuf.Any in JSON.
func AnyType(raw json.RawMessage) string {
	var v struct {
		Type string `json:"@type"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.Type
}
