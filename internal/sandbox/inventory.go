package sandbox

import (
	"cmp"
	"slices"
)

// Inventory is every resource of the seeded organization by its full API
// name, read in-process rather than through the API: the oracle a test
// checks what a client found against. Each list is sorted by name.
type Inventory struct {
	Pools        []string // pools/{pool}
	Wallets      []InventoryWallet
	DeviceGroups []InventoryDeviceGroup
	Operations   []InventoryOperation // pending MPC operations only
}

// InventoryWallet is an MPC wallet that ListMPCWallets shows: one whose
// CreateDeviceGroup operation has completed.
type InventoryWallet struct {
	Name        string // pools/{pool}/mpcWallets/{wallet}
	DeviceGroup string // pools/{pool}/deviceGroups/{group}
}

// InventoryDeviceGroup is a device group, including one whose
// CreateDeviceGroup operation is still pending.
type InventoryDeviceGroup struct {
	Name string // pools/{pool}/deviceGroups/{group}
	Pool string // pools/{pool}
}

// InventoryOperation is a pending MPC operation, as ListMPCOperations
// shows it.
type InventoryOperation struct {
	Name        string // pools/{pool}/deviceGroups/{group}/mpcOperations/{operation}
	DeviceGroup string
	Kind        string // e.g. CreateSignature
}

// Inventory lists the seeded organization's resources under the estate
// lock, so that it is one consistent picture even while requests run.
func (s *Server) Inventory() Inventory {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es := s.state.Orgs[s.state.DefaultOrg]
	if es == nil {
		return Inventory{}
	}
	inv := Inventory{
		Pools:        make([]string, 0, len(es.PoolOrder)),
		Wallets:      make([]InventoryWallet, 0, es.Stats.MPCWallets),
		DeviceGroups: make([]InventoryDeviceGroup, 0, len(es.Groups)),
		Operations:   make([]InventoryOperation, 0, es.Stats.PendingOperations),
	}
	for _, id := range es.PoolOrder {
		inv.Pools = append(inv.Pools, poolName(id))
		for _, wid := range es.Pools[id].WalletIDs {
			w := walletView(es.Wallets[wid])
			inv.Wallets = append(inv.Wallets, InventoryWallet{Name: w.Name, DeviceGroup: w.DeviceGroup})
		}
	}
	for _, g := range es.Groups {
		gn := groupName(g)
		inv.DeviceGroups = append(inv.DeviceGroups, InventoryDeviceGroup{Name: gn, Pool: poolName(g.PoolID)})
		for _, id := range g.Pending {
			inv.Operations = append(inv.Operations, InventoryOperation{Name: opName(g, id), DeviceGroup: gn, Kind: es.Ops[id].Kind.String()})
		}
	}
	slices.Sort(inv.Pools)
	slices.SortFunc(inv.Wallets, func(a, b InventoryWallet) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(inv.DeviceGroups, func(a, b InventoryDeviceGroup) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(inv.Operations, func(a, b InventoryOperation) int { return cmp.Compare(a.Name, b.Name) })
	return inv
}
