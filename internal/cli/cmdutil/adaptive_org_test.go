package cmdutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

func testKey(t *testing.T, name string) *credentials.APIKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &credentials.APIKey{Name: name, Signer: priv}
}

// TestKeysOfOneOrganisationShareTheirRate: a limit may be the
// organisation's (Prime's is per portfolio, the sandbox's scope=org), and
// rates.json kept the rate per key: a second key of the organisation
// started cold into the limit the first had found. The rate a run learns
// is remembered for the organisation at the endpoint, so another key of it
// starts from there, and a key of another organisation does not.
func TestKeysOfOneOrganisationShareTheirRate(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	ctx := context.Background()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) == 6 { // the service's limit, found by the sixth request
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"code": 8, "message": "slow down"}`))
			return
		}
		_, _ = w.Write([]byte(`{"pools": []}`))
	}))
	t.Cleanup(srv.Close)
	// The client's rate changes go to the progress line's status, which
	// other tests of the package read.
	status := rateStatus.Load()
	t.Cleanup(func() { rateStatus.Store(status) })
	ios, _, _, _ := iostreams.Test()
	f := &Factory{IOStreams: ios, Concurrency: 8}
	c, err := ClientForKey(testKey(t, "organizations/o/apiKeys/first"), "", srv.URL, f)
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if _, err := c.ListPools(ctx, waas.PageRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	learned := c.LearnedRate()
	if learned.Rate <= 0 || learned.Unlimited {
		t.Fatalf("the first key learned %+v from a 429", learned)
	}
	f.FinishRun(ctx)

	second := waas.Options{Endpoint: srv.URL}
	f.adaptiveOptions(ctx, &second, testKey(t, "organizations/o/apiKeys/second"), false)
	if second.Start != learned {
		t.Fatalf("a second key of the organisation starts from %+v; the first learned %+v", second.Start, learned)
	}
	other := waas.Options{Endpoint: srv.URL}
	f.adaptiveOptions(ctx, &other, testKey(t, "organizations/p/apiKeys/third"), false)
	if other.Start != (waas.LearnedRate{}) {
		t.Fatalf("a key of another organisation starts from %+v", other.Start)
	}
}

// TestRatesKeptPerKeyBeforeAreStillRead: rates.json written before rates
// were kept per organisation holds them by key fingerprint: such an entry
// is still where the key's next run starts from, and once that run saves
// its rate for the organisation, the old entry gives way to it.
func TestRatesKeptPerKeyBeforeAreStillRead(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	ctx := context.Background()
	const ep = "https://example.invalid"
	key := testKey(t, "organizations/o/apiKeys/k")
	fp := credentials.Fingerprint(key.Signer.Public())
	now := time.Now()
	old := fmt.Sprintf(`{"rates": {%q: {"rate": 42, "penalty_cap": 80, "updated": %q}}}`, ep+" "+fp, now.Add(-time.Hour).UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(dir, ratesFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, _, stderr := iostreams.Test()
	f := &Factory{IOStreams: ios}
	opts := waas.Options{Endpoint: ep}
	f.adaptiveOptions(ctx, &opts, key, false)
	if want := (waas.LearnedRate{Rate: 42, PenaltyCap: 80}); opts.Start != want || stderr.Len() > 0 {
		t.Fatalf("a rate kept per key before: starts from %+v (stderr %q), want %+v", opts.Start, stderr, want)
	}
	scope, legacy := rateScope(key)
	if err := saveLearnedRate(ctx, ep, scope, legacy, waas.LearnedRate{Rate: 30}, now, now); err != nil {
		t.Fatal(err)
	}
	rates := loadLearnedRates(ctx, io.Discard).Rates
	if _, ok := rates[rateKey(ep, fp)]; ok || rates[rateKey(ep, "organizations/o")].Rate != 30 || len(rates) != 1 {
		t.Fatalf("after a save for the organisation rates.json holds %+v, want only the organisation's 30/s", rates)
	}
	// A key with no organisation in its name (a bare CDP key id) keeps its own rate.
	if scope, _ := rateScope(testKey(t, "0b6f2b3c-1d2e-4f50-9a8b-7c6d5e4f3a2b")); !strings.HasPrefix(scope, "SHA256:") {
		t.Fatalf("a bare key id's rate is kept for %q, want its fingerprint", scope)
	}
}

// TestALimitLearnedUnderOneKeyIsNotForgottenByAnother: a key's run that
// met no 429, and started before another key of the organisation learned
// a limit, does not replace that limit with "unlimited"; nor does a run
// that resumed at it and met none (it learns nothing new).
func TestALimitLearnedUnderOneKeyIsNotForgottenByAnother(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	ctx := context.Background()
	const ep = "https://example.invalid"
	a, b := testKey(t, "organizations/o/apiKeys/a"), testKey(t, "organizations/o/apiKeys/b")
	t0 := time.Now().Add(-time.Minute)
	scopeA, legacyA := rateScope(a)
	if err := saveLearnedRate(ctx, ep, scopeA, legacyA, waas.LearnedRate{Rate: 4}, t0.Add(10*time.Second), t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	scopeB, legacyB := rateScope(b)
	if err := saveLearnedRate(ctx, ep, scopeB, legacyB, waas.LearnedRate{Rate: 300, Unlimited: true}, t0, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), ep, scopeB, legacyB, time.Now()); !ok || got != (waas.LearnedRate{Rate: 4}) {
		t.Fatalf("key b starts from %+v (%v) after key a learned a limit of 4/s", got, ok)
	}
}

// TestAnEndpointsQueryIsNotWrittenToRatesFile: the client sends no query
// of the endpoint's URL (each call sets its own), but rates.json keyed the
// rate by it, so a token a proxy takes in the query ("?token=…") was
// written to the state folder, and the same service typed with another
// query was another service.
func TestAnEndpointsQueryIsNotWrittenToRatesFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	ctx := context.Background()
	now := time.Now()
	if err := saveLearnedRate(ctx, "https://api.example.invalid/?token=hunter2#frag", "organizations/o", "SHA256:k", waas.LearnedRate{Rate: 7}, now, now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ratesFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "hunter2") || strings.Contains(string(data), "frag") {
		t.Errorf("rates.json holds the endpoint's query:\n%s", data)
	}
	if lr, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), "https://api.example.invalid", "organizations/o", "SHA256:k", now); !ok || lr.Rate != 7 {
		t.Errorf("the same service without the query: %+v, %v; want the rate saved", lr, ok)
	}
}

// TestAnOrganisationIsOneWhateverItsCase: a UUID is read without regard to
// case (RFC 9562), and key names are accepted in either; a key whose
// organisation was typed in capitals kept its rate apart from the other
// keys of the organisation.
func TestAnOrganisationIsOneWhateverItsCase(t *testing.T) {
	lower, _ := rateScope(testKey(t, "organizations/0b6f2b3c-1d2e-4f50-9a8b-7c6d5e4f3a2b/apiKeys/1b6f2b3c-1d2e-4f50-9a8b-7c6d5e4f3a2b"))
	upper, _ := rateScope(testKey(t, "organizations/0B6F2B3C-1D2E-4F50-9A8B-7C6D5E4F3A2B/apiKeys/2b6f2b3c-1d2e-4f50-9a8b-7c6d5e4f3a2b"))
	if lower != upper {
		t.Fatalf("one organisation, two scopes: %q and %q", lower, upper)
	}
}
