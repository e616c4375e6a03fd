// Package waas is waasctl's client for the Coinbase WaaS REST API (and for
// the sandbox's key-admin API, which stands in for the developer portal).
// It signs every request with a fresh JWT the way the official client does.
// It never prints and never puts key material in an error.
package waas

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waasctl/waasctl/internal/ctxwait"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waasapi"
	"golang.org/x/time/rate"
)

// DefaultEndpoint is the production base URL; services live below /waas/.
const DefaultEndpoint = "https://api.developer.coinbase.com"

// Defaults, documented in docs/inventory.md.
const (
	// DefaultRate is the ceiling of the client-wide request rate: none. The
	// WaaS limits are not published, and Coinbase's other APIs range from
	// under 3/s to 100/s, so the adaptive client finds the rate instead.
	DefaultRate = 0
	// DefaultConcurrency is how many list calls a fan-out runs at once: the
	// ceiling of the requests in flight, which the adaptive client keeps to
	// rate x latency below it.
	DefaultConcurrency = 64
	// DefaultPageSize is the largest page the sandbox serves. The real
	// API's maximum is not published: AIP-158 services coerce a larger value
	// to their maximum, and if one refuses it (400), listings fall back to
	// the documented default of 50 (see paginate).
	DefaultPageSize = 1000
	// DefaultMaxAttempts bounds the tries of one call, first one included.
	DefaultMaxAttempts = 10
	// MaxConcurrency bounds Options.Concurrency: a fan-out sizes its queue
	// by it, and no service wants more requests in flight from one client.
	MaxConcurrency = 1024
)

// Options configures a Client.
type Options struct {
	// Endpoint is the base URL: service S is at Endpoint/waas/S/v1.
	Endpoint   string
	Signer     *Signer
	HTTPClient *http.Client // nil: a client with a 60 s timeout
	UserAgent  string

	// Rate limits requests per second across the whole client, retries
	// included; 0 or less means unlimited. With Adaptive, it is the ceiling
	// the adaptation never exceeds.
	Rate float64
	// Concurrency bounds the list calls a fan-out runs at once; 0 means
	// DefaultConcurrency, more than MaxConcurrency means MaxConcurrency.
	// With Adaptive, it is the ceiling of the requests in flight, which
	// otherwise follow from the rate and the latency.
	Concurrency int
	// Adaptive finds the rate the service allows while running (see
	// pacer.go) instead of sending at Rate.
	Adaptive bool
	// Start is what an earlier run against the same service and key
	// learned, to start near; the zero value: start modestly.
	Start LearnedRate
	// OnRateChange, if set, is called (from any goroutine, one call at a
	// time) when the adaptive rate or concurrency changes.
	OnRateChange func(RateChange)
	// OnUnreachable, if set, is called once per client, when a call that got no HTTP answer
	// (a refused connection, a DNS failure, a timeout) is about to be retried for the first
	// time: retries go on, but a person should not wait through them in silence.
	OnUnreachable func(call string, err error, attempts int)
	// PageSize is asked of every list call; 0 means DefaultPageSize.
	PageSize int
	// MaxAttempts bounds the tries of one call; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the first retry's delay ceiling (full jitter, doubling up
	// to 32 times it); 0 means 100 ms.
	Backoff time.Duration
	// AllowInsecureHTTP lets Endpoint be plain http:// to a host that is not
	// loopback. Without it New refuses such an endpoint: every request
	// carries a bearer JWT, which anyone on the path could read and replay
	// within its lifetime.
	AllowInsecureHTTP bool
}

// Client calls the WaaS services. It is safe for concurrent use.
type Client struct {
	base        *url.URL
	signer      *Signer
	http        *http.Client
	ua          string
	limiter     *rate.Limiter // nil: unlimited, or adaptive
	pacer       *pacer        // nil: not adaptive
	pacing      chan struct{} // the turn to wait on the pacer (nextSlot)
	inflight    gate
	rate        float64 // the configured rate; the limiter backs off below it after a 429
	concurrency int
	pageSize    int
	maxAttempts int
	backoff     time.Duration
	stats       stats
	// onUnreachable is Options.OnUnreachable, called at most once (unreachableOnce).
	onUnreachable   func(call string, err error, attempts int)
	unreachableOnce sync.Once
	// pauseHook replaces the wait between retries in tests (retry_test.go), so that they see the
	// wait asked for instead of timing it with a wall clock.
	pauseHook func(ctx context.Context, d time.Duration) error
}

// New checks opts and returns a client.
func New(opts Options) (*Client, error) {
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	base, err := url.Parse(strings.TrimRight(opts.Endpoint, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want a base URL such as %s", textsafe.MaskPassword(opts.Endpoint), DefaultEndpoint)
	}
	if Cleartext(base) && !opts.AllowInsecureHTTP {
		return nil, &InsecureEndpointError{Endpoint: base.Redacted()}
	}
	if opts.Signer == nil {
		return nil, errors.New("no API key: a signer is required")
	}
	hc := opts.HTTPClient
	if hc == nil {
		// Keep a connection per lane alive between calls: Go's default of 2
		// idle connections per host would mean a new TLS handshake for most
		// calls of a fan-out.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 2 * min(max(opts.Concurrency, DefaultConcurrency), MaxConcurrency)
		hc = &http.Client{Timeout: 60 * time.Second, Transport: tr}
	}
	// A copy, so that the caller's client keeps its own policy.
	hcCopy := *hc
	hcCopy.CheckRedirect = refuseRedirect
	hc = &hcCopy
	c := &Client{
		base: base, signer: opts.Signer, http: hc, ua: opts.UserAgent,
		concurrency: opts.Concurrency, pageSize: opts.PageSize, maxAttempts: opts.MaxAttempts, backoff: opts.Backoff,
		onUnreachable: opts.OnUnreachable,
	}
	if c.ua == "" {
		c.ua = "waasctl"
	}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	c.concurrency = min(c.concurrency, MaxConcurrency)
	if opts.Adaptive {
		var mu sync.Mutex // one report at a time
		report := opts.OnRateChange
		if report != nil {
			report = func(rc RateChange) { mu.Lock(); defer mu.Unlock(); opts.OnRateChange(rc) }
		}
		c.pacer = newPacer(time.Now(), true, max(opts.Rate, 0), c.concurrency, opts.Start, report)
		c.pacing = make(chan struct{}, 1)
	} else if opts.Rate > 0 {
		// Burst 1 paces requests evenly, so a server-side bucket of the same
		// rate never sees a burst it would refuse.
		c.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
		c.rate = opts.Rate
	}
	if c.pageSize <= 0 {
		c.pageSize = DefaultPageSize
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.backoff <= 0 {
		c.backoff = 100 * time.Millisecond
	}
	return c, nil
}

// Cleartext says whether requests to base would cross the network
// unencrypted: plain http:// to a host other than loopback (127.0.0.0/8,
// ::1, localhost), where the sandbox listens.
func Cleartext(base *url.URL) bool {
	if !strings.EqualFold(base.Scheme, "http") {
		return false
	}
	host := base.Hostname()
	// Only "localhost" itself: Go's proxy bypass covers it and IP literals, not
	// *.localhost names, which go through DNS and HTTP_PROXY like any other.
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// InsecureEndpointError is New refusing a cleartext endpoint.
type InsecureEndpointError struct{ Endpoint string }

func (e *InsecureEndpointError) Error() string {
	return fmt.Sprintf("endpoint %s is not HTTPS; the API key's JWT would travel in clear: use https://, or --insecure-http if you really mean it", e.Endpoint)
}

// refuseRedirect follows no redirect. The WaaS API does not redirect, and
// following one could send the next request, with a fresh JWT bound to the
// old URL, over plain HTTP or to another host; Go drops Authorization on a
// cross-host redirect but not on a downgrade to http:// on the same host.
// The 3xx answer is returned as it is and becomes an APIError.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// KeyName is the name of the API key the client signs with.
func (c *Client) KeyName() string { return c.signer.KeyName() }

// KeyPublic is the public key of the API key the client signs with.
func (c *Client) KeyPublic() crypto.PublicKey { return c.signer.Public() }

// APIError is an error answer from the API. It names the call and the HTTP
// status; it never carries request headers, so never the JWT.
type APIError struct {
	Call       string // e.g. "ListPools"
	HTTPStatus int
	Code       waasapi.Code
	Message    string
	RetryAfter time.Duration // from a Retry-After header, if any
	Attempts   int           // tries made, this one included
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.HTTPStatus)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Call, e.HTTPStatus, msg)
}

// HTTPCode returns the HTTP status of an *APIError in err's chain, or 0.
func HTTPCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus
	}
	return 0
}

// endpoint addresses one REST method.
type endpoint struct {
	call     string // the RPC name, for errors
	audience string // the JWT aud
	prefix   string // "/waas/pools" or "/sandbox"
	// idempotent calls may be retried after an answer that does not prove
	// the server did nothing (a 500, a dropped connection): reads, and
	// writes that carry a requestId or a caller-chosen resource ID.
	idempotent bool
}

func waasEndpoint(call string, svc waasapi.Service) endpoint {
	return endpoint{call: call, audience: svc.Audience, prefix: "/waas/" + svc.Path, idempotent: true}
}

func sandboxEndpoint(call string) endpoint {
	return endpoint{call: call, audience: waasapi.KeyServiceAudience, prefix: "/sandbox", idempotent: true}
}

// unsafe marks a write that must not be repeated unless the server surely
// did not carry it out (a 429).
func (e endpoint) unsafe() endpoint {
	e.idempotent = false
	return e
}

// do sends one call to ep at prefix/v1/path and decodes the JSON answer
// into out, retrying what is worth retrying (see retry.go). Resource names go
// into the path as they are, slashes included, as the official client does.
func (c *Client) do(ctx context.Context, ep endpoint, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = c.base.Path + ep.prefix + "/v1/" + path
	u.RawQuery = query.Encode()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s: encode request: %w", ep.call, err)
		}
	}
	var r retryState
	for attempt := 1; ; attempt++ {
		data, err := c.attempt(ctx, ep, method, u.String(), payload)
		if err == nil {
			c.recovered()
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s: malformed answer: %w", ep.call, err)
			}
			return nil
		}
		wait, retry := c.shouldRetry(ep, err, &r)
		if deadline, ok := ctx.Deadline(); ok && retry && time.Until(deadline) < wait {
			retry = false // the wait would outlast the caller's deadline
		}
		if !retry {
			var ae *APIError
			if errors.As(err, &ae) {
				ae.Attempts = attempt
			}
			// A 429 that ends the call says what to do about it.
			switch {
			case ae == nil:
			case r.retryAfterTooLong:
				err = fmt.Errorf("%w (the service asks to wait %v: try again then)", err, ae.RetryAfter.Round(time.Second))
			case r.throttleSpent && ae.HTTPStatus == http.StatusTooManyRequests:
				return fmt.Errorf("%w (the service refused %d attempts over %v: try again later)", err, attempt, maxThrottleWait)
			case r.throttleSpent:
				return fmt.Errorf("%w (after %d attempts, the service asking to wait %v in all: try again later)", err, attempt, r.waitedInAll.Round(time.Second))
			}
			if attempt > 1 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		c.stats.retries.Add(1)
		if c.onUnreachable != nil && Unreachable(err) {
			c.unreachableOnce.Do(func() { c.onUnreachable(ep.call, err, c.maxAttempts) })
		}
		if err := c.pause(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", ep.call, err)
		}
	}
}

// pause waits d before a retry, or until ctx ends (its error is returned).
func (c *Client) pause(ctx context.Context, d time.Duration) error {
	if c.pauseHook != nil {
		return c.pauseHook(ctx, d)
	}
	return ctxwait.Sleep(ctx, d)
}

// attempt makes one HTTP request and returns the body of a 200 answer.
func (c *Client) attempt(ctx context.Context, ep endpoint, method, rawURL string, payload []byte) ([]byte, error) {
	var sl slot
	if c.pacer != nil {
		if err := c.inflight.acquire(ctx, c.pacer.concurrency()); err != nil {
			return nil, fmt.Errorf("%s: %w", ep.call, context.Cause(ctx))
		}
		defer func() { c.inflight.release(c.pacer.concurrency()) }()
		var err error
		if sl, err = c.nextSlot(ctx); err != nil {
			if errors.Is(err, errServiceRefusing) {
				return nil, fmt.Errorf("%s: %w", ep.call, err)
			}
			return nil, fmt.Errorf("%s: %w", ep.call, context.Cause(ctx))
		}
	} else if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", ep.call, context.Cause(ctx))
		}
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep.call, err)
	}
	// A fresh token per attempt: tokens live 60 s, and retries can outlast one.
	token, err := c.signer.Sign(ep.audience, method, req.URL.Host+req.URL.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: sign request: %w", ep.call, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	c.stats.requests.Add(1)
	sentAt := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", ep.call, ctx.Err())
		}
		return nil, &transportError{call: ep.call, err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", ep.call, ctx.Err())
		}
		return nil, &transportError{call: ep.call, err: fmt.Errorf("reading answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		err := decodeError(ep.call, resp, data)
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			c.stats.throttled.Add(1)
			if c.pacer != nil {
				c.pacer.throttled(sl, sentAt, time.Now(), err.RetryAfter)
			}
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			if c.pacer != nil {
				c.pacer.overloaded(sl, time.Now(), err.RetryAfter)
			}
		}
		if c.pacer != nil && err.RetryAfter == 0 {
			c.pacer.answeredWithoutWait()
		}
		return nil, err
	}
	if c.pacer != nil {
		c.pacer.answered(sl, sentAt, time.Now())
	}
	return data, nil
}

func decodeError(call string, resp *http.Response, data []byte) *APIError {
	e := &APIError{Call: call, HTTPStatus: resp.StatusCode}
	var st waasapi.Status
	if json.Unmarshal(data, &st) == nil {
		// The message is the server's text: a hostile or broken server must
		// not write escape sequences, line breaks or bidi overrides to the
		// operator's terminal, nor fill the screen.
		e.Code, e.Message = waasapi.Code(st.Code), textsafe.Message(st.Message)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		// Capped well below what a Duration holds: a hostile number of
		// seconds must not wrap round to a short or negative wait.
		const longest = 24 * time.Hour
		if secs, err := strconv.ParseUint(ra, 10, 64); err == nil {
			e.RetryAfter = time.Duration(min(secs, uint64(longest/time.Second))) * time.Second
		} else if secs, err := strconv.ParseFloat(ra, 64); err == nil {
			// No RFC allows a fraction, but servers send one: the wait
			// asked for, rounded up. A negative, NaN or infinite number is
			// no wait asked for.
			if secs > 0 && !math.IsInf(secs, 1) {
				e.RetryAfter = time.Duration(min(math.Ceil(secs), longest.Seconds())) * time.Second
			}
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = min(max(0, time.Until(t)), longest)
		}
	}
	return e
}

// scrubURLError keeps the operation and cause of a transport error but
// drops the URL's query, which could hold page tokens.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Endpoint is the base URL the client talks to.
func (c *Client) Endpoint() string { return c.base.String() }

// Organization is the organization of the client's key, from its name
// (organizations/{org}/apiKeys/{id}); empty for a bare CDP key id.
func (c *Client) Organization() string { return OrganizationOf(c.signer.KeyName()) }

// OrganizationOf is the organization in a key name
// (organizations/{org}/apiKeys/{id}); empty for a bare CDP key id.
func OrganizationOf(keyName string) string {
	rest, ok := strings.CutPrefix(keyName, "organizations/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(rest, "/")
	return org
}

// Concurrency is how many requests the client's fan-outs run at once.
func (c *Client) Concurrency() int { return c.concurrency }

// Adaptive says whether the client finds its rate as it runs.
func (c *Client) Adaptive() bool { return c.pacer != nil }

// RateNow is the adaptive rate and concurrency now, and why; the zero
// RateChange when the client is not adaptive.
func (c *Client) RateNow() RateChange {
	if c.pacer == nil {
		return RateChange{}
	}
	return c.pacer.current()
}

// LearnedRate is what this run learned of the service's rate, worth
// starting the next run near: the limit a 429 showed (or, with no 429, a
// higher one than it resumed at), or the rate reached with nothing
// limiting it (Unlimited); the zero value when it learned nothing new: the
// --rate ceiling held it, it resumed at a limit and stayed within it,
// nothing got through, or it did not adapt.
func (c *Client) LearnedRate() LearnedRate {
	if c.pacer == nil {
		return LearnedRate{}
	}
	return c.pacer.learned()
}

// errServiceRefusing ends a call still waiting for its turn when the service
// has answered every request with a Retry-After for MaxThrottleWait.
var errServiceRefusing = fmt.Errorf("the service has answered every request with a wait (Retry-After) for %v: try again later", MaxThrottleWait)

// nextSlot waits for the pacer's next send slot. One lane at a time waits
// on the pacer (the others queue for their turn), so that a slot every
// 1/rate wakes one goroutine, not every lane.
func (c *Client) nextSlot(ctx context.Context) (slot, error) {
	select {
	case c.pacing <- struct{}{}:
	case <-ctx.Done():
		return slot{}, ctx.Err()
	}
	defer func() { <-c.pacing }()
	for {
		now := time.Now()
		sl, askAgain, sooner, ok := c.pacer.take(now)
		if ok {
			return sl, nil
		}
		giveUp := c.pacer.refusedUntil(maxThrottleWait)
		if !giveUp.IsZero() {
			if !now.Before(giveUp) {
				return slot{}, errServiceRefusing
			}
			if giveUp.Before(askAgain) {
				askAgain = giveUp
			}
		}
		timer := time.NewTimer(time.Until(askAgain))
		select {
		case <-timer.C:
		case <-sooner:
			timer.Stop()
		case <-ctx.Done():
			timer.Stop()
			return slot{}, ctx.Err()
		}
	}
}
