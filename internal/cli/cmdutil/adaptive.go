package cmdutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waasctl/waasctl/internal/config"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/fsutil"
	"github.com/waasctl/waasctl/internal/waas"
)

// The adaptive rate (internal/waas, pacer.go) is reported here: with -v, a
// line on stderr at each change of rate or concurrency and a summary at the
// end; on a terminal, the progress line shows the current rate and its
// cause. The rate it learned is remembered in the state folder, per
// endpoint and organisation (rateScope), so that the next run starts near
// it.

// ratesFile is the state folder's file of learned rates.
const ratesFile = "rates.json"

// maxRatesFile caps the read of ratesFile: a few hundred bytes per
// endpoint and organisation.
const maxRatesFile = 1 << 20

// learnedRates is ratesFile: by endpoint + " " + scope (rateScope).
type learnedRates struct {
	Rates map[string]learnedRate `json:"rates"`
}

type learnedRate struct {
	Rate float64 `json:"rate"`
	// Unlimited: nothing limited the run that learned Rate; the next run
	// slow-starts from a share of it rather than resuming at it.
	Unlimited bool `json:"unlimited,omitempty"`
	// PenaltyCap: the service has a penalty box, whose limit (less a
	// margin) a run found closely; no run goes above it.
	PenaltyCap float64   `json:"penalty_cap,omitempty"`
	Updated    time.Time `json:"updated"`
}

// learnedRateMaxAge is how long a learned rate is trusted: a service's
// limits, or the other clients sharing them, change.
const learnedRateMaxAge = 7 * 24 * time.Hour

// rateScope is what a rate is remembered for at an endpoint: the key's
// organisation ("organizations/{org}"), as a service's limit may be the
// organisation's (Prime's is per portfolio; the sandbox's scope=org), and
// where it is per key, every key of the organisation has the same one: a
// second key then starts from what the first learned, and a 429 learned
// under one is not forgotten by the other. A key whose name has no
// organisation (a bare CDP key id) keeps its own, by fingerprint. legacy
// is what rates.json keyed the rate by before (the key's fingerprint),
// still read when the scope has nothing, and dropped once the scope is
// written.
func rateScope(key *credentials.APIKey) (scope, legacy string) {
	legacy = credentials.Fingerprint(key.Signer.Public())
	if org := waas.OrganizationOf(key.Name); org != "" {
		// A UUID, read without regard to case.
		return "organizations/" + strings.ToLower(org), legacy
	}
	return legacy, legacy
}

// rateKey keys a rate by the service, not by how its URL was typed: no
// user or password, query or fragment (never written to the state folder;
// the client sends no query of the endpoint's), no trailing slash, scheme
// and host in lower case.
func rateKey(endpoint, scope string) string {
	if u, err := url.Parse(endpoint); err == nil {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = strings.TrimRight(u.RawPath, "/")
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		endpoint = u.String()
	}
	return endpoint + " " + scope
}

// fresh says whether a rate learned at updated is still trusted at now:
// less than learnedRateMaxAge old, and not dated ahead of now by more than
// a clock's drift (a hand-edited date years ahead would be trusted, and
// kept, for ever).
func fresh(updated, now time.Time) bool {
	age := now.Sub(updated)
	return age > -time.Hour && age < learnedRateMaxAge
}

// learnedRateFor is the rate rates holds for endpoint and scope, or else
// for endpoint and legacy (a file written before rates were kept per
// organisation), if it is still trusted at now.
func learnedRateFor(rates learnedRates, endpoint, scope, legacy string, now time.Time) (waas.LearnedRate, bool) {
	lr, ok := rates.Rates[rateKey(endpoint, scope)]
	if !ok || !fresh(lr.Updated, now) {
		lr, ok = rates.Rates[rateKey(endpoint, legacy)]
	}
	if !ok || !fresh(lr.Updated, now) {
		return waas.LearnedRate{}, false
	}
	return waas.LearnedRate{Rate: lr.Rate, Unlimited: lr.Unlimited, PenaltyCap: lr.PenaltyCap}, true
}

// loadLearnedRates reads ratesFile; a missing file is empty, and a bad one
// is ignored with a warning on warn.
func loadLearnedRates(ctx context.Context, warn io.Writer) learnedRates {
	out := learnedRates{Rates: map[string]learnedRate{}}
	dir, err := config.StateDir()
	if err != nil {
		return out
	}
	path := filepath.Join(dir, ratesFile)
	// Only a regular file: opening a FIFO waits for a writer, for good.
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out
	}
	var data []byte
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		data, err = fsutil.ReadFile(ctx, path, "learned rates", maxRatesFile)
	}
	var lr learnedRates
	if err == nil {
		err = json.Unmarshal(data, &lr)
	}
	if err != nil {
		fmt.Fprintf(warn, "warning: ignoring %s (%v); the rate will be found again\n", path, err)
		return out
	}
	for k, v := range lr.Rates {
		if v.Rate > 0 && !math.IsInf(v.Rate, 0) && !math.IsNaN(v.Rate) {
			out.Rates[k] = v
		}
	}
	return out
}

// ratesLockTimeout bounds the wait for another waasctl finishing at the
// same time to write ratesFile.
const ratesLockTimeout = 5 * time.Second

// saveLearnedRate records rate, learned by a run that started at started,
// for endpoint and scope in ratesFile, written whole and atomically, 0600
// in a 0700 folder; the legacy entry of the same key, if any, is dropped:
// the scope's entry takes its place.
func saveLearnedRate(ctx context.Context, endpoint, scope, legacy string, rate waas.LearnedRate, started, now time.Time) error {
	dir, err := config.StateDir()
	if err != nil {
		return err
	}
	if err := fsutil.MkdirPrivate(dir); err != nil {
		return err
	}
	// Read and write under a lock beside the file: commands finishing at
	// once (two shells, a script's loop) would otherwise each write back
	// the file as they read it, and lose the others' rates.
	unlock, err := fsutil.Lock(filepath.Join(dir, ratesFile+".lock"), true, ratesLockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	lr := loadLearnedRates(ctx, io.Discard)
	key := rateKey(endpoint, scope)
	if old, ok := lr.Rates[key]; ok && rate.Unlimited && !old.Unlimited && old.Updated.After(started) {
		// Another run (with this key or another of its organisation)
		// learned a limit from 429s while this one ran: this one met none
		// (it was short, or the other left it room), which does not show
		// the service unlimited.
		return nil
	}
	lr.Rates[key] = learnedRate{Rate: rate.Rate, Unlimited: rate.Unlimited, PenaltyCap: rate.PenaltyCap, Updated: now.UTC()}
	if legacy != scope {
		delete(lr.Rates, rateKey(endpoint, legacy))
	}
	for k, v := range lr.Rates {
		if !fresh(v.Updated, now) {
			delete(lr.Rates, k)
		}
	}
	data, err := json.MarshalIndent(lr, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, ratesFile), append(data, '\n'), 0o600)
}

// rateStatus is the current rate and its cause, for the progress line.
var rateStatus atomic.Pointer[string]

// describeRate is a rate change as the progress line and -v show it.
func describeRate(rc waas.RateChange) string {
	return rc.RateString() + ", " + rc.Cause
}

// adaptiveClients are the adaptive clients this run built, to remember
// their rate and summarise them at the end (FinishRun).
type adaptiveClients struct {
	mu      sync.Mutex
	clients []adaptiveClient
	// warned: a bad rates.json was said once already (keys check builds a
	// client per profile, and each read it).
	warned bool
}

type adaptiveClient struct {
	client        *waas.Client
	endpoint      string
	scope, legacy string // rateScope
	started       time.Time
}

// adaptiveOptions fills in opts for an adaptive client of key at endpoint,
// unless --no-adapt or the profile's no_adapt turns adaptation off.
func (f *Factory) adaptiveOptions(ctx context.Context, opts *waas.Options, key *credentials.APIKey, noAdapt bool) {
	if noAdapt {
		return
	}
	opts.Adaptive = true
	scope, legacy := rateScope(key)
	var warning strings.Builder
	rates := loadLearnedRates(ctx, &warning)
	f.adaptive.mu.Lock()
	if warning.Len() > 0 && !f.adaptive.warned {
		f.adaptive.warned = true
		fmt.Fprint(f.IOStreams.ErrOut, warning.String())
	}
	f.adaptive.mu.Unlock()
	if lr, ok := learnedRateFor(rates, opts.Endpoint, scope, legacy, time.Now()); ok {
		opts.Start = lr
	}
	verbose, errOut := f.Verbose, f.IOStreams.ErrOut
	opts.OnRateChange = func(rc waas.RateChange) {
		s := describeRate(rc)
		rateStatus.Store(&s)
		if verbose {
			fmt.Fprintf(errOut, "waasctl: %s\n", rc)
		}
	}
}

func (f *Factory) trackAdaptive(c *waas.Client, endpoint string, key *credentials.APIKey) {
	if !c.Adaptive() {
		return
	}
	f.adaptive.mu.Lock()
	defer f.adaptive.mu.Unlock()
	scope, legacy := rateScope(key)
	f.adaptive.clients = append(f.adaptive.clients, adaptiveClient{client: c, endpoint: endpoint, scope: scope, legacy: legacy, started: time.Now()})
}

// FinishRun remembers the rate each adaptive client learned and, with -v,
// prints a summary line for each. Run calls it once the command is done.
func (f *Factory) FinishRun(ctx context.Context) {
	f.adaptive.mu.Lock()
	clients := f.adaptive.clients
	f.adaptive.clients = nil
	f.adaptive.mu.Unlock()
	for _, ac := range clients {
		st, rc := ac.client.Stats(), ac.client.RateNow()
		if f.Verbose && st.Requests > 0 {
			share := 100 * float64(st.Throttled) / float64(st.Requests)
			fmt.Fprintf(f.IOStreams.ErrOut, "waasctl: %d requests, %d answered 429 (%.1f%%); rate at the end %s, concurrency %d\n",
				st.Requests, st.Throttled, share, describeRate(rc), rc.Concurrency)
		}
		if r := ac.client.LearnedRate(); r.Rate > 0 {
			if err := saveLearnedRate(ctx, ac.endpoint, ac.scope, ac.legacy, r, ac.started, time.Now()); err != nil {
				fmt.Fprintf(f.IOStreams.ErrOut, "warning: could not remember the rate learned: %v\n", err)
			}
		}
	}
}
