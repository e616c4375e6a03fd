package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Resource names, built on output from the IDs the estate keeps.

func poolName(id string) string      { return "pools/" + id }
func walletName(w *walletRec) string { return "pools/" + w.PoolID + "/mpcWallets/" + w.ID }
func groupName(g *groupRec) string   { return "pools/" + g.PoolID + "/deviceGroups/" + g.ID }
func keyName(g *groupRec, k *keyRec) string {
	return groupName(g) + "/mpcKeys/" + k.ID
}
func opName(g *groupRec, id string) string { return groupName(g) + "/mpcOperations/" + id }
func addressName(k addrKey) string {
	return "networks/" + k.Network + "/addresses/" + checksumAddress(k.Addr)
}
func deviceName(id string) string { return "devices/" + id }

func (es *estate) addPool(p *poolRec) {
	es.Pools[p.ID] = p
	es.PoolOrder = append(es.PoolOrder, p.ID)
}

// resourceID validates a caller-chosen ID (AIP-122: lowercase letters,
// digits and hyphens, starting with a letter or digit, at most 63).
var resourceID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// PoolService

func (s *Server) createPool(c *call) (any, error) {
	var p waasapi.Pool
	if err := c.decode(&p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		return nil, invalidArg("pool.displayName is required")
	}
	id := c.query.Get("poolId")
	if id == "" {
		id = uuid.NewString()
	} else if !resourceID.MatchString(id) {
		return nil, invalidArg("poolId %q: use 1-63 lowercase letters, digits and hyphens", id)
	}
	if c.es.Pools[id] != nil {
		return nil, errorf(waasapi.AlreadyExists, "pool %q already exists", poolName(id))
	}
	rec := &poolRec{ID: id, DisplayName: p.DisplayName}
	c.es.addPool(rec)
	return poolView(rec), nil
}

func poolView(p *poolRec) waasapi.Pool {
	return waasapi.Pool{Name: poolName(p.ID), DisplayName: p.DisplayName}
}

func (s *Server) getPool(c *call) (any, error) {
	p := c.es.Pools[c.arg(1)]
	if p == nil {
		return nil, notFound("pool", c.name)
	}
	return poolView(p), nil
}

func (s *Server) listPools(c *call) (any, error) {
	pg, err := s.parsePage(c.query, "ListPools", DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(c.es.PoolOrder))
	out := waasapi.ListPoolsResponse{NextPageToken: next, Pools: make([]waasapi.Pool, 0, end-start)}
	for _, id := range c.es.PoolOrder[start:end] {
		out.Pools = append(out.Pools, poolView(c.es.Pools[id]))
	}
	return out, nil
}

// MPCWalletService

func (c *call) pool(id string) (*poolRec, error) {
	if p := c.es.Pools[id]; p != nil {
		return p, nil
	}
	return nil, notFound("pool", poolName(id))
}

// wallet finds pools/{p}/mpcWallets/{w} given p and w.
func (c *call) wallet(poolID, walletID string) (*walletRec, error) {
	w := c.es.Wallets[walletID]
	if w == nil || w.PoolID != poolID {
		return nil, notFound("MPCWallet", "pools/"+poolID+"/mpcWallets/"+walletID)
	}
	return w, nil
}

// walletByName finds a wallet by its full name.
func (c *call) walletByName(name string) (*walletRec, error) {
	segs := strings.Split(name, "/")
	if len(segs) != 4 || segs[0] != "pools" || segs[2] != "mpcWallets" {
		return nil, invalidArg("%q is not an MPCWallet name (pools/{pool}/mpcWallets/{wallet})", name)
	}
	return c.wallet(segs[1], segs[3])
}

func walletView(w *walletRec) waasapi.MPCWallet {
	return waasapi.MPCWallet{Name: walletName(w), DeviceGroup: "pools/" + w.PoolID + "/deviceGroups/" + w.GroupID}
}

func (s *Server) createMPCWallet(c *call) (any, error) {
	if out, ok := c.replay("CreateMPCWallet", c.query.Get("requestId")); ok {
		return out, nil
	}
	pool, err := c.pool(c.arg(1))
	if err != nil {
		return nil, err
	}
	var body waasapi.MPCWallet // blank in practice; output-only fields are ignored
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	device := c.query.Get("device")
	dev, err := c.device(device)
	if err != nil {
		return nil, err
	}
	return c.idempotent("CreateMPCWallet", c.query.Get("requestId"), func() (any, error) {
		g := c.newGroup(pool.ID, []string{dev.ID})
		w := &walletRec{ID: uuid.NewString(), PoolID: pool.ID, GroupID: g.ID}
		op := c.newOp(g, opCreateDeviceGroup)
		op.WalletID = w.ID
		c.es.Wallets[w.ID] = w // reachable by the operation; listed once it completes
		lro := &walletLRO{ID: uuid.NewString(), WalletID: w.ID, OpID: op.ID}
		c.es.WalletLROs[lro.ID] = lro
		return c.walletOperation(lro), nil
	})
}

func (s *Server) getMPCWallet(c *call) (any, error) {
	w, err := c.wallet(c.arg(1), c.arg(3))
	if err != nil || !c.walletReady(w) {
		return nil, notFound("MPCWallet", c.name)
	}
	return walletView(w), nil
}

func (c *call) walletReady(w *walletRec) bool {
	g := c.es.Groups[w.GroupID]
	return g != nil && g.Ready
}

func (s *Server) listMPCWallets(c *call) (any, error) {
	pool, err := c.pool(c.arg(1))
	if err != nil {
		return nil, err
	}
	pg, err := s.parsePage(c.query, "ListMPCWallets\x00"+pool.ID, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(pool.WalletIDs))
	out := waasapi.ListMPCWalletsResponse{NextPageToken: next, MPCWallets: make([]waasapi.MPCWallet, 0, end-start)}
	for _, id := range pool.WalletIDs[start:end] {
		out.MPCWallets = append(out.MPCWallets, walletView(c.es.Wallets[id]))
	}
	return out, nil
}

func (s *Server) generateAddress(c *call) (any, error) {
	w, err := c.wallet(c.arg(1), c.arg(3))
	if err != nil || !c.walletReady(w) {
		return nil, notFound("MPCWallet", c.name)
	}
	var req waasapi.GenerateAddressRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if out, ok := c.replay("GenerateAddress", req.RequestID); ok {
		return out, nil
	}
	netID, ok := strings.CutPrefix(req.Network, "networks/")
	if !ok || findNetwork(netID) == nil {
		return nil, invalidArg("network %q is not a known network (see ListNetworks)", req.Network)
	}
	return c.idempotent("GenerateAddress", req.RequestID, func() (any, error) {
		g := c.es.Groups[w.GroupID]
		// Addresses are identical across networks of one family: the n-th
		// address on any network comes from the wallet's n-th key.
		idx := -1
		for i := range w.Addrs {
			if w.Addrs[i].Network == netID {
				idx = i
			}
		}
		if idx < 0 {
			w.Addrs = append(w.Addrs, networkAddrs{Network: netID})
			idx = len(w.Addrs) - 1
		}
		n := len(w.Addrs[idx].Keys)
		k := g.walletKey(w.ID, n)
		if k == nil {
			k = c.newKey(g, []int32{44, 60, 0, 0, int32(n)})
			k.WalletID = w.ID
		}
		ak := addrKey{Network: netID, Addr: addressFromPublicKey(k.PublicKey)}
		w.Addrs[idx].Keys = append(w.Addrs[idx].Keys, ak)
		c.es.Addresses[ak] = &addrRec{WalletID: w.ID, GroupID: g.ID, KeyID: k.ID}
		c.es.NetworkAddrs[netID] = append(c.es.NetworkAddrs[netID], ak)
		c.es.Stats.Addresses++
		return c.addressView(ak), nil
	})
}

func (c *call) addressView(ak addrKey) waasapi.Address {
	a := c.es.Addresses[ak]
	g := c.es.Groups[a.GroupID]
	w := c.es.Wallets[a.WalletID]
	return waasapi.Address{
		Name:      addressName(ak),
		Address:   checksumAddress(ak.Addr),
		MPCKeys:   []string{groupName(g) + "/mpcKeys/" + a.KeyID},
		MPCWallet: walletName(w),
	}
}

// address finds networks/{n}/addresses/{a} given n and a.
func (c *call) address(netID, addr string) (addrKey, error) {
	raw, ok := parseAddress(addr)
	ak := addrKey{Network: netID, Addr: raw}
	if !ok || c.es.Addresses[ak] == nil {
		return ak, notFound("address", "networks/"+netID+"/addresses/"+addr)
	}
	return ak, nil
}

func (s *Server) getAddress(c *call) (any, error) {
	ak, err := c.address(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	return c.addressView(ak), nil
}

func (s *Server) listAddresses(c *call) (any, error) {
	netID := c.arg(1)
	if findNetwork(netID) == nil {
		return nil, notFound("network", "networks/"+netID)
	}
	rows := c.es.NetworkAddrs[netID]
	filter := c.query.Get("mpcWallet")
	if filter != "" {
		w, err := c.walletByName(filter)
		if err != nil {
			return nil, err
		}
		rows = w.addrsOn(netID)
	}
	pg, err := s.parsePage(c.query, "ListAddresses\x00"+netID+"\x00"+filter, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(rows))
	out := waasapi.ListAddressesResponse{NextPageToken: next, Addresses: make([]waasapi.Address, 0, end-start)}
	for _, ak := range rows[start:end] {
		out.Addresses = append(out.Addresses, c.addressView(ak))
	}
	return out, nil
}

// Balances are derived from the address, not stored: each address holds
// some of its network's native asset and of its USDC.

type balanceRow struct {
	id     string
	asset  waasapi.Asset
	amount string
}

func balancesOf(ak addrKey) []balanceRow {
	net := findNetwork(ak.Network)
	rows := make([]balanceRow, 0, len(net.Assets))
	for i, asset := range net.Assets {
		h := sha256.Sum256(append(ak.Addr[:], byte(i)))
		amount := new(big.Int).SetUint64(binary.BigEndian.Uint64(h[:8]) >> 4)
		if asset.Decimals < 18 {
			amount.Rsh(amount, 30)
		}
		rows = append(rows, balanceRow{id: uuid.NewSHA1(idNamespace, h[8:24]).String(), asset: asset, amount: amount.String()})
	}
	return rows
}

func (s *Server) listBalances(c *call) (any, error) {
	ak, err := c.address(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	pg, err := s.parsePage(c.query, "ListBalances\x00"+c.name, DefaultBalancesPageSize)
	if err != nil {
		return nil, err
	}
	rows := balancesOf(ak)
	w := c.es.Wallets[c.es.Addresses[ak].WalletID]
	start, end, next := s.window(pg, len(rows))
	out := waasapi.ListBalancesResponse{NextPageToken: next, Balances: []waasapi.Balance{}}
	for _, b := range rows[start:end] {
		out.Balances = append(out.Balances, waasapi.Balance{Name: addressName(ak) + "/balances/" + b.id, Asset: b.asset.Name, Amount: b.amount, MPCWallet: walletName(w)})
	}
	return out, nil
}

func (s *Server) listBalanceDetails(c *call) (any, error) {
	ak, err := c.address(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	var bal *balanceRow
	for _, b := range balancesOf(ak) {
		if b.id == c.arg(5) {
			bal = &b
		}
	}
	if bal == nil {
		return nil, notFound("balance", strings.TrimSuffix(c.name, "/balanceDetails"))
	}
	pg, err := s.parsePage(c.query, "ListBalanceDetails\x00"+c.name, DefaultBalancesPageSize)
	if err != nil {
		return nil, err
	}
	w := c.es.Wallets[c.es.Addresses[ak].WalletID]
	detail := waasapi.BalanceDetail{
		Name:            strings.TrimSuffix(c.name, "/balanceDetails") + "/balanceDetails/" + uuid.NewSHA1(idNamespace, []byte(bal.id)).String(),
		Asset:           bal.asset.Name,
		Amount:          bal.amount,
		AssetDefinition: bal.asset.Definition,
		MPCWallet:       walletName(w),
	}
	start, end, next := s.window(pg, 1)
	out := waasapi.ListBalanceDetailsResponse{NextPageToken: next, BalanceDetails: []waasapi.BalanceDetail{}}
	if end > start {
		out.BalanceDetails = append(out.BalanceDetails, detail)
	}
	return out, nil
}

// randomBytes is for runtime-created resources; seeded ones use the seed.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
