package waas

import (
	"math/rand/v2"
	"testing"
	"time"
)

func every(k int, status int, ra time.Duration) func(int, time.Time) (int, time.Duration) {
	return func(n int, _ time.Time) (int, time.Duration) {
		if n > 0 && n%k == 0 {
			return status, ra
		}
		return 0, 0
	}
}

func randomly(seed uint64, share float64, status int, ra time.Duration) func(int, time.Time) (int, time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(int, time.Time) (int, time.Duration) {
		if rng.Float64() < share {
			return status, ra
		}
		return 0, 0
	}
}

// TestOccasionalPausesDoNotStopProbing: a run resumed at the 50/s an
// earlier run learned, under a limit risen since to 200/s, from a service
// that answers a request now and then 503 with Retry-After: 1, finds the
// higher limit. With the cubic curve's clock started again at every
// pause's end, the rate stayed near 50/s: 6,000 requests took 128 s with a
// 503 in every 300, 175 s with 1% at random (66 s and 107 s now).
func TestOccasionalPausesDoNotStopProbing(t *testing.T) {
	const requests, limit = 6000, 200.0
	for _, c := range []struct {
		what  string
		fault func(int, time.Time) (int, time.Duration)
	}{
		{"a 503 in every 300 requests", every(300, 503, time.Second)},
		{"1% of requests answered 503 at random", randomly(1, 0.01, 503, time.Second)},
	} {
		run := simRun{limits: []string{"200/1s"}, latency: 20 * time.Millisecond, requests: requests, lanes: 64, start: LearnedRate{Rate: 50}, fault: c.fault}
		res := run.run(t)
		paused := time.Duration(res.faults) * time.Second
		sending := res.elapsed - paused
		t.Logf("%s: %v (%v of it paused), %d answered 429", c.what, res.elapsed.Round(100*time.Millisecond), paused, res.throttled)
		if bound := 2 * requests / limit; sending.Seconds() > bound {
			t.Errorf("%s: %v not paused, more than twice requests / limit (%.0f s): the rate never found the risen limit", c.what, sending.Round(100*time.Millisecond), bound)
		}
	}
}
