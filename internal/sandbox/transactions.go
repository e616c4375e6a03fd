package sandbox

import (
	"crypto/sha256"
	"strings"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// MPCTransactionService. A transaction waits in SIGNING for its
// CreateSignature MPC operation; completing that operation moves it to
// CONFIRMING, which is when its long-running operation is done.

func (c *call) txName(tx *txRec) string {
	return walletName(c.es.Wallets[tx.WalletID]) + "/mpcTransactions/" + tx.ID
}

func (c *call) txView(tx *txRec) waasapi.MPCTransaction {
	v := waasapi.MPCTransaction{
		Name:          c.txName(tx),
		Network:       "networks/" + tx.Network,
		FromAddresses: tx.FromAddresses,
		State:         tx.State,
		Transaction: &waasapi.Transaction{
			Input:              tx.Input,
			RequiredSignatures: []waasapi.RequiredSignature{{Payload: tx.Payload}},
			Hash:               tx.Hash,
		},
	}
	if tx.Sig != nil {
		v.Transaction.RequiredSignatures[0].Signature = sigView(tx.Sig)
		v.Transaction.RawSignedTransaction = tx.RawSigned
	}
	return v
}

func (s *Server) createMPCTransaction(c *call) (any, error) {
	var req waasapi.CreateMPCTransactionRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if out, ok := c.replay("CreateMPCTransaction", req.RequestID); ok {
		return out, nil
	}
	w, err := c.wallet(c.arg(1), c.arg(3))
	if err != nil || !c.walletReady(w) {
		return nil, notFound("MPCWallet", strings.TrimSuffix(c.name, "/mpcTransactions"))
	}
	if req.MPCTransaction == nil {
		return nil, invalidArg("mpcTransaction is required")
	}
	netID, ok := strings.CutPrefix(req.MPCTransaction.Network, "networks/")
	if !ok || findNetwork(netID) == nil {
		return nil, invalidArg("mpcTransaction.network %q is not a known network", req.MPCTransaction.Network)
	}
	if len(req.MPCTransaction.FromAddresses) != 1 {
		return nil, invalidArg("mpcTransaction.fromAddresses must hold exactly one address of the wallet")
	}
	from := req.MPCTransaction.FromAddresses[0]
	segs := strings.Split(from, "/")
	if len(segs) != 4 || segs[0] != "networks" || segs[1] != netID || segs[2] != "addresses" {
		return nil, invalidArg("fromAddresses[0] %q: want networks/%s/addresses/{address}", from, netID)
	}
	ak, err := c.address(netID, segs[3])
	if err != nil {
		return nil, err
	}
	addr := c.es.Addresses[ak]
	if addr.WalletID != w.ID {
		return nil, invalidArg("address %q does not belong to %q", from, walletName(w))
	}
	if req.Input == nil || (req.Input.Ethereum1559Input == nil && req.Input.EthereumRLPInput == nil) {
		return nil, invalidArg("input must set ethereum1559Input or ethereumRlpInput")
	}
	return c.idempotent("CreateMPCTransaction", req.RequestID, func() (any, error) {
		g := c.es.Groups[w.GroupID]
		tx := &txRec{
			ID:            uuid.NewString(),
			WalletID:      w.ID,
			Network:       netID,
			FromAddresses: []string{addressName(ak)},
			State:         waasapi.StateSigning,
			Input:         req.Input,
		}
		digest := sha256.Sum256([]byte("tx:" + tx.ID))
		tx.Payload = digest[:]
		op := c.newOp(g, opCreateSignature)
		op.KeyID, op.Payload, op.TxID = addr.KeyID, tx.Payload, tx.ID
		tx.OpID = op.ID
		c.es.Txs[tx.ID] = tx
		w.TxIDs = append(w.TxIDs, tx.ID)
		c.es.Stats.MPCTransactions++
		lro := &txLRO{ID: uuid.NewString(), TxID: tx.ID}
		c.es.TxLROs[lro.ID] = lro
		return c.transactionOperation(lro), nil
	})
}

func (s *Server) getMPCTransaction(c *call) (any, error) {
	tx := c.es.Txs[c.arg(5)]
	if tx == nil || tx.WalletID != c.arg(3) || c.es.Wallets[tx.WalletID].PoolID != c.arg(1) {
		return nil, notFound("MPCTransaction", c.name)
	}
	return c.txView(tx), nil
}

func (s *Server) listMPCTransactions(c *call) (any, error) {
	w, err := c.wallet(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	pg, err := s.parsePage(c.query, "ListMPCTransactions\x00"+w.ID, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(w.TxIDs))
	out := waasapi.ListMPCTransactionsResponse{NextPageToken: next, MPCTransactions: make([]waasapi.MPCTransaction, 0, end-start)}
	for _, id := range w.TxIDs[start:end] {
		out.MPCTransactions = append(out.MPCTransactions, c.txView(c.es.Txs[id]))
	}
	return out, nil
}
