package sandbox

import (
	"github.com/waasctl/waasctl/internal/waasapi"
)

// The estate is kept pointer-free (records refer to each other by ID) so that
// it encodes with encoding/gob as it is for --state persistence, and so that a
// million-wallet estate stays a few flat maps.

// estate holds one organization's resources. Every organization (the
// project an API key belongs to) sees only its own estate.
type estate struct {
	Org          string
	PoolOrder    []string // pool IDs in creation order: ListPools order
	Pools        map[string]*poolRec
	Wallets      map[string]*walletRec // by wallet ID
	Groups       map[string]*groupRec  // by device group ID
	Ops          map[string]*opRec     // MPC operations, pending and done, by ID
	Txs          map[string]*txRec
	Devices      map[string]*deviceRec
	Addresses    map[addrKey]*addrRec
	NetworkAddrs map[string][]addrKey // network ID -> addresses in creation order
	WalletLROs   map[string]*walletLRO
	TxLROs       map[string]*txLRO
	// Requests remembers the answer to each request that carried a
	// requestId, so that a retried create returns the first answer instead
	// of creating a second resource (AIP-155).
	Requests map[string][]byte
	Stats    waasapi.EstateStats
}

func newEstate(org string) *estate {
	return &estate{
		Org:          org,
		Pools:        map[string]*poolRec{},
		Wallets:      map[string]*walletRec{},
		Groups:       map[string]*groupRec{},
		Ops:          map[string]*opRec{},
		Txs:          map[string]*txRec{},
		Devices:      map[string]*deviceRec{},
		Addresses:    map[addrKey]*addrRec{},
		NetworkAddrs: map[string][]addrKey{},
		WalletLROs:   map[string]*walletLRO{},
		TxLROs:       map[string]*txLRO{},
		Requests:     map[string][]byte{},
	}
}

type poolRec struct {
	ID          string
	DisplayName string
	WalletIDs   []string // completed wallets in creation order: ListMPCWallets order
}

type walletRec struct {
	ID      string
	PoolID  string
	GroupID string
	// Addrs lists the wallet's addresses per network, in generation order.
	Addrs []networkAddrs
	TxIDs []string
}

type networkAddrs struct {
	Network string
	Keys    []addrKey
}

func (w *walletRec) addrsOn(network string) []addrKey {
	for _, na := range w.Addrs {
		if na.Network == network {
			return na.Keys
		}
	}
	return nil
}

// A device group may hold several wallets (EstateShape.WalletsPerGroup);
// each wallet then has its own keys in the group, marked by keyRec.WalletID.
type groupRec struct {
	ID      string
	PoolID  string
	Devices []string // device IDs
	Keys    []keyRec
	Pending []string // IDs of pending MPC operations, oldest first
	Ready   bool     // the CreateDeviceGroup operation has completed
}

type keyRec struct {
	ID             string
	DerivationPath []int32
	PublicKey      []byte // 33-byte compressed point; emulated, not a real secp256k1 key
	// WalletID is the wallet whose addresses come from this key; empty
	// for a key made with CreateMPCKey until GenerateAddress claims it.
	WalletID string
}

func (g *groupRec) key(id string) *keyRec {
	for i := range g.Keys {
		if g.Keys[i].ID == id {
			return &g.Keys[i]
		}
	}
	return nil
}

// walletKey returns the n-th key of the group that belongs to walletID,
// claiming the first unclaimed key when the wallet has fewer than n+1, or
// nil when there is none to claim. Claiming keeps two wallets of one group
// from ever deriving an address from the same key.
func (g *groupRec) walletKey(walletID string, n int) *keyRec {
	for i := range g.Keys {
		if g.Keys[i].WalletID == walletID {
			if n == 0 {
				return &g.Keys[i]
			}
			n--
		}
	}
	for i := range g.Keys {
		if g.Keys[i].WalletID == "" {
			g.Keys[i].WalletID = walletID
			return &g.Keys[i]
		}
	}
	return nil
}

type deviceRec struct {
	ID      string
	Revoked bool
}

// addrKey identifies an address: the network ID and the 20-byte address.
type addrKey struct {
	Network string
	Addr    [20]byte
}

type addrRec struct {
	WalletID string
	GroupID  string
	KeyID    string
}

type opKind uint8

const (
	opCreateDeviceGroup opKind = iota + 1
	opCreateSignature
	opPrepareDeviceArchive
	opPrepareDeviceBackup
	opAddDevice
)

func (k opKind) String() string {
	switch k {
	case opCreateDeviceGroup:
		return "CreateDeviceGroup"
	case opCreateSignature:
		return "CreateSignature"
	case opPrepareDeviceArchive:
		return "PrepareDeviceArchive"
	case opPrepareDeviceBackup:
		return "PrepareDeviceBackup"
	case opAddDevice:
		return "AddDevice"
	}
	return "Unknown"
}

// opRec is an MPC operation. Its ID is also the ID of the MPCKeyService
// long-running operation behind it, as the real API guarantees.
type opRec struct {
	ID      string
	Kind    opKind
	GroupID string
	KeyID   string // CreateSignature: the key that signs
	Payload []byte // CreateSignature: what is signed
	Device  string // PrepareDevice*/AddDevice: device ID
	Done    bool
	// WalletID is set when the operation creates an MPCWallet's group: the
	// wallet appears in listings once the operation completes.
	WalletID string
	TxID     string     // CreateSignature on behalf of an MPCTransaction
	Sig      *sigResult // CreateSignature, once done
}

type sigResult struct {
	ID   string
	R, S []byte
	V    int32
}

type txRec struct {
	ID            string
	WalletID      string
	Network       string
	FromAddresses []string
	State         waasapi.TransactionState
	Input         *waasapi.TransactionInput
	Payload       []byte // the digest to sign
	OpID          string // the CreateSignature operation
	Sig           *sigResult
	Hash          string
	RawSigned     []byte
}

// walletLRO is the MPCWalletService operation of a CreateMPCWallet call; it
// is done when the underlying CreateDeviceGroup MPC operation is.
type walletLRO struct {
	ID       string
	WalletID string
	OpID     string
}

// txLRO is the MPCTransactionService operation of CreateMPCTransaction; it
// is done once the transaction reaches CONFIRMING.
type txLRO struct {
	ID   string
	TxID string
}
