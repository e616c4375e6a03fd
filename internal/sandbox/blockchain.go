package sandbox

import (
	"regexp"
	"strings"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// BlockchainService serves a fixed catalog; ProtocolService emulates fee
// estimates and answers 501 for transaction construction and broadcast,
// which need a real chain.

func (s *Server) listNetworks(c *call) (any, error) {
	pg, err := s.parsePage(c.query, "ListNetworks", DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(catalog))
	out := waasapi.ListNetworksResponse{NextPageToken: next, Networks: []waasapi.Network{}}
	for _, n := range catalog[start:end] {
		out.Networks = append(out.Networks, n.Network)
	}
	return out, nil
}

func (c *call) network() (*networkDef, error) {
	n := findNetwork(c.arg(1))
	if n == nil {
		return nil, notFound("network", "networks/"+c.arg(1))
	}
	return n, nil
}

func (s *Server) getNetwork(c *call) (any, error) {
	n, err := c.network()
	if err != nil {
		return nil, err
	}
	return n.Network, nil
}

func (s *Server) getAsset(c *call) (any, error) {
	n, err := c.network()
	if err != nil {
		return nil, err
	}
	for _, a := range n.Assets {
		if a.Name == c.name {
			return a, nil
		}
	}
	return nil, notFound("asset", c.name)
}

// assetFilter is the part of AIP-160 the sandbox understands: equality on
// definition fields joined with AND, e.g.
// definition.asset_type = "erc20" AND definition.asset_group_id = "0x...".
var assetFilterTerm = regexp.MustCompile(`^\s*definition\.(asset_type|asset_group_id|sub_group_id|assetType|assetGroupId|subGroupId)\s*=\s*"([^"]*)"\s*$`)

func parseAssetFilter(f string) (func(waasapi.Asset) bool, error) {
	if strings.TrimSpace(f) == "" {
		return func(waasapi.Asset) bool { return true }, nil
	}
	type term struct{ field, value string }
	var terms []term
	for _, part := range strings.Split(f, " AND ") {
		m := assetFilterTerm.FindStringSubmatch(part)
		if m == nil {
			return nil, invalidArg("filter %q: the sandbox supports definition.<field> = \"value\" terms joined with AND", f)
		}
		terms = append(terms, term{m[1], m[2]})
	}
	return func(a waasapi.Asset) bool {
		d := a.Definition
		for _, t := range terms {
			var got string
			switch t.field {
			case "asset_type", "assetType":
				got = d.AssetType
			case "asset_group_id", "assetGroupId":
				got = d.AssetGroupID
			default:
				got = d.SubGroupID
			}
			if got != t.value {
				return false
			}
		}
		return true
	}, nil
}

func (s *Server) listAssets(c *call) (any, error) {
	n, err := c.network()
	if err != nil {
		return nil, err
	}
	filter := c.query.Get("filter")
	keep, err := parseAssetFilter(filter)
	if err != nil {
		return nil, err
	}
	var rows []waasapi.Asset
	for _, a := range n.Assets {
		if keep(a) {
			rows = append(rows, a)
		}
	}
	pg, err := s.parsePage(c.query, "ListAssets\x00"+n.Name+"\x00"+filter, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	start, end, next := s.window(pg, len(rows))
	return waasapi.ListAssetsResponse{Assets: append([]waasapi.Asset{}, rows[start:end]...), NextPageToken: next}, nil
}

func (s *Server) batchGetAssets(c *call) (any, error) {
	n, err := c.network()
	if err != nil {
		return nil, err
	}
	names := c.query["names"]
	if len(names) > 1000 {
		return nil, invalidArg("at most 1000 names per BatchGetAssets call, got %d", len(names))
	}
	out := waasapi.BatchGetAssetsResponse{Assets: []waasapi.Asset{}}
	for _, name := range names {
		found := false
		for _, a := range n.Assets {
			if a.Name == name {
				out.Assets = append(out.Assets, a)
				found = true
			}
		}
		if !found {
			out.NotFound = append(out.NotFound, name)
		}
	}
	return out, nil
}

func (s *Server) estimateFee(c *call) (any, error) {
	n, err := c.network()
	if err != nil {
		return nil, err
	}
	fee := &waasapi.FeeEstimate{GasPrice: "30000000000", MaxFeePerGas: "40000000000", MaxPriorityFeePerGas: "1500000000"}
	if n.Type == waasapi.Testnet {
		fee = &waasapi.FeeEstimate{GasPrice: "1000000000", MaxFeePerGas: "2000000000", MaxPriorityFeePerGas: "100000000"}
	}
	return waasapi.EstimateFeeResponse{EthereumFeeEstimate: fee}, nil
}

func (s *Server) unimplemented(method string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		return nil, errorf(waasapi.Unimplemented, "%s is not emulated by the sandbox: it needs a real blockchain", method)
	}
}
