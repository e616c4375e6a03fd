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
	// WalletsPerGroup is how many consecutive wallets of a pool share one
	// device group (the pool's last group may hold fewer); 0 or 1 gives
	// every wallet its own.
	WalletsPerGroup int
}

// groupsPerPool is how many device groups hold a pool's wallets.
func (s EstateShape) groupsPerPool() int {
	per := max(1, s.WalletsPerGroup)
	return (s.WalletsPerPool + per - 1) / per
}

// seedEstate fills es with a complete, deterministic estate: wallets share
// ready device groups of one device, WalletsPerGroup at a time; every
// wallet has its own MPC keys in its group (at least one) and
// AddressesPerWallet addresses on SeedNetwork, and every group has
// OperationsPerGroup pending CreateSignature operations.
func seedEstate(es *estate, seed int64, shape EstateShape) {
	r := seedReader(seed)
	newID := func() string { return uuid.Must(uuid.NewRandomFromReader(r)).String() }
	perGroup := max(1, shape.WalletsPerGroup)
	keysPerWallet := max(1, shape.AddressesPerWallet)
	addrsPerWallet := shape.AddressesPerWallet
	opsPerGroup := shape.OperationsPerGroup
	groupsPerPool := shape.groupsPerPool()
	total := shape.Pools * shape.WalletsPerPool
	groups := shape.Pools * groupsPerPool
	if total > 0 {
		es.Wallets = make(map[string]*walletRec, total)
		es.Groups = make(map[string]*groupRec, groups)
		es.Devices = make(map[string]*deviceRec, groups)
		es.Addresses = make(map[addrKey]*addrRec, total*addrsPerWallet)
		es.Ops = make(map[string]*opRec, groups*opsPerGroup)
	}
	netAddrs := make([]addrKey, 0, total*addrsPerWallet)
	// Every key's path is one of these; nothing changes a path once made.
	paths := make([][]int32, keysPerWallet)
	for k := range paths {
		paths[k] = []int32{44, 60, 0, 0, int32(k)}
	}
	// The draws from r come in the order device, group, then per wallet its
	// ID and keys, then the group's operations: with one wallet per group
	// that is the order of earlier versions, so their estates are unchanged.
	for p := 0; p < shape.Pools; p++ {
		pool := &poolRec{ID: newID(), DisplayName: fmt.Sprintf("Seed Pool %03d", p+1), WalletIDs: make([]string, 0, shape.WalletsPerPool)}
		es.addPool(pool)
		// Records come from one slab per kind and pool: millions of small
		// allocations cost the garbage collector more than the seeding.
		// Slices carved from a slab are capped at their own part, so that
		// a later append copies instead of overwriting a neighbour.
		var (
			devices  = make([]deviceRec, groupsPerPool)
			devIDs   = make([]string, groupsPerPool)
			grps     = make([]groupRec, groupsPerPool)
			keys     = make([]keyRec, shape.WalletsPerPool*keysPerWallet)
			pubKeys  = make([]byte, len(keys)*33)
			wallets  = make([]walletRec, shape.WalletsPerPool)
			netSlab  []networkAddrs
			addrs    = make([]addrKey, shape.WalletsPerPool*addrsPerWallet)
			addrRecs = make([]addrRec, len(addrs))
			ops      = make([]opRec, groupsPerPool*opsPerGroup)
			pending  = make([]string, len(ops))
			payloads = make([]byte, len(ops)*32)
		)
		if addrsPerWallet > 0 {
			netSlab = make([]networkAddrs, shape.WalletsPerPool)
		}
		nk, nw, na, no := 0, 0, 0, 0 // next key, wallet, address, operation
		for gi := range grps {
			size := min(perGroup, shape.WalletsPerPool-gi*perGroup)
			dev := &devices[gi]
			dev.ID = newID()
			es.Devices[dev.ID] = dev
			devIDs[gi] = dev.ID
			g := &grps[gi]
			*g = groupRec{ID: newID(), PoolID: pool.ID, Devices: devIDs[gi : gi+1 : gi+1], Ready: true}
			g.Keys = keys[nk:nk:min(len(keys), nk+size*keysPerWallet)]
			for range size {
				wal := &wallets[nw]
				*wal = walletRec{ID: newID(), PoolID: pool.ID, GroupID: g.ID}
				first := len(g.Keys)
				for k := range keysPerWallet {
					pub := pubKeys[nk*33 : (nk+1)*33 : (nk+1)*33]
					id := newID()
					_, _ = io.ReadFull(r, pub)
					g.Keys = append(g.Keys, keyRec{ID: id, DerivationPath: paths[k], PublicKey: compressedPoint(pub), WalletID: wal.ID})
					nk++
				}
				if addrsPerWallet > 0 {
					own := addrs[na : na+addrsPerWallet : na+addrsPerWallet]
					for a := range own {
						k := &g.Keys[first+a]
						own[a] = addrKey{Network: SeedNetwork, Addr: addressFromPublicKey(k.PublicKey)}
						addrRecs[na+a] = addrRec{WalletID: wal.ID, GroupID: g.ID, KeyID: k.ID}
						es.Addresses[own[a]] = &addrRecs[na+a]
					}
					netSlab[nw] = networkAddrs{Network: SeedNetwork, Keys: own}
					wal.Addrs = netSlab[nw : nw+1 : nw+1]
					netAddrs = append(netAddrs, own...)
					na += addrsPerWallet
				}
				es.Wallets[wal.ID] = wal
				pool.WalletIDs = append(pool.WalletIDs, wal.ID)
				nw++
			}
			if opsPerGroup > 0 {
				g.Pending = pending[no:no:min(len(pending), no+opsPerGroup)]
			}
			for o := range opsPerGroup {
				op := &ops[no]
				// Spread over the group's wallets: each signs with its first key.
				*op = opRec{ID: newID(), Kind: opCreateSignature, GroupID: g.ID, KeyID: g.Keys[(o%size)*keysPerWallet].ID, Payload: payloads[no*32 : (no+1)*32 : (no+1)*32]}
				_, _ = io.ReadFull(r, op.Payload)
				es.Ops[op.ID] = op
				g.Pending = append(g.Pending, op.ID)
				no++
			}
			es.Groups[g.ID] = g
		}
	}
	es.NetworkAddrs[SeedNetwork] = netAddrs
	es.Stats.MPCWallets += total
	es.Stats.DeviceGroups += groups
	es.Stats.MPCKeys += total * keysPerWallet
	es.Stats.Addresses += len(netAddrs)
	es.Stats.PendingOperations += groups * opsPerGroup
}

// compressedPoint shapes 33 random bytes like a SEC1 compressed point.
func compressedPoint(b []byte) []byte {
	b[0] = 0x02 | b[0]&1
	return b
}
