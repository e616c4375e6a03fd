package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// clock is a test's time, stepped by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) step(d time.Duration) { c.t = c.t.Add(d) }
func mustLimit(t *testing.T, s string) RateLimit {
	t.Helper()
	rl, err := ParseRateLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

// admitted sends n requests from key at the clock's time and counts those let through.
func admitted(ls *limiterSet, c *clock, key, org string, n int) (ok int, last *refusal) {
	for range n {
		if r := ls.admit(key, org, c.now()); r != nil {
			last = r
		} else {
			ok++
		}
	}
	return ok, last
}

func TestFixedWindowAllowsNPerWindowAndSaysWhenItResets(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 6, 10, 15, 0, 0, time.UTC)}
	ls := newLimiterSet([]RateLimit{mustLimit(t, "100/1h")}, c.now())
	ok, ref := admitted(ls, c, "k", "o", 150)
	if ok != 100 || ref == nil || ref.wait != 45*time.Minute {
		t.Fatalf("first window: %d admitted, refusal %+v; want 100 and a wait of 45m (to 11:00)", ok, ref)
	}
	c.step(45*time.Minute - time.Nanosecond)
	if ok, _ := admitted(ls, c, "k", "o", 1); ok != 0 {
		t.Fatal("admitted before the window reset")
	}
	c.step(time.Nanosecond)
	if ok, _ := admitted(ls, c, "k", "o", 150); ok != 100 {
		t.Fatalf("next window admitted %d, want 100", ok)
	}
	st := ls.snapshot("")
	want := waasapi.RequestCounts{Requests: 301, Throttled: 101}
	if st.Keys["k"] != want || st.Organizations["o"] != want {
		t.Fatalf("counts %+v, want %+v for the key and the org", st, want)
	}
}

func TestTokenBucketAllowsTheBurstThenTheRate(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	ls := newLimiterSet([]RateLimit{mustLimit(t, "25/1s,burst=50")}, c.now())
	ok, ref := admitted(ls, c, "k", "o", 60)
	if ok != 50 || ref == nil || ref.wait != 40*time.Millisecond {
		t.Fatalf("burst: %d admitted, refusal %+v; want 50 and a wait of 40ms", ok, ref)
	}
	// Over the next 10 s at 100 tries a second, exactly 25/s more get through.
	total := 0
	for range 1000 {
		c.step(10 * time.Millisecond)
		n, _ := admitted(ls, c, "k", "o", 1)
		total += n
	}
	if total != 250 {
		t.Fatalf("admitted %d in 10 s after the burst, want 250", total)
	}
}

func TestPenaltyBoxIsEnteredOnceAndRefusesEverythingForItsLength(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	ls := newLimiterSet([]RateLimit{mustLimit(t, "100/1s,penalty=30s")}, c.now())
	ok, ref := admitted(ls, c, "k", "o", 101)
	if ok != 100 || ref == nil || ref.wait != 30*time.Second {
		t.Fatalf("%d admitted, refusal %+v; want 100 and a 30s penalty", ok, ref)
	}
	for range 29 {
		c.step(time.Second)
		if ok, ref := admitted(ls, c, "k", "o", 1); ok != 0 || ref.wait > 30*time.Second {
			t.Fatalf("admitted in the box, or waits %v", ref.wait)
		}
	}
	c.step(time.Second)
	if ok, _ := admitted(ls, c, "k", "o", 100); ok != 100 {
		t.Fatalf("after the penalty admitted %d of 100", ok)
	}
	if p := ls.snapshot("").Organizations["o"].Penalties; p != 1 {
		t.Fatalf("penalties %d, want 1", p)
	}
}

func TestScopesSeparateOrShareBudgets(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	byKey := newLimiterSet([]RateLimit{mustLimit(t, "10/1m,scope=key")}, c.now())
	byOrg := newLimiterSet([]RateLimit{mustLimit(t, "10/1m,scope=org")}, c.now())
	server := newLimiterSet([]RateLimit{mustLimit(t, "10/1m")}, c.now())
	for _, tc := range []struct {
		name string
		ls   *limiterSet
		want [3]int // admitted for k1@o1, k2@o1, k3@o2
	}{
		{"scope=key", byKey, [3]int{10, 10, 10}},
		{"scope=org", byOrg, [3]int{10, 0, 10}},
		{"server-wide", server, [3]int{10, 0, 0}},
	} {
		var got [3]int
		got[0], _ = admitted(tc.ls, c, "k1", "o1", 15)
		got[1], _ = admitted(tc.ls, c, "k2", "o1", 15)
		got[2], _ = admitted(tc.ls, c, "k3", "o2", 15)
		if got != tc.want {
			t.Errorf("%s: admitted %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestARefusedRequestTakesNothingFromTheOtherLimits(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	// The window refuses the 6th; the bucket must still hold 10-5 tokens.
	ls := newLimiterSet([]RateLimit{mustLimit(t, "5/1s"), mustLimit(t, "1/1h,burst=10")}, c.now())
	if ok, _ := admitted(ls, c, "k", "o", 20); ok != 5 {
		t.Fatalf("admitted %d, want 5", ok)
	}
	c.step(time.Second)
	if ok, _ := admitted(ls, c, "k", "o", 20); ok != 5 {
		t.Fatalf("second second admitted %d, want the bucket's other 5", ok)
	}
}

func TestStatsEndpointCountsPerKeyAndOrganization(t *testing.T) {
	// A bucket, not a window: a fixed window starts at each hour, and a run
	// within the Retry-After cap of one waited and was let through (CI at 02:59).
	sb := newTestSandbox(t, Config{Seed: 1, RateLimit: RateLimit{N: 3, Per: time.Hour, Burst: 3, Scope: ScopeKey}})
	other, err := sb.srv.CreateAPIKey(sb.srv.DefaultOrg(), waasapi.CreateAPIKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	otherClient := clientFor(t, sb.url, other)
	ctx := context.Background()
	for range 5 {
		_, _ = sb.client.ListPools(ctx, waas.PageRequest{})
	}
	_, _ = otherClient.ListPools(ctx, waas.PageRequest{})
	got, err := sb.client.SandboxRequestStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	org := sb.srv.DefaultOrg()
	want := map[string]waasapi.RequestCounts{sb.key.Name: {Requests: 5, Throttled: 2}, other.Name: {Requests: 1}}
	if len(got.Keys) != 2 || got.Keys[sb.key.Name] != want[sb.key.Name] || got.Keys[other.Name] != want[other.Name] {
		t.Errorf("keys %+v, want %+v", got.Keys, want)
	}
	if len(got.Organizations) != 1 || got.Organizations[org] != (waasapi.RequestCounts{Requests: 6, Throttled: 2}) {
		t.Errorf("organizations %+v", got.Organizations)
	}
	// The stats call itself is neither limited nor counted.
	if tot := sb.srv.RequestTotals(); tot.Requests != 6 {
		t.Errorf("totals %+v, want 6 requests", tot)
	}
	// The exact JSON names the issue documents.
	req, _ := http.NewRequest(http.MethodGet, sb.url+"/sandbox/v1/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("stats without a token: HTTP %d, want 401", resp.StatusCode)
	}
	raw, _ := json.Marshal(got)
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	for _, k := range []string{"since", "keys", "organizations"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("stats JSON lacks %q: %s", k, raw)
		}
	}
}

func FuzzParseRateLimit(f *testing.F) {
	for _, s := range []string{"100/1s", "25/1s,burst=50", "10000/1h", "100/1s,penalty=30s", "3/s,scope=key", "1/1ns,scope=org,burst=1", "9/1h,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rl, err := ParseRateLimit(s)
		if err != nil {
			return
		}
		if rl.N <= 0 || rl.Per <= 0 || rl.Per > maxLimitPeriod || rl.Burst < 0 || rl.Penalty < 0 || (rl.Burst > 0 && rl.Penalty > 0) {
			t.Fatalf("ParseRateLimit(%q) = %+v: out of range", s, rl)
		}
		again, err := ParseRateLimit(rl.String())
		if err != nil || again != rl {
			t.Fatalf("ParseRateLimit(%q) = %+v, its String %q parses to %+v, %v", s, rl, rl.String(), again, err)
		}
		// A limit admits and refuses without panicking, whatever its numbers.
		ls := newLimiterSet([]RateLimit{rl}, time.Unix(0, 0))
		for i := range 3 {
			ls.admit("k", "o", time.Unix(0, int64(i)))
		}
	})
}
