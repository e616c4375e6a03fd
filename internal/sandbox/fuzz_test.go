package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// FuzzRequests sends authenticated requests with arbitrary methods, paths,
// queries and bodies through the whole pipeline. The sandbox must never
// panic, and must answer either 200 with JSON or a Status with a status
// code it documents.
func FuzzRequests(f *testing.F) {
	srv, err := New(Config{Seed: 1, Shape: EstateShape{Pools: 2, WalletsPerPool: 2, AddressesPerWallet: 1, OperationsPerGroup: 1}})
	if err != nil {
		f.Fatal(err)
	}
	key, _ := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	k, _ := credentials.ParsePrivateKey(key.PrivateKey)
	signer, _ := waas.NewSigner(key.Name, k, waas.FormWaaS)

	for _, seed := range []struct{ method, path, query, body string }{
		{"GET", "/waas/pools/v1/pools", "pageSize=2", ""},
		{"POST", "/waas/pools/v1/pools", "poolId=abc", `{"displayName":"x"}`},
		{"GET", "/waas/mpc_wallets/v1/pools/p/mpcWallets", "pageToken=AAAA", ""},
		{"POST", "/waas/mpc_keys/v1/device:register", "", `{"registrationData":"AQID"}`},
		{"POST", "/waas/mpc_transactions/v1/pools/p/mpcWallets/w/mpcTransactions", "", `{"mpcTransaction":{"network":"networks/ethereum-goerli","fromAddresses":["networks/ethereum-goerli/addresses/0x01"]},"input":{"ethereum1559Input":{"nonce":"x"}}}`},
		{"GET", "/waas/blockchain/v1/networks/ethereum-goerli/assets", `filter=definition.asset_type%20%3D%20%22erc20%22`, ""},
		{"POST", "/sandbox/v1/apiKeys", "", `{"algorithm":"RSA"}`},
		{"DELETE", "/sandbox/v1/organizations/o/apiKeys/k", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.body)
	}
	allowed := map[int]bool{200: true, 400: true, 401: true, 404: true, 409: true, 501: true}
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# \t\r\n") || strings.ContainsAny(method, " \t\r\n") || method == "" {
			return
		}
		u := &url.URL{Scheme: "http", Host: "sandbox.test", Path: path, RawQuery: query}
		req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
		if err != nil {
			return
		}
		aud := waasapi.KeyServiceAudience
		for _, svc := range waasapi.Services {
			if strings.HasPrefix(req.URL.Path, "/waas/"+svc.Path+"/") {
				aud = svc.Audience
			}
		}
		tok, err := signer.Sign(aud, method, req.URL.Host+req.URL.Path)
		if err != nil {
			return // e.g. a method with characters a JWT uri cannot hold
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("%s %s?%s: HTTP %d %s", method, path, query, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, rec.Body)
		}
	})
}

// FuzzPageToken: no forged token opens, and a real one opens only for its
// own list.
func FuzzPageToken(f *testing.F) {
	srv, err := New(Config{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("ListPools", 5, "")
	f.Add("ListMPCWallets\x00p", 1000, "AAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, list string, offset int, forged string) {
		if offset < 0 || offset > 1<<40 {
			return
		}
		tok := srv.pageToken(list, offset)
		if got, ok := srv.openPageToken(tok, list); !ok || got != offset {
			t.Fatalf("round trip: %d %v", got, ok)
		}
		if _, ok := srv.openPageToken(tok, list+"x"); ok {
			t.Fatal("token opened for another list")
		}
		if forged != tok {
			if _, ok := srv.openPageToken(forged, list); ok {
				t.Fatalf("forged token %q opened", forged)
			}
		}
	})
}

// FuzzWireJSON: the wire types' custom decoders never panic and re-encode
// what they accept.
func FuzzWireJSON(f *testing.F) {
	f.Add(`{"state":"SIGNING","transaction":{"input":{"ethereum1559Input":{"nonce":"7","gas":21000,"data":"AQID"}}}}`)
	f.Add(`{"state":4,"fromAddresses":["a"]}`)
	f.Add(`{"state":99,"transaction":{"rawSignedTransaction":"_-8"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		var tx waasapi.MPCTransaction
		if json.Unmarshal([]byte(in), &tx) != nil {
			return
		}
		out, err := json.Marshal(tx)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again waasapi.MPCTransaction
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decode own output %s: %v", out, err)
		}
	})
}
