package sandbox

import (
	"encoding/hex"
	"strings"

	"github.com/waasctl/waasctl/internal/waasapi"
	"golang.org/x/crypto/sha3"
)

// The BlockchainService catalog is the same for every organization.

type networkDef struct {
	waasapi.Network
	Assets []waasapi.Asset
}

// SeedNetwork is the network seeded wallets have their addresses on.
const SeedNetwork = "ethereum-goerli"

var catalog = buildCatalog()

func buildCatalog() []networkDef {
	type netSpec struct {
		id, display, symbol string
		typ                 waasapi.NetworkType
		nativeID            string
		usdc                string
	}
	specs := []netSpec{
		{"ethereum-mainnet", "Ethereum Mainnet", "ETH", waasapi.Mainnet, "0c4e1ba8-5e8b-4fb5-b8a6-1b2e4c3d2a01", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"},
		{"ethereum-goerli", "Ethereum Goerli", "ETH", waasapi.Testnet, "e1835806-0718-418a-b185-93553c496655", "0x07865c6E87B9F70255377e024ace6630C1Eaa37F"},
		{"ethereum-sepolia", "Ethereum Sepolia", "ETH", waasapi.Testnet, "5b1c0f8e-3d2a-4e6f-9a7b-2c8d1e0f3a02", "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"},
		{"polygon-mainnet", "Polygon Mainnet", "MATIC", waasapi.Mainnet, "8f2e6d4c-1a3b-4c5d-8e7f-9a0b1c2d3e03", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"},
		{"base-mainnet", "Base Mainnet", "ETH", waasapi.Mainnet, "2d4f6a8c-0e1b-4d3f-a5c7-e9f1b3d5a704", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"},
	}
	out := make([]networkDef, 0, len(specs))
	for _, sp := range specs {
		name := "networks/" + sp.id
		native := waasapi.Asset{
			Name:             name + "/assets/" + sp.nativeID,
			AdvertisedSymbol: sp.symbol,
			Decimals:         18,
			Definition:       &waasapi.AssetDefinition{AssetType: "native"},
		}
		usdc := waasapi.Asset{
			Name:             name + "/assets/" + derivedUUID("asset", sp.id, "usdc"),
			AdvertisedSymbol: "USDC",
			Decimals:         6,
			Definition:       &waasapi.AssetDefinition{AssetType: "erc20", AssetGroupID: sp.usdc},
		}
		out = append(out, networkDef{
			Network: waasapi.Network{
				Name:           name,
				DisplayName:    sp.display,
				NativeAsset:    native.Name,
				ProtocolFamily: "protocolFamilies/evm",
				Type:           sp.typ,
			},
			Assets: []waasapi.Asset{native, usdc},
		})
	}
	return out
}

func findNetwork(id string) *networkDef {
	for i := range catalog {
		if catalog[i].Name == "networks/"+id {
			return &catalog[i]
		}
	}
	return nil
}

// checksumAddress formats a 20-byte address as EIP-55 mixed-case hex.
func checksumAddress(a [20]byte) string {
	lower := hex.EncodeToString(a[:])
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	digest := h.Sum(nil)
	var b strings.Builder
	b.Grow(42)
	b.WriteString("0x")
	for i, c := range []byte(lower) {
		nibble := digest[i/2]
		if i%2 == 0 {
			nibble >>= 4
		}
		if c >= 'a' && nibble&0xf >= 8 {
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parseAddress accepts a 0x-prefixed hex address in any case.
func parseAddress(s string) ([20]byte, bool) {
	var a [20]byte
	if len(s) != 42 || !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return a, false
	}
	if _, err := hex.Decode(a[:], []byte(s[2:])); err != nil {
		return a, false
	}
	return a, true
}

// addressFromPublicKey derives an EVM-style address: the last 20 bytes of
// Keccak-256 of the key bytes. The emulated keys are not real curve points,
// so the address is only deterministic, not spendable.
func addressFromPublicKey(pub []byte) [20]byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(pub)
	var a [20]byte
	copy(a[:], h.Sum(nil)[12:])
	return a
}
