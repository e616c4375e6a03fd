package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Long-running operations. Each service serves its own operations at
// .../v1/operations/{id}; all of them finish when an MPC operation is
// completed, which in the real world the WaaS SDK on the device does and
// here the sandbox-only :complete endpoint does.

func operationName(id string) string { return "operations/" + id }

// keyOperation renders the MPCKeyService operation behind an MPC operation
// (they share the ID).
func (c *call) keyOperation(op *opRec) waasapi.Operation {
	svc := waasapi.MPCKeyService
	g := c.es.Groups[op.GroupID]
	gn := groupName(g)
	out := waasapi.Operation{Name: operationName(op.ID), Done: op.Done}
	var meta any = waasapi.DeviceGroupMetadata{DeviceGroup: gn}
	switch op.Kind {
	case opCreateSignature:
		meta = waasapi.CreateSignatureMetadata{DeviceGroup: gn, Payload: op.Payload}
	case opAddDevice:
		meta = waasapi.AddDeviceMetadata{DeviceGroup: gn, ParticipatingDevices: groupView(g).Devices}
	}
	out.Metadata = waasapi.Any(svc.TypeURL(op.Kind.String()+"Metadata"), meta)
	if op.Done {
		if op.Kind == opCreateSignature {
			k := g.key(op.KeyID)
			out.Response = waasapi.Any(svc.TypeURL("Signature"), waasapi.Signature{
				Name:      keyName(g, k) + "/signatures/" + op.Sig.ID,
				Payload:   op.Payload,
				Signature: sigView(op.Sig),
			})
		} else {
			out.Response = waasapi.Any(svc.TypeURL("DeviceGroup"), groupView(g))
		}
	}
	return out
}

func sigView(s *sigResult) *waasapi.CryptoSignature {
	return &waasapi.CryptoSignature{ECDSASignature: &waasapi.ECDSASignature{R: s.R, S: s.S, V: s.V}}
}

func (c *call) walletOperation(lro *walletLRO) waasapi.Operation {
	svc := waasapi.MPCWalletService
	w := c.es.Wallets[lro.WalletID]
	op := c.es.Ops[lro.OpID]
	out := waasapi.Operation{
		Name:     operationName(lro.ID),
		Done:     op.Done,
		Metadata: waasapi.Any(svc.TypeURL("CreateMPCWalletMetadata"), waasapi.CreateMPCWalletMetadata{DeviceGroup: "pools/" + w.PoolID + "/deviceGroups/" + w.GroupID}),
	}
	if op.Done {
		out.Response = waasapi.Any(svc.TypeURL("MPCWallet"), walletView(w))
	}
	return out
}

func (c *call) transactionOperation(lro *txLRO) waasapi.Operation {
	svc := waasapi.MPCTransactionService
	tx := c.es.Txs[lro.TxID]
	w := c.es.Wallets[tx.WalletID]
	done := tx.State >= waasapi.StateConfirming
	out := waasapi.Operation{
		Name: operationName(lro.ID),
		Done: done,
		Metadata: waasapi.Any(svc.TypeURL("CreateMPCTransactionMetadata"), waasapi.CreateMPCTransactionMetadata{
			DeviceGroup:    "pools/" + w.PoolID + "/deviceGroups/" + w.GroupID,
			State:          tx.State,
			MPCTransaction: c.txName(tx),
		}),
	}
	if done {
		out.Response = waasapi.Any(svc.TypeURL("MPCTransaction"), c.txView(tx))
	}
	return out
}

func (s *Server) getKeyOperation(c *call) (any, error) {
	op := c.es.Ops[c.arg(1)]
	if op == nil {
		return nil, notFound("operation", c.name)
	}
	return c.keyOperation(op), nil
}

func (s *Server) getWalletOperation(c *call) (any, error) {
	lro := c.es.WalletLROs[c.arg(1)]
	if lro == nil {
		return nil, notFound("operation", c.name)
	}
	return c.walletOperation(lro), nil
}

func (s *Server) getTransactionOperation(c *call) (any, error) {
	lro := c.es.TxLROs[c.arg(1)]
	if lro == nil {
		return nil, notFound("operation", c.name)
	}
	return c.transactionOperation(lro), nil
}

// completeOperation is the sandbox-only stand-in for the device finishing
// its half of an MPC operation (the SDK's computeMPCOperation):
// POST BASE/sandbox/v1/{mpcOperation name}:complete.
func (s *Server) completeOperation(c *call) (any, error) {
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	op := c.es.Ops[c.arg(5)]
	if op == nil || op.GroupID != g.ID {
		return nil, notFound("MPC operation", c.name)
	}
	if !op.Done {
		c.complete(g, op)
	}
	return c.keyOperation(op), nil
}

func (c *call) complete(g *groupRec, op *opRec) {
	op.Done = true
	g.Pending = slices.DeleteFunc(g.Pending, func(id string) bool { return id == op.ID })
	c.es.Stats.PendingOperations--
	switch op.Kind {
	case opCreateDeviceGroup:
		g.Ready = true
		if op.WalletID != "" {
			w := c.es.Wallets[op.WalletID]
			p := c.es.Pools[w.PoolID]
			p.WalletIDs = append(p.WalletIDs, w.ID)
			c.es.Stats.MPCWallets++
		}
	case opCreateSignature:
		op.Sig = &sigResult{ID: uuid.NewString(), R: randomBytes(32), S: randomBytes(32), V: int32(randomBytes(1)[0] & 1)}
		if op.TxID != "" {
			tx := c.es.Txs[op.TxID]
			tx.Sig = op.Sig
			tx.RawSigned = append(append(append([]byte{0x02}, op.Payload...), op.Sig.R...), op.Sig.S...)
			h := sha256.Sum256(tx.RawSigned)
			tx.Hash = "0x" + hex.EncodeToString(h[:])
			tx.State = waasapi.StateConfirming
		}
	case opAddDevice:
		g.Devices = append(g.Devices, op.Device)
	}
}

// Control endpoints for tests and the demo.

func (s *Server) estateStats(c *call) (any, error) {
	st := c.es.Stats
	st.Pools = len(c.es.PoolOrder)
	return st, nil
}
