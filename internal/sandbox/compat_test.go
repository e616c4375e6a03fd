package sandbox_test

// These tests drive the sandbox with Coinbase's own Go client,
// waas-client-library-go v1.0.8, unmodified, over real HTTP and with real
// JWT authentication: the sandbox is only useful if that client works
// against it exactly as against the real service.

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coinbase/waas-client-library-go/auth"
	"github.com/coinbase/waas-client-library-go/clients"
	v1 "github.com/coinbase/waas-client-library-go/clients/v1"
	blockchainpb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/blockchain/v1"
	mpc_keyspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_keys/v1"
	mpc_transactionspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_transactions/v1"
	mpc_walletspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_wallets/v1"
	poolspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/pools/v1"
	ethereumpb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/protocols/ethereum/v1"
	typespb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/types/v1"
	"google.golang.org/api/iterator"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

type officialClients struct {
	pools        v1.PoolServiceClient
	wallets      v1.MPCWalletServiceClient
	keys         v1.MPCKeyServiceClient
	transactions v1.MPCTransactionServiceClient
	blockchain   v1.BlockchainServiceClient
}

func newOfficialClients(t *testing.T, baseURL string, key waasapi.APIKey) officialClients {
	t.Helper()
	ctx := testctx.New(t)
	opts := func(svc string) []clients.WaaSClientOption {
		return []clients.WaaSClientOption{
			clients.WithEndpoint(baseURL + "/waas/" + svc),
			clients.WithAPIKey(&auth.APIKey{Name: key.Name, PrivateKey: key.PrivateKey}),
		}
	}
	var oc officialClients
	var err error
	if oc.pools, err = v1.NewPoolServiceClient(ctx, opts("pools")...); err != nil {
		t.Fatal(err)
	}
	if oc.wallets, err = v1.NewMPCWalletServiceClient(ctx, opts("mpc_wallets")...); err != nil {
		t.Fatal(err)
	}
	if oc.keys, err = v1.NewMPCKeyServiceClient(ctx, opts("mpc_keys")...); err != nil {
		t.Fatal(err)
	}
	if oc.transactions, err = v1.NewMPCTransactionServiceClient(ctx, opts("mpc_transactions")...); err != nil {
		t.Fatal(err)
	}
	if oc.blockchain, err = v1.NewBlockchainServiceClient(ctx, opts("blockchain")...); err != nil {
		t.Fatal(err)
	}
	return oc
}

func startSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Server, string, waasapi.APIKey) {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	return sb.Server, sb.URL, sb.Key
}

// completer finishes MPC operations through the sandbox-only endpoint, in
// the role of the device running the WaaS SDK.
func completer(t *testing.T, baseURL string, key waasapi.APIKey) *waas.Client {
	t.Helper()
	return sandboxtest.ClientFor(t, baseURL, key, waas.Options{})
}

func TestOfficialClientEndToEnd(t *testing.T) {
	_, base, key := startSandbox(t, sandbox.Config{Seed: 11, Shape: sandbox.EstateShape{Pools: 4, WalletsPerPool: 3, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	oc := newOfficialClients(t, base, key)
	device := completer(t, base, key)
	ctx, cancel := context.WithCancel(testctx.New(t))
	defer cancel()

	// PoolService: create, get, and list across several pages.
	pool, err := oc.pools.CreatePool(ctx, &poolspb.CreatePoolRequest{Pool: &poolspb.Pool{DisplayName: "Compat Pool"}})
	if err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	got, err := oc.pools.GetPool(ctx, &poolspb.GetPoolRequest{Name: pool.GetName()})
	if err != nil || got.GetDisplayName() != "Compat Pool" {
		t.Fatalf("GetPool: %v %v", got, err)
	}
	it := oc.pools.ListPools(ctx, &poolspb.ListPoolsRequest{PageSize: 2})
	var poolNames []string
	for {
		p, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("ListPools: %v", err)
		}
		poolNames = append(poolNames, p.GetName())
	}
	if len(poolNames) != 5 || poolNames[4] != pool.GetName() {
		t.Fatalf("ListPools over pages of 2: %v", poolNames)
	}

	// RegisterDevice, then CreateMPCWallet and wait for its operation,
	// completing the MPC operation as the device would.
	dev, err := oc.keys.RegisterDevice(ctx, &mpc_keyspb.RegisterDeviceRequest{RegistrationData: []byte("registration")})
	if err != nil {
		t.Fatalf("RegisterDevice: %v", err)
	}
	walletOp, err := oc.wallets.CreateMPCWallet(ctx, &mpc_walletspb.CreateMPCWalletRequest{
		Parent: pool.GetName(), MpcWallet: &mpc_walletspb.MPCWallet{}, Device: dev.GetName(),
	})
	if err != nil {
		t.Fatalf("CreateMPCWallet: %v", err)
	}
	meta, err := walletOp.Metadata()
	if err != nil {
		t.Fatalf("CreateMPCWallet metadata: %v", err)
	}
	ops, err := oc.keys.ListMPCOperations(ctx, &mpc_keyspb.ListMPCOperationsRequest{Parent: meta.GetDeviceGroup()})
	if err != nil || len(ops.GetMpcOperations()) != 1 || ops.GetMpcOperations()[0].GetCreateDeviceGroupMetadata() == nil {
		t.Fatalf("ListMPCOperations: %v %v", ops, err)
	}
	if _, err := device.CompleteMPCOperation(ctx, ops.GetMpcOperations()[0].GetName()); err != nil {
		t.Fatal(err)
	}
	wallet, err := walletOp.Wait(ctx)
	if err != nil {
		t.Fatalf("CreateMPCWallet Wait: %v", err)
	}
	if wallet.GetDeviceGroup() != meta.GetDeviceGroup() {
		t.Fatalf("wallet %v, metadata %v", wallet, meta)
	}

	wit := oc.wallets.ListMPCWallets(ctx, &mpc_walletspb.ListMPCWalletsRequest{Parent: pool.GetName()})
	if w, err := wit.Next(); err != nil || w.GetName() != wallet.GetName() {
		t.Fatalf("ListMPCWallets: %v %v", w, err)
	}

	// GenerateAddress, ListAddresses, ListBalances.
	addr, err := oc.wallets.GenerateAddress(ctx, &mpc_walletspb.GenerateAddressRequest{MpcWallet: wallet.GetName(), Network: "networks/ethereum-goerli"})
	if err != nil {
		t.Fatalf("GenerateAddress: %v", err)
	}
	ait := oc.wallets.ListAddresses(ctx, &mpc_walletspb.ListAddressesRequest{Parent: "networks/ethereum-goerli", MpcWallet: wallet.GetName()})
	if a, err := ait.Next(); err != nil || a.GetName() != addr.GetName() {
		t.Fatalf("ListAddresses: %v %v", a, err)
	}
	bit := oc.wallets.ListBalances(ctx, &mpc_walletspb.ListBalancesRequest{Parent: addr.GetName()})
	if b, err := bit.Next(); err != nil || b.GetAmount() == "" || b.GetMpcWallet() != wallet.GetName() {
		t.Fatalf("ListBalances: %v %v", b, err)
	}

	// CreateMPCTransaction: its operation waits for a signature.
	txOp, err := oc.transactions.CreateMPCTransaction(ctx, &mpc_transactionspb.CreateMPCTransactionRequest{
		Parent: wallet.GetName(),
		MpcTransaction: &mpc_transactionspb.MPCTransaction{
			Network:       "networks/ethereum-goerli",
			FromAddresses: []string{addr.GetName()},
		},
		Input: &typespb.TransactionInput{Input: &typespb.TransactionInput_Ethereum_1559Input{Ethereum_1559Input: &ethereumpb.EIP1559TransactionInput{
			ChainId: "5", Nonce: 3, Gas: 21000, ToAddress: "0x0000000000000000000000000000000000000001", Value: "1000",
		}}},
	})
	if err != nil {
		t.Fatalf("CreateMPCTransaction: %v", err)
	}
	txMeta, err := txOp.Metadata()
	if err != nil || txMeta.GetState() != mpc_transactionspb.MPCTransaction_SIGNING {
		t.Fatalf("CreateMPCTransaction metadata: %v %v", txMeta, err)
	}
	ops, err = oc.keys.ListMPCOperations(ctx, &mpc_keyspb.ListMPCOperationsRequest{Parent: meta.GetDeviceGroup()})
	if err != nil || len(ops.GetMpcOperations()) != 1 || ops.GetMpcOperations()[0].GetCreateSignatureMetadata() == nil {
		t.Fatalf("signature operation: %v %v", ops, err)
	}
	if _, err := device.CompleteMPCOperation(ctx, ops.GetMpcOperations()[0].GetName()); err != nil {
		t.Fatal(err)
	}
	tx, err := txOp.Wait(ctx)
	if err != nil || tx.GetState() != mpc_transactionspb.MPCTransaction_CONFIRMING || tx.GetTransaction().GetInput().GetEthereum_1559Input().GetGas() != 21000 {
		t.Fatalf("CreateMPCTransaction Wait: %v %v", tx, err)
	}
	tit := oc.transactions.ListMPCTransactions(ctx, &mpc_transactionspb.ListMPCTransactionsRequest{Parent: wallet.GetName()})
	if lt, err := tit.Next(); err != nil || lt.GetName() != tx.GetName() {
		t.Fatalf("ListMPCTransactions: %v %v", lt, err)
	}

	// CreateSignature and its operation, and the seeded groups' pending ops.
	key0 := addr.GetMpcKeys()[0]
	digest := sha256.Sum256([]byte("hello"))
	sigOp, err := oc.keys.CreateSignature(ctx, &mpc_keyspb.CreateSignatureRequest{Parent: key0, Signature: &mpc_keyspb.Signature{Payload: digest[:]}})
	if err != nil {
		t.Fatalf("CreateSignature: %v", err)
	}
	if _, err := device.CompleteMPCOperation(ctx, meta.GetDeviceGroup()+"/mpcOperations/"+sigOp.Name()[len("operations/"):]); err != nil {
		t.Fatal(err)
	}
	sig, err := sigOp.Wait(ctx)
	if err != nil || len(sig.GetSignature().GetEcdsaSignature().GetR()) != 32 {
		t.Fatalf("CreateSignature Wait: %v %v", sig, err)
	}

	// BlockchainService.
	nit := oc.blockchain.ListNetworks(ctx, &blockchainpb.ListNetworksRequest{})
	n, err := nit.Next()
	if err != nil || n.GetType() == blockchainpb.Network_TYPE_UNSPECIFIED {
		t.Fatalf("ListNetworks: %v %v", n, err)
	}
}

func TestOfficialClientSeesHTTPCodes(t *testing.T) {
	srv, base, key := startSandbox(t, sandbox.Config{Seed: 2, Shape: sandbox.EstateShape{Pools: 1}})
	ctx := testctx.New(t)
	oc := newOfficialClients(t, base, key)

	_, err := oc.pools.GetPool(ctx, &poolspb.GetPoolRequest{Name: "pools/does-not-exist"})
	if code := clients.HTTPCode(err); code != 404 {
		t.Fatalf("missing pool: HTTP %d (%v)", code, err)
	}
	_, err = oc.pools.CreatePool(ctx, &poolspb.CreatePoolRequest{Pool: &poolspb.Pool{}})
	if code := clients.HTTPCode(err); code != 400 {
		t.Fatalf("pool without displayName: HTTP %d (%v)", code, err)
	}

	revoked, _ := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err := srv.RevokeAPIKey(revoked.Name); err != nil {
		t.Fatal(err)
	}
	_, err = newOfficialClients(t, base, revoked).pools.GetPool(ctx, &poolspb.GetPoolRequest{Name: "pools/x"})
	if code := clients.HTTPCode(err); code != 401 {
		t.Fatalf("revoked key: HTTP %d (%v)", code, err)
	}

	_, limitedBase, limitedKey := startSandbox(t, sandbox.Config{Seed: 2, RateLimit: sandbox.RateLimit{N: 1, Per: time.Hour, Burst: 1}}) // a bucket: no window to roll over mid-test
	limited := newOfficialClients(t, limitedBase, limitedKey)
	if _, err := limited.pools.CreatePool(ctx, &poolspb.CreatePoolRequest{Pool: &poolspb.Pool{DisplayName: "first"}}); err != nil {
		t.Fatal(err)
	}
	_, err = limited.pools.CreatePool(ctx, &poolspb.CreatePoolRequest{Pool: &poolspb.Pool{DisplayName: "second"}})
	if code := clients.HTTPCode(err); code != 429 {
		t.Fatalf("over the rate limit: HTTP %d (%v)", code, err)
	}
}
