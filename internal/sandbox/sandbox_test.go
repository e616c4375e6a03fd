package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

type testSandbox struct {
	srv    *Server
	url    string
	client *waas.Client // signs with the bootstrap key
	key    waasapi.APIKey
}

func newTestSandbox(t *testing.T, cfg Config) *testSandbox {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close() })
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	return &testSandbox{srv: srv, url: ts.URL, client: clientFor(t, ts.URL, key), key: key}
}

func clientFor(t *testing.T, baseURL string, key waasapi.APIKey) *waas.Client {
	t.Helper()
	signer, err := credentials.ParsePrivateKey(key.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	form := waas.FormWaaS
	if key.Algorithm == "Ed25519" {
		form = waas.FormCDP
	}
	s, err := waas.NewSigner(key.Name, signer, form)
	if err != nil {
		t.Fatal(err)
	}
	// One attempt: these tests check what the sandbox answers, not how our
	// client copes with it.
	c, err := waas.New(waas.Options{Endpoint: baseURL, Signer: s, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantHTTP(t *testing.T, err error, code int) {
	t.Helper()
	if got := waas.HTTPCode(err); got != code {
		t.Fatalf("want HTTP %d, got %v", code, err)
	}
}

func listAllWallets(t *testing.T, c *waas.Client, pool string, size int) []string {
	t.Helper()
	var names []string
	page := waas.PageRequest{Size: size}
	for {
		resp, err := c.ListMPCWallets(testctx.New(t), pool, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range resp.MPCWallets {
			names = append(names, w.Name)
		}
		if resp.NextPageToken == "" {
			return names
		}
		page.Token = resp.NextPageToken
	}
}

func TestSeededEstateIsDeterministicAndComplete(t *testing.T) {
	shape := EstateShape{Pools: 3, WalletsPerPool: 5, AddressesPerWallet: 2, OperationsPerGroup: 2}
	a := newTestSandbox(t, Config{Seed: 7, Shape: shape})
	b := newTestSandbox(t, Config{Seed: 7, Shape: shape})
	other := newTestSandbox(t, Config{Seed: 8, Shape: shape})
	ctx := testctx.New(t)

	pa, err := a.client.ListPools(ctx, waas.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := b.client.ListPools(ctx, waas.PageRequest{})
	po, _ := other.client.ListPools(ctx, waas.PageRequest{})
	if len(pa.Pools) != 3 || !slices.Equal(poolNames(pa), poolNames(pb)) {
		t.Fatalf("same seed, different pools: %v vs %v", poolNames(pa), poolNames(pb))
	}
	if slices.Equal(poolNames(pa), poolNames(po)) {
		t.Fatal("different seeds gave the same pools")
	}
	st := a.srv.Stats(a.srv.DefaultOrg())
	want := waasapi.EstateStats{Pools: 3, MPCWallets: 15, DeviceGroups: 15, MPCKeys: 30, Addresses: 30, PendingOperations: 30}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	// Every seeded wallet is complete: its group has the pending
	// operations, and its addresses are listed under it.
	for _, p := range pa.Pools {
		for _, wname := range listAllWallets(t, a.client, p.Name, 0) {
			w, err := a.client.GetMPCWallet(ctx, wname)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := a.client.ListMPCOperations(ctx, w.DeviceGroup)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops.MPCOperations) != 2 || ops.MPCOperations[0].Kind() != "CreateSignature" {
				t.Fatalf("%s: operations %+v", w.DeviceGroup, ops.MPCOperations)
			}
			if !strings.HasPrefix(ops.MPCOperations[0].Name, w.DeviceGroup+"/mpcOperations/") {
				t.Fatalf("operation %s is not under %s", ops.MPCOperations[0].Name, w.DeviceGroup)
			}
		}
	}
}

func poolNames(r *waasapi.ListPoolsResponse) []string {
	var out []string
	for _, p := range r.Pools {
		out = append(out, p.Name)
	}
	return out
}

func TestPaginationIsCompleteAndTokensAreChecked(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 2, WalletsPerPool: 23, AddressesPerWallet: 1}})
	ctx := testctx.New(t)
	pools, _ := sb.client.ListPools(ctx, waas.PageRequest{})
	p0, p1 := pools.Pools[0].Name, pools.Pools[1].Name

	all := listAllWallets(t, sb.client, p0, 0)
	for _, size := range []int{1, 5, 22, 23, 24, 5000} {
		got := listAllWallets(t, sb.client, p0, size)
		if !slices.Equal(got, all) {
			t.Fatalf("pageSize %d: %d wallets, want the same %d", size, len(got), len(all))
		}
	}
	if len(all) != 23 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 23 {
		t.Fatalf("want 23 distinct wallets, got %d", len(all))
	}

	first, err := sb.client.ListMPCWallets(ctx, p0, waas.PageRequest{Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	tok := first.NextPageToken
	// A token from one pool's listing does not work on another's.
	_, err = sb.client.ListMPCWallets(ctx, p1, waas.PageRequest{Size: 5, Token: tok})
	wantHTTP(t, err, 400)
	// Nor does a token with a flipped character.
	flipped := []byte(tok)
	flipped[0] ^= 1
	_, err = sb.client.ListMPCWallets(ctx, p0, waas.PageRequest{Size: 5, Token: string(flipped)})
	wantHTTP(t, err, 400)
	_, err = sb.client.ListMPCWallets(ctx, p0, waas.PageRequest{Token: "garbage"})
	wantHTTP(t, err, 400)

	// Negative page sizes are refused; huge ones are coerced to the maximum.
	resp := rawGet(t, sb, "/waas/mpc_wallets/v1/"+p0+"/mpcWallets?pageSize=-1")
	if resp.StatusCode != 400 {
		t.Fatalf("pageSize=-1: HTTP %d", resp.StatusCode)
	}
}

// rawGet sends a signed GET for a path below the base URL.
func rawGet(t *testing.T, sb *testSandbox, pathAndQuery string) *http.Response {
	t.Helper()
	return rawRequest(t, sb, http.MethodGet, pathAndQuery, "")
}

func rawRequest(t *testing.T, sb *testSandbox, method, pathAndQuery, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, sb.url+pathAndQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	aud := waasapi.KeyServiceAudience
	for _, svc := range waasapi.Services {
		if strings.HasPrefix(req.URL.Path, "/waas/"+svc.Path+"/") {
			aud = svc.Audience
		}
	}
	tok := signFor(t, sb.key, aud, method, req.URL.Host+req.URL.Path)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func signFor(t *testing.T, key waasapi.APIKey, audience, method, hostPath string) string {
	t.Helper()
	k, err := credentials.ParsePrivateKey(key.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := waas.NewSigner(key.Name, k, waas.FormWaaS)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(audience, method, hostPath)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func TestWalletCreationIsAnLROFinishedByTheDevice(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 1}})
	ctx := testctx.New(t)
	pool, err := sb.client.CreatePool(ctx, "Retail", "retail")
	if err != nil {
		t.Fatal(err)
	}
	if pool.Name != "pools/retail" {
		t.Fatalf("pool name %q", pool.Name)
	}
	_, err = sb.client.CreatePool(ctx, "Again", "retail")
	wantHTTP(t, err, 409)

	// RegisterDevice: bytes as base64; enums and unknown fields tolerated.
	resp := rawRequest(t, sb, "POST", "/waas/mpc_keys/v1/device:register", `{"registrationData":"AQID","requestId":"r1","futureField":1}`)
	var dev waasapi.Device
	decodeBody(t, resp, &dev)
	if resp.StatusCode != 200 || !strings.HasPrefix(dev.Name, "devices/") {
		t.Fatalf("RegisterDevice: HTTP %d %+v", resp.StatusCode, dev)
	}

	// CreateMPCWallet: the body repeats the parent, which is tolerated.
	resp = rawRequest(t, sb, "POST", "/waas/mpc_wallets/v1/pools/retail/mpcWallets?device="+dev.Name+"&requestId=w1&$alt=json", `{"parent":"pools/retail"}`)
	var op waasapi.Operation
	decodeBody(t, resp, &op)
	if resp.StatusCode != 200 || op.Done || !strings.HasPrefix(op.Name, "operations/") {
		t.Fatalf("CreateMPCWallet: HTTP %d %+v", resp.StatusCode, op)
	}
	if got := waasapi.AnyType(op.Metadata); got != "type.googleapis.com/coinbase.cloud.mpc_wallets.v1.CreateMPCWalletMetadata" {
		t.Fatalf("metadata @type %q", got)
	}
	var meta waasapi.CreateMPCWalletMetadata
	_ = json.Unmarshal(op.Metadata, &meta)

	// The same requestId does not create a second wallet.
	resp = rawRequest(t, sb, "POST", "/waas/mpc_wallets/v1/pools/retail/mpcWallets?device="+dev.Name+"&requestId=w1", `{}`)
	var again waasapi.Operation
	decodeBody(t, resp, &again)
	if again.Name != op.Name {
		t.Fatalf("retried create gave %s, first gave %s", again.Name, op.Name)
	}

	if got := listAllWallets(t, sb.client, "pools/retail", 0); len(got) != 0 {
		t.Fatalf("wallet listed before its operation completed: %v", got)
	}
	ops, err := sb.client.ListMPCOperations(ctx, meta.DeviceGroup)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops.MPCOperations) != 1 || ops.MPCOperations[0].Kind() != "CreateDeviceGroup" {
		t.Fatalf("pending operations: %+v", ops.MPCOperations)
	}
	done, err := sb.client.CompleteMPCOperation(ctx, ops.MPCOperations[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Done || waasapi.AnyType(done.Response) != "type.googleapis.com/coinbase.cloud.mpc_keys.v1.DeviceGroup" {
		t.Fatalf("completed operation: %+v", done)
	}

	resp = rawGet(t, sb, "/waas/mpc_wallets/v1/"+op.Name)
	var final waasapi.Operation
	decodeBody(t, resp, &final)
	if !final.Done || waasapi.AnyType(final.Response) != "type.googleapis.com/coinbase.cloud.mpc_wallets.v1.MPCWallet" {
		t.Fatalf("wallet operation after completion: %+v", final)
	}
	// Each service serves only its own operations.
	if resp := rawGet(t, sb, "/waas/mpc_keys/v1/"+op.Name); resp.StatusCode != 404 {
		t.Fatalf("wallet operation on mpc_keys: HTTP %d", resp.StatusCode)
	}
	if got := listAllWallets(t, sb.client, "pools/retail", 0); len(got) != 1 {
		t.Fatalf("want the new wallet listed, got %v", got)
	}
}

func TestTransactionWaitsForItsSignature(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 3, Shape: EstateShape{Pools: 1, WalletsPerPool: 1, AddressesPerWallet: 1}})
	ctx := testctx.New(t)
	pools, _ := sb.client.ListPools(ctx, waas.PageRequest{})
	wallet := listAllWallets(t, sb.client, pools.Pools[0].Name, 0)[0]
	resp := rawGet(t, sb, "/waas/mpc_wallets/v1/networks/"+SeedNetwork+"/addresses?mpcWallet="+wallet)
	var addrs waasapi.ListAddressesResponse
	decodeBody(t, resp, &addrs)
	if len(addrs.Addresses) != 1 {
		t.Fatalf("addresses: %+v", addrs)
	}
	body := `{"parent":"` + wallet + `","mpcTransaction":{"network":"networks/` + SeedNetwork + `","fromAddresses":["` + addrs.Addresses[0].Name + `"]},` +
		`"input":{"ethereum1559Input":{"chainId":"5","nonce":"7","gas":21000,"toAddress":"0x0000000000000000000000000000000000000001","value":"1"}}}`
	resp = rawRequest(t, sb, "POST", "/waas/mpc_transactions/v1/"+wallet+"/mpcTransactions", body)
	var op waasapi.Operation
	decodeBody(t, resp, &op)
	if resp.StatusCode != 200 || op.Done {
		t.Fatalf("CreateMPCTransaction: HTTP %d %+v", resp.StatusCode, op)
	}
	var meta waasapi.CreateMPCTransactionMetadata
	_ = json.Unmarshal(op.Metadata, &meta)
	if meta.State != waasapi.StateSigning || !strings.Contains(string(op.Metadata), `"state":"SIGNING"`) {
		t.Fatalf("metadata %s", op.Metadata)
	}
	ops, _ := sb.client.ListMPCOperations(ctx, meta.DeviceGroup)
	var sigOp string
	for _, o := range ops.MPCOperations {
		if o.Kind() == "CreateSignature" {
			sigOp = o.Name
		}
	}
	if _, err := sb.client.CompleteMPCOperation(ctx, sigOp); err != nil {
		t.Fatal(err)
	}
	resp = rawGet(t, sb, "/waas/mpc_transactions/v1/"+op.Name)
	var final waasapi.Operation
	decodeBody(t, resp, &final)
	var tx waasapi.MPCTransaction
	_ = json.Unmarshal(final.Response, &tx)
	if !final.Done || tx.State != waasapi.StateConfirming || tx.Transaction.Input.Ethereum1559Input.Gas != 21000 {
		t.Fatalf("transaction after signing: %+v %s", final, final.Response)
	}
	// uint64 fields go out as strings, as protojson writes them.
	if !strings.Contains(string(final.Response), `"gas":"21000"`) {
		t.Fatalf("gas not a string in %s", final.Response)
	}
}

func TestKeyAdminAPI(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1})
	ctx := testctx.New(t)
	created, err := sb.client.CreateAPIKey(ctx, waasapi.CreateAPIKeyRequest{Nickname: "ci", RequestID: "rot-1"})
	if err != nil {
		t.Fatal(err)
	}
	if created.PrivateKey == "" || created.State != waasapi.APIKeyActive || !strings.HasPrefix(created.Name, "organizations/"+sb.srv.DefaultOrg()+"/apiKeys/") {
		t.Fatalf("created key: %+v", created)
	}
	// A repeated requestId names the first key instead of making another.
	_, err = sb.client.CreateAPIKey(ctx, waasapi.CreateAPIKeyRequest{RequestID: "rot-1"})
	wantHTTP(t, err, 409)
	if !strings.Contains(err.Error(), created.Name) {
		t.Fatalf("409 does not name the existing key: %v", err)
	}

	newClient := clientFor(t, sb.url, *created)
	if _, err := newClient.ListPools(ctx, waas.PageRequest{}); err != nil {
		t.Fatalf("new key rejected: %v", err)
	}
	list, err := sb.client.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.APIKeys) != 2 || list.APIKeys[1].LastUseTime == nil || list.APIKeys[1].PrivateKey != "" {
		t.Fatalf("list: %+v", list.APIKeys)
	}

	if _, err := sb.client.RevokeAPIKey(ctx, created.Name); err != nil {
		t.Fatal(err)
	}
	_, err = newClient.ListPools(ctx, waas.PageRequest{})
	wantHTTP(t, err, 401)
	// Revoking again succeeds, so a retried revocation is harmless.
	again, err := sb.client.RevokeAPIKey(ctx, created.Name)
	if err != nil || again.State != waasapi.APIKeyRevoked {
		t.Fatalf("second revoke: %+v %v", again, err)
	}

	// A key of another organization sees none of this one's keys or pools.
	stranger, _ := sb.srv.CreateAPIKey("other-org", waasapi.CreateAPIKeyRequest{})
	sc := clientFor(t, sb.url, stranger)
	_, err = sc.RevokeAPIKey(ctx, sb.key.Name)
	wantHTTP(t, err, 404)
	pools, err := sc.ListPools(ctx, waas.PageRequest{})
	if err != nil || len(pools.Pools) != 0 {
		t.Fatalf("stranger sees pools: %+v %v", pools, err)
	}
	// Key-admin calls need the key service's audience.
	resp := rawRequest(t, sb, "GET", "/waas/pools/v1/pools", "")
	if resp.StatusCode != 200 {
		t.Fatalf("control: HTTP %d", resp.StatusCode)
	}
}

func TestEd25519KeyWithCDPJWT(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 2}})
	k, err := sb.srv.CreateAPIKey(sb.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Algorithm: "Ed25519"})
	if err != nil {
		t.Fatal(err)
	}
	pools, err := clientFor(t, sb.url, k).ListPools(testctx.New(t), waas.PageRequest{})
	if err != nil || len(pools.Pools) != 2 {
		t.Fatalf("Ed25519 key: %+v %v", pools, err)
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	// A bucket, not a window: a fixed window starts at each hour, and near its end the
	// Retry-After is short.
	sb := newTestSandbox(t, Config{Seed: 1, RateLimit: RateLimit{N: 3, Per: time.Hour, Burst: 3}})
	ctx := testctx.New(t)
	for i := 0; i < 3; i++ {
		if _, err := sb.client.ListPools(ctx, waas.PageRequest{}); err != nil {
			t.Fatalf("request %d within the limit: %v", i, err)
		}
	}
	_, err := sb.client.ListPools(ctx, waas.PageRequest{})
	var ae *waas.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 429 || ae.RetryAfter < time.Minute {
		t.Fatalf("want 429 with a long Retry-After, got %v", err)
	}
}

func TestFaultsAreAdvertisedErrorsNeverBadData(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 5, FaultRate: 0.3, Shape: EstateShape{Pools: 1, WalletsPerPool: 40}})
	ctx := testctx.New(t)
	pools, err := waitOK(func() (*waasapi.ListPoolsResponse, error) { return sb.client.ListPools(ctx, waas.PageRequest{}) })
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	var names []string
	page := waas.PageRequest{Size: 1}
	for {
		resp, err := sb.client.ListMPCWallets(ctx, pools.Pools[0].Name, page)
		if err != nil {
			code := waas.HTTPCode(err)
			if code != 0 && code != 500 && code != 503 {
				t.Fatalf("unexpected error %v", err)
			}
			seen[code]++
			continue // retry the same page
		}
		names = append(names, walletNames(resp)...)
		if resp.NextPageToken == "" {
			break
		}
		page.Token = resp.NextPageToken
	}
	if len(names) != 40 || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 40 {
		t.Fatalf("got %d wallets through faults, want 40 distinct", len(names))
	}
	if seen[500] == 0 || seen[503] == 0 || seen[0] == 0 {
		t.Fatalf("expected each kind of fault at a 30%% rate: %v", seen)
	}
}

func walletNames(r *waasapi.ListMPCWalletsResponse) []string {
	var out []string
	for _, w := range r.MPCWallets {
		out = append(out, w.Name)
	}
	return out
}

func waitOK[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for i := 0; i < 50; i++ {
		if v, err = f(); err == nil {
			return v, nil
		}
	}
	return v, err
}

func TestStatePersistsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.state")
	cfg := Config{Seed: 9, StatePath: path, Shape: EstateShape{Pools: 2, WalletsPerPool: 3, AddressesPerWallet: 1, OperationsPerGroup: 1}}
	first := newTestSandbox(t, cfg)
	ctx := testctx.New(t)
	if _, err := first.client.CreatePool(ctx, "Added", "added"); err != nil {
		t.Fatal(err)
	}
	pools0, _ := first.client.ListPools(ctx, waas.PageRequest{})
	page1, err := first.client.ListMPCWallets(ctx, pools0.Pools[0].Name, waas.PageRequest{Size: 1})
	if err != nil || page1.NextPageToken == "" {
		t.Fatalf("first page: %+v %v", page1, err)
	}
	if err := first.srv.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.Seed = 10 // ignored: the saved state wins
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	// The bootstrap key of the first run still works: keys are saved.
	c := clientFor(t, ts.URL, first.key)
	pools, err := c.ListPools(ctx, waas.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pools.Pools) != 3 || pools.Pools[2].Name != "pools/added" {
		t.Fatalf("pools after restart: %+v", pools.Pools)
	}
	// A page token from before the restart still opens its page.
	page2, err := c.ListMPCWallets(ctx, pools.Pools[0].Name, waas.PageRequest{Size: 1, Token: page1.NextPageToken})
	if err != nil || len(page2.MPCWallets) != 1 || page2.MPCWallets[0].Name == page1.MPCWallets[0].Name {
		t.Fatalf("second page after restart: %+v %v", page2, err)
	}
	if st := srv.Stats(srv.DefaultOrg()); st.MPCWallets != 6 || st.PendingOperations != 6 {
		t.Fatalf("stats after restart %+v", st)
	}
}

func TestUnemulatedCallsSay501(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1})
	resp := rawRequest(t, sb, "POST", "/waas/protocols/v1/networks/ethereum-goerli:broadcastTransaction", `{}`)
	var st waasapi.Status
	decodeBody(t, resp, &st)
	if resp.StatusCode != 501 || st.Code != int32(waasapi.Unimplemented) || st.Message == "" {
		t.Fatalf("HTTP %d %+v", resp.StatusCode, st)
	}
	resp = rawGet(t, sb, "/waas/protocols/v1/networks/ethereum-goerli:estimateFee")
	var fee waasapi.EstimateFeeResponse
	decodeBody(t, resp, &fee)
	if resp.StatusCode != 200 || fee.EthereumFeeEstimate == nil {
		t.Fatalf("estimateFee: HTTP %d %+v", resp.StatusCode, fee)
	}
	if resp := rawGet(t, sb, "/waas/pools/v1/nothing/here"); resp.StatusCode != 404 {
		t.Fatalf("unknown path: HTTP %d", resp.StatusCode)
	}
}

func TestLargeEstateListsCompletely(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 wallets")
	}
	sb := newTestSandbox(t, Config{Seed: 42, Shape: EstateShape{Pools: 10, WalletsPerPool: 10000, AddressesPerWallet: 1}})
	ctx := testctx.New(t)
	pools, _ := sb.client.ListPools(ctx, waas.PageRequest{})
	seen := make(map[string]bool, 100000)
	for _, p := range pools.Pools {
		for _, w := range listAllWallets(t, sb.client, p.Name, MaxPageSize) {
			if seen[w] {
				t.Fatalf("duplicate %s", w)
			}
			seen[w] = true
		}
	}
	if len(seen) != 100000 {
		t.Fatalf("listed %d wallets, want 100000", len(seen))
	}
}

func TestParseRateLimit(t *testing.T) {
	for in, want := range map[string]RateLimit{
		"100/1s": {N: 100, Per: time.Second}, "100/s": {N: 100, Per: time.Second}, "6000/1m": {N: 6000, Per: time.Minute}, "5/250ms": {N: 5, Per: 250 * time.Millisecond},
		"25/1s,burst=50":              {N: 25, Per: time.Second, Burst: 50},
		"10000/1h,scope=key":          {N: 10000, Per: time.Hour, Scope: ScopeKey},
		"100/s,penalty=30s,scope=org": {N: 100, Per: time.Second, Penalty: 30 * time.Second, Scope: ScopeOrg},
	} {
		got, err := ParseRateLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseRateLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "100", "0/1s", "-1/1s", "x/1s", "10/0s", "10/-1s", "10/soon", "10/48h",
		"10/1s,", "10/1s,burst=0", "10/1s,burst=x", "10/1s,penalty=0s", "10/1s,penalty=forever", "10/1s,scope=ip", "10/1s,colour=red",
		"10/1s,burst=5,burst=6", "10/1s,burst=5,penalty=1s"} {
		if _, err := ParseRateLimit(bad); err == nil {
			t.Errorf("ParseRateLimit(%q) accepted", bad)
		}
	}
}

func TestRefusesNonLoopbackWithoutAllowRemote(t *testing.T) {
	srv, err := New(Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{":8080", "0.0.0.0:0", "192.0.2.1:0"} {
		err := srv.ListenAndServe(testctx.New(t), addr, false, nil)
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// TestRequestIDReplaysTheFirstAnswer: a retried create gets the first
// answer even when the first request changed what validation sees, and a
// requestId is scoped to its resource path.
func TestRequestIDReplaysTheFirstAnswer(t *testing.T) {
	sb := newTestSandbox(t, Config{Seed: 1, Shape: EstateShape{Pools: 1, WalletsPerPool: 2}})
	ctx := testctx.New(t)
	pools, _ := sb.client.ListPools(ctx, waas.PageRequest{})
	pool := pools.Pools[0].Name
	resp := rawRequest(t, sb, "POST", "/waas/mpc_keys/v1/device:register", `{"registrationData":"AQID"}`)
	var dev waasapi.Device
	decodeBody(t, resp, &dev)

	create := func() (int, string) {
		resp := rawRequest(t, sb, "POST", "/waas/mpc_keys/v1/"+pool+"/deviceGroups?deviceGroupId=dg-1&requestId=r-1", `{"devices":["`+dev.Name+`"]}`)
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code1, body1 := create()
	code2, body2 := create()
	if code1 != 200 || code2 != 200 || body1 != body2 {
		t.Fatalf("retry of CreateDeviceGroup: %d %s / %d %s", code1, body1, code2, body2)
	}

	wallets := listAllWallets(t, sb.client, pool, 0)
	gen := func(wallet string) waasapi.Address {
		resp := rawRequest(t, sb, "POST", "/waas/mpc_wallets/v1/"+wallet+":generateAddress", `{"network":"networks/ethereum-goerli","requestId":"same"}`)
		var a waasapi.Address
		decodeBody(t, resp, &a)
		return a
	}
	a0, a0again, a1 := gen(wallets[0]), gen(wallets[0]), gen(wallets[1])
	if a0.Name != a0again.Name || a1.MPCWallet != wallets[1] || a1.Name == a0.Name {
		t.Fatalf("GenerateAddress replays: %v %v %v", a0, a0again, a1)
	}
}
