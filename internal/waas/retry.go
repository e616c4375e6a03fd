package waas

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// transportError is a call that got no HTTP answer: a refused or dropped
// connection, a timeout, a truncated body.
type transportError struct {
	call string
	err  error
}

func (e *transportError) Error() string { return fmt.Sprintf("%s: %v", e.call, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// Unreachable says whether err is a call that got no HTTP answer at all.
func Unreachable(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

// retryState is what one call's retries have used up.
type retryState struct {
	failures       int           // failed attempts other than 429s
	throttled      time.Duration // time spent waiting out 429s (without the pacer)
	throttledSince time.Time     // the first 429 (with the pacer)
	// serverWaited is the time spent waiting out server errors'
	// Retry-After.
	serverWaited time.Duration
	// waitedInAll: when the call ends for a server error's Retry-After,
	// the Retry-After it waited out, 429s' included.
	waitedInAll time.Duration
	// throttleSpent: the call ends because 429s, or server errors'
	// Retry-After, used up MaxThrottleWait.
	throttleSpent bool
	// retryAfterTooLong: the call ends because the server asked to wait
	// longer than MaxRetryAfter.
	retryAfterTooLong bool
}

// shouldRetry decides whether a failed attempt is tried again, and after how
// long. 429 is always retried: the server refused before doing anything;
// such retries are bounded by time (MaxThrottleWait), not by attempts, so a
// tight rate limit slows a listing down instead of failing it. 500, 502,
// 503, 504 and lost connections are retried, up to the attempt limit, only
// for idempotent calls, since the server may have done the work before the
// answer was lost; their Retry-After is bounded as a 429's is (at most
// MaxRetryAfter each, MaxThrottleWait in all, one budget with 429s'). The
// wait is exponential backoff with full jitter, never shorter than a
// Retry-After, which gets jitter of its own so that lanes throttled
// together do not all come back in the same instant.
func (c *Client) shouldRetry(ep endpoint, err error, r *retryState) (time.Duration, bool) {
	var ae *APIError
	var te *transportError
	switch {
	case errors.As(err, &ae) && ae.HTTPStatus == http.StatusTooManyRequests:
		if ae.RetryAfter > MaxRetryAfter {
			r.retryAfterTooLong = true
			return 0, false // the server asks for longer than a command should sit idle
		}
		if c.pacer != nil {
			// The pacer pauses every lane until the Retry-After is over and
			// then spaces them out: no wait or jitter of this call's own.
			// A 429 without Retry-After still counts, so that one answered
			// forever ends.
			// The pacer's waits are its own, so the bound is the time since
			// the first 429: a service that answers 429 for ever (with no
			// Retry-After, the pacer's rate falls to one request every 2 s)
			// must end the call within it, not after thousands of tries.
			if r.throttledSince.IsZero() {
				// Server errors' Retry-After waited out before count too:
				// the budget is one for both.
				r.throttledSince = time.Now().Add(-r.serverWaited)
			}
			if time.Since(r.throttledSince)+ae.RetryAfter > maxThrottleWait {
				r.throttleSpent = true
				return 0, false
			}
			return 0, true
		}
		c.throttle()
		wait := ae.RetryAfter + jitter(c.backoff<<min(r.failures+2, 5))
		if r.throttled+r.serverWaited+wait > maxThrottleWait {
			r.throttleSpent = true
			return 0, false
		}
		r.throttled += wait
		return wait, true
	case errors.As(err, &ae):
		switch ae.HTTPStatus {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
	case errors.As(err, &te):
	default:
		return 0, false // cancelled, or a bug on our side: retrying will not help
	}
	if !ep.idempotent {
		return 0, false
	}
	r.failures++
	if r.failures >= c.maxAttempts {
		return 0, false
	}
	wait := jitter(c.backoff << min(r.failures-1, 5))
	if ae != nil && ae.RetryAfter > 0 {
		// The server's Retry-After, bounded as a 429's is: one longer than
		// MaxRetryAfter ends the call at once (a day's wait, at each of ten
		// attempts, was a hang), and MaxThrottleWait bounds them in all.
		// With the pacer, every lane waits it out too (overloaded).
		if ae.RetryAfter > MaxRetryAfter {
			r.retryAfterTooLong = true
			return 0, false
		}
		wait = max(wait, ae.RetryAfter)
		// One budget with 429s' waits: with the pacer, the time since the
		// first 429 (server errors' waits before it included).
		spent := r.throttled + r.serverWaited
		if !r.throttledSince.IsZero() {
			spent = time.Since(r.throttledSince)
		}
		if spent+wait > maxThrottleWait {
			r.throttleSpent, r.waitedInAll = true, spent
			return 0, false
		}
		r.serverWaited += wait
	}
	return wait, true
}

// jitter is a random duration up to ceiling.
func jitter(ceiling time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// throttle slows the client's limiter after a 429 (to 70% of its rate, at
// least one request a second, or the configured rate if that is less: the
// floor must not raise a --rate under 1/s); recovered brings it back
// gradually, as answers come, to the configured rate.
func (c *Client) throttle() {
	if c.limiter == nil {
		return
	}
	c.limiter.SetLimit(rate.Limit(max(float64(c.limiter.Limit())*0.7, min(1, c.rate))))
}

func (c *Client) recovered() {
	if c.limiter == nil {
		return
	}
	if cur := float64(c.limiter.Limit()); cur < c.rate {
		c.limiter.SetLimit(rate.Limit(min(c.rate, cur+c.rate/100)))
	}
}

// MaxThrottleWait bounds how long one call waits out 429s in all.
const MaxThrottleWait = 5 * time.Minute

var maxThrottleWait = MaxThrottleWait // shorter in tests

// MaxRetryAfter is the longest single Retry-After the client waits out; a
// longer one ends the call with the 429, which says what the server asked for.
const MaxRetryAfter = 2 * time.Minute

// Stats counts what the client did, for progress reports and benchmarks.
type Stats struct {
	Requests  int64 // HTTP requests sent, retries included
	Retries   int64 // attempts repeated after a retryable failure
	Throttled int64 // 429 answers received (retried or not)
}

type stats struct{ requests, retries, throttled atomic.Int64 }

// Stats returns the counts so far.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.stats.requests.Load(), Retries: c.stats.retries.Load(), Throttled: c.stats.throttled.Load()}
}
