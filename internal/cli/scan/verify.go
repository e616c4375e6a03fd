package scan

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/textsafe"
	"github.com/waasctl/waasctl/internal/waas"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Bounds of --verify (docs/scan.md): a server that does not answer, answers slowly or answers
// forever cannot hold the scan up for longer than this.
const (
	// verifyPerKey is the deadline of one key's check, retries included.
	verifyPerKey = 10 * time.Second
	// verifyBudget is the time all checks of one scan may take together, from the first; a key
	// met after it is spent is "unknown" without a request.
	verifyBudget = 30 * time.Second
)

// Verified values. Only the API's own answers for a pool that does not exist (404 NOT_FOUND,
// as a JSON status) and for a key it refuses (401 UNAUTHENTICATED) decide; anything else, a
// bare 404 of a wrong server or a proxy included, is unknown.
const (
	verifiedAuthenticates = "authenticates"
	verifiedRejected      = "rejected"
)

// verifier asks WaaS whether keys authenticate, within verifyPerKey each and verifyBudget in all.
type verifier struct {
	client func(keyName string, key crypto.Signer) (*waas.Client, error)
	perKey time.Duration
	budget time.Duration

	once     sync.Once
	deadline time.Time
}

func newVerifier(f *cmdutil.Factory) *verifier {
	return &verifier{
		client: func(keyName string, key crypto.Signer) (*waas.Client, error) {
			endpoint := f.Endpoint
			if endpoint == "" {
				endpoint = waas.DefaultEndpoint
			}
			return cmdutil.ClientForKey(&credentials.APIKey{Name: keyName, Signer: key}, f.Profile, endpoint, f)
		},
		perKey: verifyPerKey, budget: verifyBudget,
	}
}

// verify checks one key with a read that changes nothing: GetPool of a pool that cannot exist.
func (v *verifier) verify(ctx context.Context, keyName string, key crypto.Signer) string {
	v.once.Do(func() { v.deadline = time.Now().Add(v.budget) })
	if !time.Now().Before(v.deadline) {
		return fmt.Sprintf("unknown: not checked, --verify's %s were spent", v.budget)
	}
	ctx, cancel := context.WithDeadline(ctx, minTime(v.deadline, time.Now().Add(v.perKey)))
	defer cancel()
	c, err := v.client(keyName, key)
	if err != nil {
		return "not checked: " + textsafe.Message(err.Error())
	}
	_, err = c.GetPool(ctx, "pools/"+uuid.NewString())
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil && err != nil {
		return fmt.Sprintf("unknown: no answer within %s", min(v.perKey, v.budget))
	}
	return verdict(err)
}

// verdict reads GetPool's answer for a random pool name.
func verdict(err error) string {
	var apiErr *waas.APIError
	switch {
	case err == nil:
		return "unknown: the server returned a pool that cannot exist (not the WaaS API?)"
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound && apiErr.Code == waasapi.NotFound:
		return verifiedAuthenticates
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusUnauthorized && apiErr.Code == waasapi.Unauthenticated:
		return verifiedRejected
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound:
		return "unknown: HTTP 404 without the API's NOT_FOUND status (not the WaaS API?)"
	}
	return "unknown: " + textsafe.Message(err.Error())
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
