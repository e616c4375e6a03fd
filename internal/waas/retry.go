package waas

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
)

// transportError is a call that got no HTTP answer: a refused or dropped
// connection, a timeout, a truncated body.
type transportError struct {
	call string
	err  error
}

func (e *transportError) Error() string { return fmt.Sprintf("%s: %v", e.call, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// shouldRetry decides whether a failed attempt is tried again, and after how
// long. 429 is always retried: the server refused before doing anything.
// 500, 502, 503, 504 and lost connections are retried only for idempotent
// calls, since the server may have done the work before the answer was lost.
// The wait is exponential backoff with full jitter, but never shorter than a
// Retry-After the server asked for.
func (c *Client) shouldRetry(ep endpoint, err error, attempt int) (time.Duration, bool) {
	if attempt >= c.maxAttempts {
		return 0, false
	}
	var retryAfter time.Duration
	var ae *APIError
	var te *transportError
	switch {
	case errors.As(err, &ae):
		switch ae.HTTPStatus {
		case http.StatusTooManyRequests:
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			if !ep.idempotent {
				return 0, false
			}
		default:
			return 0, false
		}
		retryAfter = ae.RetryAfter
	case errors.As(err, &te):
		if !ep.idempotent {
			return 0, false
		}
	default:
		return 0, false // cancelled, or a bug on our side: retrying will not help
	}
	if retryAfter > MaxRetryAfter {
		return 0, false // the server asks for longer than a command should sit idle
	}
	ceiling := c.backoff << min(attempt-1, 5)
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	return max(wait, retryAfter), true
}

// MaxRetryAfter is the longest Retry-After the client waits out; a longer
// one ends the call with the 429, which says what the server asked for.
const MaxRetryAfter = 30 * time.Second

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
