package waas_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/waasctl/waasctl/internal/sandbox"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/testctx"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// WaaS does not publish its largest page size. A service that refuses the client's page size
// (1000) with HTTP 400 is asked again with the documented default, 50, once, and the listing
// is complete: every pool, each once, in four requests (the refused one, then three pages).
func TestAListingFallsBackToTheDefaultPageSizeWhenTheLargeOneIsRefused(t *testing.T) {
	srv, err := sandbox.New(sandbox.Config{Seed: 1, Shape: sandbox.EstateShape{Pools: 120}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	var mu sync.Mutex
	var sizes []int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		if n > 50 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":3,"message":"page size too large"}`))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	key, err := srv.CreateAPIKey(srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{Nickname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c := sandboxtest.ClientFor(t, ts.URL, key, waas.Options{})

	seen := map[string]int{}
	for p, err := range c.Pools(testctx.New(t)) {
		if err != nil {
			t.Fatalf("listing pools: %v", err)
		}
		seen[p.Name]++
	}
	if len(seen) != 120 {
		t.Fatalf("%d pools listed, want 120", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("pool %s listed %d times", name, n)
		}
	}
	if want := []int{1000, 50, 50, 50}; !slices.Equal(sizes, want) {
		t.Fatalf("page sizes asked: %v, want %v", sizes, want)
	}
}

// Only a 400 means "page size too large": a listing refused for another reason (403 here) is
// not asked again with a smaller page; the error is the caller's, after one request.
func TestAListingRefusedForAnotherReasonIsNotAskedAgain(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code":7,"message":"permission denied"}`))
	}))
	t.Cleanup(ts.Close)
	sb := sandboxtest.Start(t, sandbox.Config{Seed: 1})
	c := sandboxtest.ClientFor(t, ts.URL, sb.Key, waas.Options{})
	var errs int
	for _, err := range c.Pools(testctx.New(t)) {
		if err == nil {
			t.Fatal("a pool listed from a server that refuses every request")
		}
		if waas.HTTPCode(err) != http.StatusForbidden {
			t.Fatalf("error %v, want the HTTP 403", err)
		}
		errs++
	}
	if errs != 1 || !slices.Equal(sizes, []int{1000}) {
		t.Fatalf("%d errors, page sizes asked %v; want one error after one request of 1000", errs, sizes)
	}
}
