package cmdutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/cli/iostreams"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/waas"
)

// TestRunsAtOnceDoNotLoseEachOthersRates: commands finishing at the same
// time (two shells, a script's loop) each remember their rate; without a
// lock around the read and the write, each wrote back the file as it read
// it, and the rates of the others were lost.
func TestRunsAtOnceDoNotLoseEachOthersRates(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	ctx := context.Background()
	now := time.Now()
	const runs = 24
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			err := saveLearnedRate(ctx, "https://example.invalid", fmt.Sprintf("SHA256:key%02d", i), fmt.Sprintf("SHA256:key%02d", i), waas.LearnedRate{Rate: float64(i + 1)}, now, now)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := loadLearnedRates(ctx, io.Discard).Rates
	for i := range runs {
		if lr, ok := got[rateKey("https://example.invalid", fmt.Sprintf("SHA256:key%02d", i))]; !ok || lr.Rate != float64(i+1) {
			t.Errorf("run %d's rate: %+v (present %v); %d of %d rates kept", i, lr, ok, len(got), runs)
		}
	}
}

// TestAnUnlimitedRunDoesNotOverwriteALimitLearnedMeanwhile: two runs with
// the same key at once: the one that met 429s remembers the limit; the
// other, which started before that and finishes after it without meeting a
// 429 (a short command, or one the first left room for), must not replace
// the limit with "unlimited". A run that started after the limit was
// learned, and met no limit, may.
func TestAnUnlimitedRunDoesNotOverwriteALimitLearnedMeanwhile(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	ctx := context.Background()
	const ep, fp = "https://example.invalid", "SHA256:k"
	t0 := time.Now().Add(-time.Minute)
	if err := saveLearnedRate(ctx, ep, fp, fp, waas.LearnedRate{Rate: 4}, t0.Add(10*time.Second), t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := saveLearnedRate(ctx, ep, fp, fp, waas.LearnedRate{Rate: 300, Unlimited: true}, t0, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := loadLearnedRates(ctx, io.Discard).Rates[rateKey(ep, fp)]; got.Rate != 4 || got.Unlimited {
		t.Fatalf("after a run that overlapped the limited one: %+v, want the limit of 4/s", got)
	}
	if err := saveLearnedRate(ctx, ep, fp, fp, waas.LearnedRate{Rate: 300, Unlimited: true}, t0.Add(40*time.Second), t0.Add(50*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := loadLearnedRates(ctx, io.Discard).Rates[rateKey(ep, fp)]; got.Rate != 300 || !got.Unlimited {
		t.Fatalf("after a later run that nothing limited: %+v, want 300/s unlimited", got)
	}
}

// TestARateDatedInTheFutureIsNotTrusted: a hand-edited (or clock-skewed)
// "updated" years ahead made a rate trusted, and kept, for ever: the week
// a learned rate is trusted counts from a time that had not come.
func TestARateDatedInTheFutureIsNotTrusted(t *testing.T) {
	t.Setenv("WAASCTL_STATE_DIR", t.TempDir())
	ctx := context.Background()
	now := time.Now()
	future := now.Add(50 * 365 * 24 * time.Hour)
	if err := saveLearnedRate(ctx, "https://a.invalid", "SHA256:k", "SHA256:k", waas.LearnedRate{Rate: 1}, future, future); err != nil {
		t.Fatal(err)
	}
	if lr, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), "https://a.invalid", "SHA256:k", "SHA256:k", now); ok {
		t.Errorf("a rate dated %v trusted now: %+v", future, lr)
	}
	if err := saveLearnedRate(ctx, "https://b.invalid", "SHA256:k", "SHA256:k", waas.LearnedRate{Rate: 2}, now, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadLearnedRates(ctx, io.Discard).Rates[rateKey("https://a.invalid", "SHA256:k")]; ok {
		t.Error("a rate dated 50 years ahead was kept by the next write")
	}
	if lr, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), "https://b.invalid", "SHA256:k", "SHA256:k", now); !ok || lr.Rate != 2 {
		t.Errorf("a rate saved now: %+v, %v", lr, ok)
	}
}

// TestRatesAreKeyedByTheServiceNotItsSpelling: the endpoint as typed keys
// the rate: a trailing slash or a capital made another service of it, and a
// user and password in the URL were written to rates.json.
func TestRatesAreKeyedByTheServiceNotItsSpelling(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	ctx := context.Background()
	now := time.Now()
	if err := saveLearnedRate(ctx, "https://ops:hunter2@API.example.invalid/", "SHA256:k", "SHA256:k", waas.LearnedRate{Rate: 7}, now, now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ratesFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "hunter2") || strings.Contains(string(data), "ops") {
		t.Errorf("rates.json holds the URL's user or password:\n%s", data)
	}
	for _, ep := range []string{"https://api.example.invalid", "https://api.example.invalid/", "HTTPS://api.EXAMPLE.invalid"} {
		if lr, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), ep, "SHA256:k", "SHA256:k", now); !ok || lr.Rate != 7 {
			t.Errorf("%s: %+v, %v; want the rate saved for the same service", ep, lr, ok)
		}
	}
	if _, ok := learnedRateFor(loadLearnedRates(ctx, io.Discard), "https://other.example.invalid", "SHA256:k", "SHA256:k", now); ok {
		t.Error("another endpoint got the rate")
	}
}

// TestABadRatesFileIsSaidOnce: a command that builds a client per profile
// (keys check over every profile) reads rates.json for each; a bad file is
// said once, not once per client.
func TestABadRatesFileIsSaidOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WAASCTL_STATE_DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, ratesFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, _, stderr := iostreams.Test()
	f := &Factory{IOStreams: ios}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := &credentials.APIKey{Name: "organizations/o/apiKeys/k", Signer: priv}
	for range 3 {
		f.adaptiveOptions(context.Background(), &waas.Options{Endpoint: "https://example.invalid"}, key, false)
	}
	if n := strings.Count(stderr.String(), "warning"); n != 1 {
		t.Fatalf("stderr %q: %d warnings, want 1", stderr, n)
	}
}
