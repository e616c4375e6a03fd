package sandbox

import (
	"net/http"
	"strings"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// route is one REST binding: METHOD and a path pattern below the service's
// /v1/, with "*" matching one segment and an optional ":verb" suffix, as in
// the protos' google.api.http annotations.
type route struct {
	method   string
	key      string // "METHOD /path/pattern" as the client sends it, for FailNext and RequestCounts
	segments []string
	verb     string
	audience string // the JWT aud this service expects
	write    bool   // takes the estate's write lock
	control  bool   // sandbox control endpoint: no rate limit, no faults
	handle   func(*call) (any, error)
}

type routeSpec struct {
	method, pattern string
	handle          func(*call) (any, error)
}

// sandboxPath is the path segment of the sandbox's own API (key admin and
// test controls) under BASE/.
const sandboxPath = "sandbox"

func (s *Server) buildRoutes() map[string][]route {
	table := map[waasapi.Service][]routeSpec{
		waasapi.PoolService: {
			{"POST", "pools", s.createPool},
			{"GET", "pools", s.listPools},
			{"GET", "pools/*", s.getPool},
		},
		waasapi.MPCWalletService: {
			{"POST", "pools/*/mpcWallets", s.createMPCWallet},
			{"GET", "pools/*/mpcWallets", s.listMPCWallets},
			{"GET", "pools/*/mpcWallets/*", s.getMPCWallet},
			{"POST", "pools/*/mpcWallets/*:generateAddress", s.generateAddress},
			{"GET", "networks/*/addresses", s.listAddresses},
			{"GET", "networks/*/addresses/*", s.getAddress},
			{"GET", "networks/*/addresses/*/balances", s.listBalances},
			{"GET", "networks/*/addresses/*/balances/*/balanceDetails", s.listBalanceDetails},
			{"GET", "operations/*", s.getWalletOperation},
		},
		waasapi.MPCKeyService: {
			{"POST", "device:register", s.registerDevice},
			{"POST", "device:revoke", s.revokeDevice},
			{"GET", "devices/*", s.getDevice},
			{"POST", "pools/*/deviceGroups", s.createDeviceGroup},
			{"GET", "pools/*/deviceGroups/*", s.getDeviceGroup},
			{"GET", "pools/*/deviceGroups/*/mpcOperations", s.listMPCOperations},
			{"POST", "pools/*/deviceGroups/*/mpcKeys", s.createMPCKey},
			{"GET", "pools/*/deviceGroups/*/mpcKeys/*", s.getMPCKey},
			{"POST", "pools/*/deviceGroups/*/mpcKeys/*/signatures", s.createSignature},
			{"POST", "pools/*/deviceGroups/*:prepareDeviceArchive", s.deviceOperation(opPrepareDeviceArchive)},
			{"POST", "pools/*/deviceGroups/*:prepareDeviceBackup", s.deviceOperation(opPrepareDeviceBackup)},
			{"POST", "pools/*/deviceGroups/*:addDevice", s.deviceOperation(opAddDevice)},
			{"GET", "operations/*", s.getKeyOperation},
		},
		waasapi.MPCTransactionService: {
			{"POST", "pools/*/mpcWallets/*/mpcTransactions", s.createMPCTransaction},
			{"GET", "pools/*/mpcWallets/*/mpcTransactions", s.listMPCTransactions},
			{"GET", "pools/*/mpcWallets/*/mpcTransactions/*", s.getMPCTransaction},
			{"GET", "operations/*", s.getTransactionOperation},
		},
		waasapi.BlockchainService: {
			{"GET", "networks", s.listNetworks},
			{"GET", "networks/*", s.getNetwork},
			{"GET", "networks/*/assets", s.listAssets},
			{"GET", "networks/*/assets/*", s.getAsset},
			{"GET", "networks/*/assets:batchGet", s.batchGetAssets},
		},
		waasapi.ProtocolService: {
			{"GET", "networks/*:estimateFee", s.estimateFee},
			{"POST", "networks/*:constructTransaction", s.unimplemented("ConstructTransaction")},
			{"POST", "networks/*:constructTransferTransaction", s.unimplemented("ConstructTransferTransaction")},
			{"POST", "networks/*:broadcastTransaction", s.unimplemented("BroadcastTransaction")},
		},
	}
	out := map[string][]route{}
	for svc, specs := range table {
		for _, sp := range specs {
			out[svc.Path] = append(out[svc.Path], newRoute(sp, "/waas/"+svc.Path+"/v1/", svc.Audience, false))
		}
	}
	for _, sp := range []routeSpec{
		{"POST", "apiKeys", s.createAPIKey},
		{"GET", "apiKeys", s.listAPIKeys},
		{"GET", "organizations/*/apiKeys/*", s.getAPIKey},
		{"DELETE", "organizations/*/apiKeys/*", s.revokeAPIKey},
	} {
		out[sandboxPath] = append(out[sandboxPath], newRoute(sp, "/"+sandboxPath+"/v1/", waasapi.KeyServiceAudience, false))
	}
	for _, sp := range []routeSpec{
		{"GET", "estate", s.estateStats},
		{"GET", "stats", s.requestStats},
		{"POST", "pools/*/deviceGroups/*/mpcOperations/*:complete", s.completeOperation},
	} {
		out[sandboxPath] = append(out[sandboxPath], newRoute(sp, "/"+sandboxPath+"/v1/", waasapi.KeyServiceAudience, true))
	}
	return out
}

func newRoute(sp routeSpec, prefix, audience string, control bool) route {
	pattern, verb, _ := strings.Cut(sp.pattern, ":")
	return route{
		method:   sp.method,
		key:      sp.method + " " + prefix + sp.pattern,
		segments: strings.Split(pattern, "/"),
		verb:     verb,
		audience: audience,
		write:    sp.method != http.MethodGet,
		control:  control,
		handle:   sp.handle,
	}
}

// match finds the route for r. name is the resource path below /v1/ with any
// :verb removed; for GET /waas/pools/v1/pools/P it is "pools/P".
func (s *Server) match(r *http.Request) (rt route, name, verb string, ok bool) {
	rest, found := strings.CutPrefix(r.URL.Path, "/")
	if !found {
		return route{}, "", "", false
	}
	var svc string
	if after, isWaaS := strings.CutPrefix(rest, "waas/"); isWaaS {
		svc, rest, found = strings.Cut(after, "/")
	} else {
		svc, rest, found = strings.Cut(rest, "/")
		found = found && svc == sandboxPath
	}
	if !found {
		return route{}, "", "", false
	}
	rest, found = strings.CutPrefix(rest, "v1/")
	if !found {
		return route{}, "", "", false
	}
	// The verb follows the last segment's colon; resource IDs here never
	// contain one.
	name, verb = rest, ""
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		name, verb = rest[:i], rest[i+1:]
	}
	segs := strings.Split(name, "/")
	for _, cand := range s.routes[svc] {
		if cand.method == r.Method && cand.verb == verb && segmentsMatch(cand.segments, segs) {
			return cand, name, verb, true
		}
	}
	return route{}, "", "", false
}

func segmentsMatch(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		if segs[i] == "" || (p != "*" && p != segs[i]) {
			return false
		}
	}
	return true
}

// arg returns the i-th path segment of the matched name ("pools/P/..."[1] is P).
func (c *call) arg(i int) string {
	segs := strings.Split(c.name, "/")
	if i < len(segs) {
		return segs[i]
	}
	return ""
}
