package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/google/uuid"
)

// idNamespace scopes the name-based UUIDs the sandbox derives.
var idNamespace = uuid.MustParse("6f1c2b9e-8d4a-4c3e-9b7a-0e5d2f1a3c4b")

// derivedUUID is a stable UUID for a tuple of strings (catalog assets, the
// seeded organization).
func derivedUUID(parts ...string) string {
	data := ""
	for _, p := range parts {
		data += p + "\x00"
	}
	return uuid.NewSHA1(idNamespace, []byte(data)).String()
}

// seedReader is the deterministic byte stream behind a seeded estate: the
// same --seed gives the same IDs, keys and addresses on every machine.
func seedReader(seed int64) io.Reader {
	var key [32]byte
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], uint64(seed))
	key = sha256.Sum256(append([]byte("waasctl sandbox seed v1:"), in[:]...))
	return rand.NewChaCha8(key)
}

// SeedOrg is the organization ID that owns a seeded estate.
func SeedOrg(seed int64) string { return derivedUUID("organization", fmt.Sprint(seed)) }

// EstateShape says how big a seeded estate is.
type EstateShape struct {
	Pools              int
	WalletsPerPool     int
	AddressesPerWallet int
	OperationsPerGroup int
}

// seedEstate fills es with a complete, deterministic estate: every wallet
// has its own ready device group with one device, at least one MPC key,
// AddressesPerWallet addresses on SeedNetwork, and OperationsPerGroup
// pending CreateSignature operations.
func seedEstate(es *estate, seed int64, shape EstateShape) {
	r := seedReader(seed)
	newID := func() string { return uuid.Must(uuid.NewRandomFromReader(r)).String() }
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		_, _ = io.ReadFull(r, b)
		return b
	}
	total := shape.Pools * shape.WalletsPerPool
	if total > 0 {
		es.Wallets = make(map[string]*walletRec, total)
		es.Groups = make(map[string]*groupRec, total)
		es.Devices = make(map[string]*deviceRec, total)
		es.Addresses = make(map[addrKey]*addrRec, total*shape.AddressesPerWallet)
		es.Ops = make(map[string]*opRec, total*shape.OperationsPerGroup)
	}
	netAddrs := make([]addrKey, 0, total*shape.AddressesPerWallet)
	for p := 0; p < shape.Pools; p++ {
		pool := &poolRec{ID: newID(), DisplayName: fmt.Sprintf("Seed Pool %03d", p+1), WalletIDs: make([]string, 0, shape.WalletsPerPool)}
		es.addPool(pool)
		for w := 0; w < shape.WalletsPerPool; w++ {
			dev := &deviceRec{ID: newID()}
			es.Devices[dev.ID] = dev
			g := &groupRec{ID: newID(), PoolID: pool.ID, Devices: []string{dev.ID}, Ready: true}
			wal := &walletRec{ID: newID(), PoolID: pool.ID, GroupID: g.ID}
			nKeys := max(1, shape.AddressesPerWallet)
			g.Keys = make([]keyRec, nKeys)
			for k := range g.Keys {
				g.Keys[k] = keyRec{ID: newID(), DerivationPath: []int32{44, 60, 0, 0, int32(k)}, PublicKey: compressedPoint(randBytes(33))}
			}
			if shape.AddressesPerWallet > 0 {
				keys := make([]addrKey, shape.AddressesPerWallet)
				for a := range keys {
					ak := addrKey{Network: SeedNetwork, Addr: addressFromPublicKey(g.Keys[a].PublicKey)}
					keys[a] = ak
					es.Addresses[ak] = &addrRec{WalletID: wal.ID, GroupID: g.ID, KeyID: g.Keys[a].ID}
				}
				wal.Addrs = []networkAddrs{{Network: SeedNetwork, Keys: keys}}
				netAddrs = append(netAddrs, keys...)
			}
			for o := 0; o < shape.OperationsPerGroup; o++ {
				op := &opRec{ID: newID(), Kind: opCreateSignature, GroupID: g.ID, KeyID: g.Keys[0].ID, Payload: randBytes(32)}
				es.Ops[op.ID] = op
				g.Pending = append(g.Pending, op.ID)
			}
			es.Groups[g.ID] = g
			es.Wallets[wal.ID] = wal
			pool.WalletIDs = append(pool.WalletIDs, wal.ID)
		}
	}
	es.NetworkAddrs[SeedNetwork] = netAddrs
	es.Stats.MPCWallets += total
	es.Stats.DeviceGroups += total
	es.Stats.MPCKeys += total * max(1, shape.AddressesPerWallet)
	es.Stats.Addresses += len(netAddrs)
	es.Stats.PendingOperations += total * shape.OperationsPerGroup
}

// compressedPoint shapes 33 random bytes like a SEC1 compressed point.
func compressedPoint(b []byte) []byte {
	b[0] = 0x02 | b[0]&1
	return b
}
