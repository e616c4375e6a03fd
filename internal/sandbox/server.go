// Package sandbox emulates the Coinbase WaaS REST API closely enough that
// the official Go client (waas-client-library-go v1.0.8) works against it
// unmodified, with real JWT authentication. It also emulates the part of the
// real world that lives in the Coinbase developer portal: an API to create,
// list and revoke API keys. Latency, rate limits and faults can be injected.
//
// It is for tests, CI and newcomers without a Coinbase account; see
// docs/sandbox.md for what it emulates and what it does not.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// Config configures a Server.
type Config struct {
	// Seed and Shape describe the deterministic estate the seeded
	// organization starts with. Ignored when StatePath holds a saved state.
	Seed  int64
	Shape EstateShape

	Latency   time.Duration // added to every request
	RateLimit RateLimit     // zero: unlimited
	// RateLimits are more limits, all enforced at once with RateLimit.
	RateLimits []RateLimit
	FaultRate  float64 // probability of an injected fault per request

	// RevocationDelay is how many more requests a revoked key authenticates,
	// as WaaS takes a while to propagate a revocation. It is counted in
	// requests, not time, so that a test of the retry needs no clock.
	RevocationDelay int

	// StatePath, if set, is where the estate and the API keys are loaded
	// from at start and saved to while running and at Close.
	StatePath string

	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// Server is the WaaS emulator. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	verifier jwtVerifier
	nonces   nonceCache
	limits   *limiterSet
	routes   map[string][]route // by service path ("pools", ..., "sandbox")

	faultRate atomic.Uint64 // math.Float64bits of the fault probability; see SetFaultRate
	faultMu   sync.Mutex
	faultRNG  *mrand.Rand
	failNext  map[string][]fault // route key -> faults the next requests get; see FailNext
	counts    map[string]int     // route key -> requests; see RequestCounts

	mu    sync.RWMutex // guards state
	state *persistent
	dirty atomic.Bool

	saveMu   sync.Mutex // serializes saves
	stopSave chan struct{}
	saveDone chan struct{}
	closed   sync.Once
}

// persistent is everything the sandbox saves with --state.
type persistent struct {
	Version     int
	TokenSecret []byte
	DefaultOrg  string
	Orgs        map[string]*estate
	Keys        map[string]*keyRecord // by key ID
	// Nonces are the JWT nonces already used whose tokens have not expired
	// (key name + NUL + nonce -> expiry, skew included), so that a token
	// used before a restart is still refused after it. Written by Save from
	// the live nonceCache; a state saved before nonces were kept has none.
	Nonces map[string]time.Time
}

// New builds a server, loading StatePath if it exists and seeding the
// estate otherwise.
func New(cfg Config) (*Server, error) {
	if cfg.FaultRate < 0 || cfg.FaultRate > 1 {
		return nil, fmt.Errorf("fault rate %v: must be between 0 and 1", cfg.FaultRate)
	}
	if cfg.Latency < 0 {
		return nil, fmt.Errorf("latency %v: must not be negative", cfg.Latency)
	}
	if cfg.RevocationDelay < 0 {
		return nil, fmt.Errorf("revocation delay %d: must not be negative", cfg.RevocationDelay)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.verifier = newJWTVerifier(s.now)
	var limits []RateLimit
	for _, rl := range append([]RateLimit{cfg.RateLimit}, cfg.RateLimits...) {
		if rl.N == 0 {
			continue
		}
		if rl.N < 0 || rl.Per <= 0 || rl.Burst < 0 || rl.Penalty < 0 {
			return nil, fmt.Errorf("rate limit %s: N, PERIOD, burst and penalty must be positive", rl)
		}
		limits = append(limits, rl)
	}
	s.limits = newLimiterSet(limits, s.now())
	s.faultRNG = mrand.New(mrand.NewPCG(uint64(cfg.Seed), 0x5eed))
	s.faultRate.Store(math.Float64bits(cfg.FaultRate))
	s.routes = s.buildRoutes()

	loaded := false
	if cfg.StatePath != "" {
		st, err := loadState(cfg.StatePath)
		switch {
		case err == nil:
			s.state, loaded = st, true
		case !errors.Is(err, errNoState):
			return nil, err
		}
	}
	if !loaded {
		s.state = &persistent{Version: stateVersion, Orgs: map[string]*estate{}, Keys: map[string]*keyRecord{}}
		s.state.TokenSecret = make([]byte, 32)
		_, _ = rand.Read(s.state.TokenSecret)
		s.state.DefaultOrg = SeedOrg(cfg.Seed)
		es := newEstate(s.state.DefaultOrg)
		seedEstate(es, cfg.Seed, cfg.Shape)
		s.state.Orgs[es.Org] = es
		s.dirty.Store(true)
	}
	for _, k := range s.state.Keys {
		if err := k.restore(); err != nil {
			return nil, fmt.Errorf("state %s: %w", cfg.StatePath, err)
		}
	}
	s.nonces.restore(s.state.Nonces, s.now())
	if loaded {
		// nbf is whole seconds: tokens made from the next second on are this
		// run's. Serving waits for it (under a second), so none is refused.
		s.verifier.notBefore = s.now().Truncate(time.Second).Add(time.Second)
		if d := s.verifier.notBefore.Sub(s.now()); d > 0 && d <= time.Second {
			time.Sleep(d)
		}
	}
	if cfg.StatePath != "" {
		s.stopSave, s.saveDone = make(chan struct{}), make(chan struct{})
		go s.saveLoop()
	}
	return s, nil
}

// SetFaultRate changes the probability of an injected fault per request
// while the server runs, e.g. to plant resources cleanly and then turn
// faults on. Requests already past fault injection are not affected. It
// panics unless 0 <= p <= 1, as New refuses such a rate.
func (s *Server) SetFaultRate(p float64) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("sandbox: fault rate %v: must be between 0 and 1", p))
	}
	s.faultRate.Store(math.Float64bits(p))
}

// DefaultOrg is the organization that owns the seeded estate.
func (s *Server) DefaultOrg() string { return s.state.DefaultOrg }

// Stats counts the resources of org.
func (s *Server) Stats(org string) waasapi.EstateStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if es := s.state.Orgs[org]; es != nil {
		st := es.Stats
		st.Pools = len(es.PoolOrder)
		return st
	}
	return waasapi.EstateStats{}
}

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully. ready is called with the base URL once the listener is up.
// Addresses that are not loopback are refused unless allowRemote is set:
// the sandbox accepts keys anyone can mint and must not be reachable.
func (s *Server) ListenAndServe(ctx context.Context, addr string, allowRemote bool, ready func(baseURL string)) error {
	if !allowRemote {
		if err := CheckLoopback(addr); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(BaseURL(ln.Addr()))
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	return nil
}

// BaseURL is the sandbox's base URL for a listener address.
func BaseURL(a net.Addr) string { return "http://" + a.String() }

// CheckLoopback refuses an address that is not on loopback.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	refuse := fmt.Errorf("refusing to listen on %q: not a loopback address (the sandbox accepts keys anyone can mint); use 127.0.0.1 or pass --allow-remote", addr)
	if host == "" {
		return refuse
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return refuse
	}
	return nil
}

// Close stops background saving and saves the state one last time.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		if s.stopSave != nil {
			close(s.stopSave)
			<-s.saveDone
			err = s.Save()
		}
	})
	return err
}

// ServeHTTP runs the request pipeline: route, latency, rate limit, fault
// injection, authentication, then the handler under the estate lock. With
// debug logging on, each request is logged: method, path, status, time;
// never a header, so never a token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.serve(w, r)
		return
	}
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
	}()
	s.serve(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection to drop it.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Latency > 0 {
		t := time.NewTimer(s.cfg.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	// An unknown path is 404 whatever the token, as a gateway routes first.
	rt, name, _, ok := s.match(r)
	if !ok {
		s.writeError(w, errorf(waasapi.NotFound, "no API method at %s %s", r.Method, r.URL.Path))
		return
	}
	planted := s.countRequest(rt.key)
	if !rt.control {
		var keyName, org string
		if k := s.claimedKey(r); k != nil {
			keyName, org = k.name(), k.Org
		}
		if ref := s.limits.admit(keyName, org, s.now()); ref != nil {
			w.Header().Set("Retry-After", retryAfterSeconds(ref.wait))
			what := "rate limit"
			if ref.limit.Penalty > 0 {
				what = "penalty box of rate limit"
			}
			s.writeError(w, errorf(waasapi.ResourceExhausted, "%s %s exceeded; retry after %s", what, ref.limit, ref.wait.Round(time.Millisecond)))
			return
		}
		f := planted
		if f == faultNone {
			f = s.pickFault(r.Method)
		}
		switch f {
		case faultInternal:
			s.writeError(w, errorf(waasapi.Internal, "injected fault: internal error"))
			return
		case faultUnavailable:
			s.writeError(w, errorf(waasapi.Unavailable, "injected fault: service unavailable"))
			return
		case faultDropBefore:
			s.log.Debug("injected fault: connection dropped before handling", "method", r.Method, "path", r.URL.Path)
			dropConnection(w)
			return
		case faultDropAfter:
			s.log.Debug("injected fault: connection dropped after handling (the change is made, its answer lost)", "method", r.Method, "path", r.URL.Path)
			defer dropConnection(w)
			w = discardWriter{w.Header()}
		}
	}
	key, err := s.authenticate(r, rt.audience)
	if err != nil {
		s.writeError(w, err)
		return
	}
	c := &call{s: s, r: r, key: key, name: name, query: r.URL.Query(), now: s.now()}
	if rt.write {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.dirty.Store(true)
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	c.es = s.state.Orgs[key.Org]
	if c.es == nil {
		if rt.write {
			c.es = newEstate(key.Org)
			s.state.Orgs[key.Org] = c.es
		} else {
			c.es = newEstate(key.Org) // empty, not kept: reads create nothing
		}
	}
	out, err := rt.handle(c)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

type fault int

const (
	faultNone fault = iota
	faultInternal
	faultUnavailable
	faultDropBefore
	faultDropAfter // the request is carried out, then its answer is lost
)

// pickFault draws the fault for one request: 500, 503, a dropped connection
// before the request is handled, or (for requests that change something) a
// dropped connection after it was carried out, in equal shares.
func (s *Server) pickFault(method string) fault {
	p := math.Float64frombits(s.faultRate.Load())
	if p <= 0 {
		return faultNone
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.faultRNG.Float64() >= p {
		return faultNone
	}
	f := fault(1 + s.faultRNG.IntN(4))
	if f == faultDropAfter && method == http.MethodGet {
		f = faultDropBefore
	}
	return f
}

func dropConnection(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a test recorder: abort the stream instead
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, as a crashed server or a broken proxy gives
	}
	_ = conn.Close()
}

// discardWriter swallows the answer of a request whose connection is dropped
// after the handler ran.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("marshal response", "err", err)
		code, body = http.StatusInternalServerError, []byte(`{"code":13,"message":"internal error","details":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	var re *rpcError
	if !errors.As(err, &re) {
		var ae *authError
		if errors.As(err, &ae) {
			re = errorf(waasapi.Unauthenticated, "%s", ae.Error())
		} else {
			s.log.Error("handler failed", "err", err)
			re = errorf(waasapi.Internal, "internal error")
		}
	}
	s.writeJSON(w, re.code.HTTPStatus(), re.status())
}

// call is one request on its way through a handler.
type call struct {
	s     *Server
	r     *http.Request
	es    *estate
	key   *keyRecord
	name  string // the matched resource path, without the :verb
	query url.Values
	now   time.Time
}

// decode reads the JSON body into v. Unknown fields are ignored and an empty
// body is an empty message, as grpc-gateway does.
func (c *call) decode(v any) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 4<<20))
	if err != nil {
		return invalidArg("reading request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalidArg("invalid JSON body: %v", err)
	}
	return nil
}

// A requestId makes a create idempotent (AIP-155): the first answer is
// remembered, per method, resource path and requestId, and a repeat gets it
// back. Handlers look for a replay before validating anything, since the
// first request may have changed what validation sees (the device group it
// created now "already exists").

func (c *call) requestKey(method, requestID string) string {
	return method + "\x00" + c.name + "\x00" + requestID
}

// replay returns the remembered answer to an earlier identical request.
func (c *call) replay(method, requestID string) (any, bool) {
	if requestID == "" {
		return nil, false
	}
	prev, ok := c.es.Requests[c.requestKey(method, requestID)]
	return json.RawMessage(prev), ok
}

// idempotent runs create and, if the request carries a requestId,
// remembers the answer for replay.
func (c *call) idempotent(method, requestID string, create func() (any, error)) (any, error) {
	out, err := create()
	if err != nil || requestID == "" {
		return out, err
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	c.es.Requests[c.requestKey(method, requestID)] = body
	return json.RawMessage(body), nil
}
