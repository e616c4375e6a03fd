package sandbox

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Fault is a fault FailNext plants.
type Fault int

// The faults FailNext plants: the same kinds --fault-rate draws from.
const (
	FaultInternal    Fault = Fault(faultInternal)    // 500 INTERNAL
	FaultUnavailable Fault = Fault(faultUnavailable) // 503 UNAVAILABLE
	FaultDrop        Fault = Fault(faultDropBefore)  // the connection reset before the request is handled
)

// FailNext makes the next n requests to route fail with f, before they are
// authenticated or handled, whatever the fault rate. route is "METHOD
// /path/pattern" as RequestCounts and Routes spell it, e.g. "GET
// /waas/pools/v1/pools". Faults planted on a route add up. The sandbox's
// control calls cannot be failed.
func (s *Server) FailNext(route string, n int, f Fault) error {
	if n < 0 || f < FaultInternal || f > FaultDrop {
		return fmt.Errorf("sandbox: FailNext(%q, %d, %d): want n >= 0 and a Fault", route, n, f)
	}
	rt, ok := s.routeByKey(route)
	if !ok {
		return fmt.Errorf("sandbox: no route %q; Routes lists them", route)
	}
	if rt.control {
		return fmt.Errorf("sandbox: %q is a control call: it gets no faults", route)
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.failNext == nil {
		s.failNext = map[string][]fault{}
	}
	for range n {
		s.failNext[route] = append(s.failNext[route], fault(f))
	}
	return nil
}

// RequestCounts returns how many requests each route was sent since the
// server started (or since ResetRequestCounts), by "METHOD /path/pattern":
// every request that named a route, those refused by the rate limit, a fault
// or authentication included. Tests assert them so that a change that makes
// more calls than it should fails.
func (s *Server) RequestCounts() map[string]int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return maps.Clone(s.counts)
}

// ResetRequestCounts sets every route's count back to 0, e.g. after a test's setup.
func (s *Server) ResetRequestCounts() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.counts = nil
}

// Routes lists every route as "METHOD /path/pattern", sorted.
func (s *Server) Routes() []string {
	var out []string
	for _, rts := range s.routes {
		for _, rt := range rts {
			out = append(out, rt.key)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Server) routeByKey(key string) (route, bool) {
	method, path, _ := strings.Cut(key, " ")
	for _, rts := range s.routes {
		for _, rt := range rts {
			if rt.key == method+" "+path {
				return rt, true
			}
		}
	}
	return route{}, false
}

// countRequest counts a request to the route with key and takes the next
// fault planted on it, if any.
func (s *Server) countRequest(key string) fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[key]++
	planted := s.failNext[key]
	if len(planted) == 0 {
		return faultNone
	}
	s.failNext[key] = planted[1:]
	return planted[0]
}
