package waas

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// A server error that says when to come back (Retry-After: 4) is retried no sooner than that,
// and each server error the client treats as passing (500, 502, 503, 504) is retried on a list
// call (idempotent), which then succeeds on its second request.
func TestServerErrorsAreRetriedAndTheirRetryAfterHonoured(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if requests.Add(1) == 1 {
					w.Header().Set("Retry-After", "4")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"code": 14, "message": "try later"}`))
					return
				}
				_, _ = w.Write([]byte(`{"pools": []}`))
			}))
			t.Cleanup(srv.Close)
			c, err := New(Options{Endpoint: srv.URL, Signer: newSigner(t, newP256(t), FormWaaS), Backoff: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			waits := recordPauses(c)
			if _, err := c.ListPools(testContext(t), PageRequest{}); err != nil {
				t.Fatalf("HTTP %d then success: %v", status, err)
			}
			if n := requests.Load(); n != 2 {
				t.Fatalf("%d requests, want the failed one and one retry", n)
			}
			if got := waits(); len(got) != 1 || got[0] < 4*time.Second {
				t.Fatalf("waited %v before retrying, want one wait of at least 4 s (Retry-After: 4)", got)
			}
		})
	}
}
