package sandboxtest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coinbase/waas-client-library-go/auth"
	"github.com/coinbase/waas-client-library-go/clients"
	v1 "github.com/coinbase/waas-client-library-go/clients/v1"
	mpc_keyspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_keys/v1"
	mpc_walletspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/mpc_wallets/v1"
	poolspb "github.com/coinbase/waas-client-library-go/gen/go/coinbase/cloud/pools/v1"
	"google.golang.org/api/iterator"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// PlantSpec is what Plant creates.
type PlantSpec struct {
	// Wallets is how many MPC wallets to create, each in a new device
	// group of its own with a new device.
	Wallets int
	// Signatures is how many CreateSignature operations to start on keys
	// of existing wallets and leave pending.
	Signatures int
	// Pool is where: pools/{pool} or the bare ID; empty means the first
	// pool ListPools returns.
	Pool string
}

// Planted is the full names of what Plant created, each list sorted.
type Planted struct {
	Wallets      []string // pools/{pool}/mpcWallets/{wallet}
	DeviceGroups []string // pools/{pool}/deviceGroups/{group}
	Operations   []string // pools/{pool}/deviceGroups/{group}/mpcOperations/{operation}
}

// Plant plays an adversary holding a leaked API key: what it does, nobody
// in the middle tier asked for. The adversary's calls go through Coinbase's
// own client, so they look exactly like real ones; only where a device must
// act (finishing a new wallet's CreateDeviceGroup operation) does it use the
// sandbox's complete endpoint. The signatures go to keys of the wallets that
// exist before Plant runs, round-robin, one wallet per device group as far
// as the pool has groups, so that the spam spreads over many groups.
//
// Plant expects a sandbox without injected faults: a retried create would
// plant twice. Turn faults on afterwards with Server.SetFaultRate.
func Plant(ctx context.Context, baseURL string, key waasapi.APIKey, spec PlantSpec) (Planted, error) {
	if spec.Wallets < 0 || spec.Signatures < 0 {
		return Planted{}, fmt.Errorf("plant: negative counts in %+v", spec)
	}
	adv, err := newAdversary(ctx, baseURL, key)
	if err != nil {
		return Planted{}, err
	}
	defer adv.close()

	pool := spec.Pool
	if pool == "" {
		if pool, err = adv.firstPool(ctx); err != nil {
			return Planted{}, err
		}
	} else if !strings.HasPrefix(pool, "pools/") {
		pool = "pools/" + pool
	}
	// Chosen before any wallet is planted, so that only wallets the middle
	// tier owns are signed for.
	signingKeys, err := adv.signingKeys(ctx, pool, spec.Signatures)
	if err != nil {
		return Planted{}, err
	}

	out := Planted{Wallets: []string{}, DeviceGroups: []string{}, Operations: []string{}}
	for range spec.Wallets {
		w, err := adv.createWallet(ctx, pool)
		if err != nil {
			return out, err
		}
		out.Wallets = append(out.Wallets, w.GetName())
		out.DeviceGroups = append(out.DeviceGroups, w.GetDeviceGroup())
	}
	for i := range spec.Signatures {
		op, err := adv.createSignature(ctx, signingKeys[i%len(signingKeys)], i)
		if err != nil {
			return out, err
		}
		out.Operations = append(out.Operations, op)
	}
	slices.Sort(out.Wallets)
	slices.Sort(out.DeviceGroups)
	slices.Sort(out.Operations)
	return out, nil
}

// adversary holds the official clients, and our client for the sandbox's
// complete endpoint, which the official one does not know.
type adversary struct {
	pools   v1.PoolServiceClient
	wallets v1.MPCWalletServiceClient
	keys    v1.MPCKeyServiceClient
	device  *waas.Client
}

func newAdversary(ctx context.Context, baseURL string, key waasapi.APIKey) (*adversary, error) {
	opts := func(svc waasapi.Service) []clients.WaaSClientOption {
		return []clients.WaaSClientOption{
			clients.WithEndpoint(baseURL + "/waas/" + svc.Path),
			clients.WithAPIKey(&auth.APIKey{Name: key.Name, PrivateKey: key.PrivateKey}),
		}
	}
	a := &adversary{}
	var err error
	if a.pools, err = v1.NewPoolServiceClient(ctx, opts(waasapi.PoolService)...); err != nil {
		return nil, fmt.Errorf("plant: %w", err)
	}
	if a.wallets, err = v1.NewMPCWalletServiceClient(ctx, opts(waasapi.MPCWalletService)...); err != nil {
		a.close()
		return nil, fmt.Errorf("plant: %w", err)
	}
	if a.keys, err = v1.NewMPCKeyServiceClient(ctx, opts(waasapi.MPCKeyService)...); err != nil {
		a.close()
		return nil, fmt.Errorf("plant: %w", err)
	}
	if a.device, err = NewClient(baseURL, key, waas.Options{}); err != nil {
		a.close()
		return nil, fmt.Errorf("plant: %w", err)
	}
	return a, nil
}

func (a *adversary) close() {
	for _, c := range []interface{ Close() error }{a.pools, a.wallets, a.keys} {
		if c != nil {
			_ = c.Close()
		}
	}
}

func (a *adversary) firstPool(ctx context.Context) (string, error) {
	p, err := a.pools.ListPools(ctx, &poolspb.ListPoolsRequest{PageSize: 1}).Next()
	if errors.Is(err, iterator.Done) {
		return "", errors.New("plant: the organization has no pools")
	}
	if err != nil {
		return "", fmt.Errorf("plant: ListPools: %w", err)
	}
	return p.GetName(), nil
}

// signingKeys picks n signing targets among pool's wallets: the first wallet
// of each device group in list order, then, if the pool has fewer groups
// than n, other wallets. It returns one MPC key name per target wallet.
func (a *adversary) signingKeys(ctx context.Context, pool string, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	var fresh, rest []string
	seen := map[string]bool{}
	it := a.wallets.ListMPCWallets(ctx, &mpc_walletspb.ListMPCWalletsRequest{Parent: pool, PageSize: 100})
	for len(fresh) < n {
		w, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("plant: ListMPCWallets %s: %w", pool, err)
		}
		switch {
		case !seen[w.GetDeviceGroup()]:
			seen[w.GetDeviceGroup()] = true
			fresh = append(fresh, w.GetName())
		case len(rest) < n:
			rest = append(rest, w.GetName())
		}
	}
	targets := append(fresh, rest[:min(len(rest), n-len(fresh))]...)
	if len(targets) == 0 {
		return nil, fmt.Errorf("plant: %s has no wallets to sign for", pool)
	}
	keys := make([]string, 0, len(targets))
	for _, w := range targets {
		k, err := a.walletKey(ctx, w)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// walletKey finds an MPC key of wallet the way a client can: through its
// first address on the seed network, generating one if it has none.
func (a *adversary) walletKey(ctx context.Context, wallet string) (string, error) {
	network := "networks/" + sandbox.SeedNetwork
	addr, err := a.wallets.ListAddresses(ctx, &mpc_walletspb.ListAddressesRequest{Parent: network, MpcWallet: wallet, PageSize: 1}).Next()
	if errors.Is(err, iterator.Done) {
		addr, err = a.wallets.GenerateAddress(ctx, &mpc_walletspb.GenerateAddressRequest{MpcWallet: wallet, Network: network})
	}
	if err != nil {
		return "", fmt.Errorf("plant: an address of %s: %w", wallet, err)
	}
	if len(addr.GetMpcKeys()) == 0 {
		return "", fmt.Errorf("plant: address %s names no MPC key", addr.GetName())
	}
	return addr.GetMpcKeys()[0], nil
}

// createWallet creates a wallet with a new device and completes its
// CreateDeviceGroup operation as that device would.
func (a *adversary) createWallet(ctx context.Context, pool string) (*mpc_walletspb.MPCWallet, error) {
	dev, err := a.keys.RegisterDevice(ctx, &mpc_keyspb.RegisterDeviceRequest{RegistrationData: []byte("adversary device")})
	if err != nil {
		return nil, fmt.Errorf("plant: RegisterDevice: %w", err)
	}
	op, err := a.wallets.CreateMPCWallet(ctx, &mpc_walletspb.CreateMPCWalletRequest{Parent: pool, MpcWallet: &mpc_walletspb.MPCWallet{}, Device: dev.GetName()})
	if err != nil {
		return nil, fmt.Errorf("plant: CreateMPCWallet in %s: %w", pool, err)
	}
	meta, err := op.Metadata()
	if err != nil {
		return nil, fmt.Errorf("plant: CreateMPCWallet metadata: %w", err)
	}
	ops, err := a.keys.ListMPCOperations(ctx, &mpc_keyspb.ListMPCOperationsRequest{Parent: meta.GetDeviceGroup()})
	if err != nil {
		return nil, fmt.Errorf("plant: ListMPCOperations %s: %w", meta.GetDeviceGroup(), err)
	}
	completed := false
	for _, mop := range ops.GetMpcOperations() {
		if mop.GetCreateDeviceGroupMetadata() != nil {
			if _, err := a.device.CompleteMPCOperation(ctx, mop.GetName()); err != nil {
				return nil, fmt.Errorf("plant: completing %s: %w", mop.GetName(), err)
			}
			completed = true
		}
	}
	if !completed {
		return nil, fmt.Errorf("plant: %s has no pending CreateDeviceGroup operation", meta.GetDeviceGroup())
	}
	w, err := op.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("plant: CreateMPCWallet: %w", err)
	}
	return w, nil
}

// createSignature starts a signature by keyName and returns the name of its
// pending MPC operation, which shares its ID with the returned operation.
func (a *adversary) createSignature(ctx context.Context, keyName string, i int) (string, error) {
	digest := sha256.Sum256(fmt.Appendf(nil, "leaked-key spam %d", i))
	op, err := a.keys.CreateSignature(ctx, &mpc_keyspb.CreateSignatureRequest{Parent: keyName, Signature: &mpc_keyspb.Signature{Payload: digest[:]}})
	if err != nil {
		return "", fmt.Errorf("plant: CreateSignature by %s: %w", keyName, err)
	}
	meta, err := op.Metadata()
	if err != nil {
		return "", fmt.Errorf("plant: CreateSignature metadata: %w", err)
	}
	id, ok := strings.CutPrefix(op.Name(), "operations/")
	if !ok || meta.GetDeviceGroup() == "" {
		return "", fmt.Errorf("plant: CreateSignature gave operation %q in group %q", op.Name(), meta.GetDeviceGroup())
	}
	return meta.GetDeviceGroup() + "/mpcOperations/" + id, nil
}
