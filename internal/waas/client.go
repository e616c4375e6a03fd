// Package waas is waasctl's client for the Coinbase WaaS REST API (and for
// the sandbox's key-admin API, which stands in for the developer portal).
// It signs every request with a fresh JWT the way the official client does.
// It never prints and never puts key material in an error.
package waas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// DefaultEndpoint is the production base URL; services live below /waas/.
const DefaultEndpoint = "https://api.developer.coinbase.com"

// Options configures a Client.
type Options struct {
	// Endpoint is the base URL: service S is at Endpoint/waas/S/v1.
	Endpoint   string
	Signer     *Signer
	HTTPClient *http.Client // nil: a client with a 60 s timeout
	UserAgent  string
}

// Client calls the WaaS services. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	signer *Signer
	http   *http.Client
	ua     string
}

// New checks opts and returns a client.
func New(opts Options) (*Client, error) {
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	base, err := url.Parse(strings.TrimRight(opts.Endpoint, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want a base URL such as %s", opts.Endpoint, DefaultEndpoint)
	}
	if opts.Signer == nil {
		return nil, errors.New("no API key: a signer is required")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "waasctl"
	}
	return &Client{base: base, signer: opts.Signer, http: hc, ua: ua}, nil
}

// KeyName is the name of the API key the client signs with.
func (c *Client) KeyName() string { return c.signer.KeyName() }

// APIError is an error answer from the API. It names the call and the HTTP
// status; it never carries request headers, so never the JWT.
type APIError struct {
	Call       string // e.g. "ListPools"
	HTTPStatus int
	Code       waasapi.Code
	Message    string
	RetryAfter time.Duration // from a Retry-After header, if any
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
}

func waasEndpoint(call string, svc waasapi.Service) endpoint {
	return endpoint{call: call, audience: svc.Audience, prefix: "/waas/" + svc.Path}
}

func sandboxEndpoint(call string) endpoint {
	return endpoint{call: call, audience: waasapi.KeyServiceAudience, prefix: "/sandbox"}
}

// do sends one request to ep at prefix/v1/path and decodes the JSON answer
// into out. Resource names go into the path as they are, slashes included,
// as the official client does.
func (c *Client) do(ctx context.Context, ep endpoint, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = c.base.Path + ep.prefix + "/v1/" + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encode request: %w", ep.call, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s: %w", ep.call, err)
	}
	token, err := c.signer.Sign(ep.audience, method, req.URL.Host+req.URL.Path)
	if err != nil {
		return fmt.Errorf("%s: sign request: %w", ep.call, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", ep.call, ctx.Err())
		}
		return fmt.Errorf("%s: %w", ep.call, scrubURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", ep.call, err)
	}
	if resp.StatusCode != http.StatusOK {
		return decodeError(ep.call, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: malformed answer: %w", ep.call, err)
	}
	return nil
}

func decodeError(call string, resp *http.Response, data []byte) error {
	e := &APIError{Call: call, HTTPStatus: resp.StatusCode}
	var st waasapi.Status
	if json.Unmarshal(data, &st) == nil {
		e.Code, e.Message = waasapi.Code(st.Code), st.Message
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(0, time.Until(t))
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
