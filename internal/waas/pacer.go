package waas

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// WaaS publishes no rate limit, and Coinbase's other APIs show how widely
// such limits vary (under 3/s to 100/s, with bursts and penalty boxes). The
// pacer finds the rate a service allows while it runs, as the AWS SDKs'
// adaptive retry mode and TCP congestion control do:
//
//   - It starts modestly and, while answers are clean and latency flat,
//     grows as TCP's slow start does, a little slower: each clean answer
//     adds 0.7/latency to the rate, so the rate grows about 1.7 times every
//     round trip (doubling overshoots a burst allowance too far before the
//     first 429 comes back). A run that nothing limited is remembered too,
//     and the next one slow-starts from an eighth of the rate it reached;
//     a run that resumed at a limit learned from 429s and met none keeps
//     that limit (learned).
//   - A 429 ends slow start and cuts the rate multiplicatively, to what the
//     service was seen to deliver; growth then follows a cubic curve (CUBIC,
//     as the AWS SDKs use): back to the rate of the 429 within a few
//     seconds, a long plateau there, then probing above it.
//   - Latency well above the smallest seen (queueing, before any error)
//     also ends slow start and cuts the rate a little (Netflix's
//     concurrency-limits' gradient), never below the starting rate.
//   - 502, 503 and 504 answers (an overloaded service) cut the rate
//     multiplicatively too, from the second in a row (one alone is a
//     blip), once per round of them, never below where a cold start
//     begins: a struggling service is not hammered, and an outage does not
//     starve the run once it is over.
//   - Retry-After, on a 429 or on a 502, 503 or 504, pauses every lane at
//     once.
//   - A long Retry-After is a penalty box: the rate is then capped below
//     what got through in the box's window, for the rest of the run, so the
//     box is entered once. Where that window began is taken to be a second
//     of the clock (or the box's windows slide, or start at the first
//     request); if the box is entered again, that was wrong, and the cap
//     falls to what holds wherever its windows begin, so never a third time
//     for a box of a second's windows that this run alone fills; past that
//     (longer windows, a box shared), each entry cuts the cap by 30%.
//   - Concurrency follows from the rate and the latency (Little's law), with
//     headroom, bounded by the ceiling the caller gives.
//
// Requests are evenly spaced, 1/rate apart (a token bucket of burst 1, as
// GCRA keeps it: the time the next one may go), so that at most N+1 arrive
// in any second while the rate is at most N. A slot is taken when it is
// due, not booked ahead: in slow start a slot booked 1/rate ahead would go
// at the rate of a round trip before. golang.org/x/time/rate is not
// used for this: its reservations are token debt, which a raised limit
// repays faster, so requests reserved before a raise and after it can
// overlap and briefly exceed the new rate.
//
// The pacer's decisions take the time as an argument, so that tests can run
// it against a simulated service with a simulated clock.

// RateChange is a change of the pacer's rate or concurrency, reported to
// Options.OnRateChange.
type RateChange struct {
	Rate        float64 // requests per second; +Inf: unpaced
	Concurrency int     // requests in flight at most
	Cause       string  // why, e.g. "limited by the service (429)"
}

func (c RateChange) String() string {
	return fmt.Sprintf("rate %s, concurrency %d: %s", c.RateString(), c.Concurrency, c.Cause)
}

// RateString is the rate as -v and the progress line show it: "41/s",
// "2.6/s" (to a tenth below 10/s, so that the floor of 0.5/s does not read
// "0/s"), or "unpaced".
func (c RateChange) RateString() string {
	switch {
	case math.IsInf(c.Rate, 1):
		return "unpaced"
	case c.Rate < 9.95 && math.Round(c.Rate*10) != 10*math.Round(c.Rate):
		return fmt.Sprintf("%.1f/s", c.Rate)
	}
	return fmt.Sprintf("%.0f/s", c.Rate)
}

// Causes of a RateChange.
const (
	CauseStart     = "starting"
	CauseClean     = "answers clean, latency flat"
	CauseThrottled = "limited by the service (429)"
	CausePenalty   = "limited by the service (penalty box: staying below it)"
	CauseLatency   = "latency rising"
	// CauseOverloaded: 502, 503 or 504 answers, the service (or a proxy
	// before it) struggling; not taken for its rate limit.
	CauseOverloaded = "the service is overloaded (502/503/504)"
	CauseCeiling    = "at the --rate ceiling"
	CauseLanes      = "at the --concurrency ceiling"
)

// Tuning of the pacer. A penalty box is a Retry-After of penaltyRetryAfter
// or more: no ordinary limiter asks for that long.
const (
	pacerStartRate        = 20.0            // requests per second when nothing is known
	pacerSlowStartGain    = 0.7             // of 1/latency added to the rate per clean answer in slow start
	pacerUnlimitedRestart = 0.125           // of an unlimited run's rate, where the next run's slow start begins
	pacerBeta             = 0.7             // multiplicative decrease on a 429
	pacerLatencyBeta      = 0.9             // multiplicative decrease on rising latency
	pacerPlateau          = 0.95            // of the rate the service was seen to deliver
	pacerFirstProbe       = 8 * time.Second // time scale of the first probe above the plateau; doubles at each 429
	pacerMaxProbe         = time.Minute
	pacerProbeRequests    = 100.0 // at the least, the requests between probes above a limit measured cleanly
	penaltyRetryAfter     = 10 * time.Second
	penaltyMargin         = 0.9 // of a penalty box's estimated limit
	pacerHeadroom         = 1.5 // lanes beyond rate x latency
	// pacerMinRate is the least the pacer cuts to, and pacerMaxStart the
	// most it starts at: a rate an earlier run learned is clamped to them,
	// as rates.json can be edited by hand.
	pacerMinRate  = 0.5
	pacerMaxStart = 1e6
)

type pacer struct {
	mu      sync.Mutex
	next    time.Time // the earliest the next request may go
	last    time.Time // the last slot given
	adapt   bool
	ceiling float64 // 0: none
	maxLane int

	rate       float64
	lanes      int
	slowStart  bool
	wMax       float64 // rate at the last cut
	lastCut    time.Time
	penaltyCap float64 // 0: no penalty box seen
	// penaltyLoose: the cap was estimated from a slow start's climb, which
	// may have crossed a second of the clock, and is not remembered (it
	// can be 30% low); one found while probing near the limit is close.
	penaltyLoose bool
	// penaltyFound: a penalty box refused a request in this run;
	// penaltyLower is the highest estimate of its limit that holds
	// whatever the phase of its windows (boxLimit); penaltyAnyPhase: the
	// box was found twice, so its windows are not the clock's seconds
	// (clockBoxLimit) and only penaltyLower counts.
	penaltyFound    bool
	penaltyUntil    time.Time // when the last penalty box met is over
	penaltyLower    float64
	penaltyAnyPhase bool
	// serviceLimited: a 429 cut the rate in this run (rising latency alone
	// does not make it so).
	serviceLimited bool
	// startLimit is the limit an earlier run learned from 429s, which this
	// run resumed at (0: none); peakDelivered the most requests answered
	// cleanly that were sent within one second.
	startLimit    float64
	peakDelivered float64
	// startUnlimited is the rate an earlier run reached with nothing
	// limiting it, which this run slow-starts from a share of (0: none).
	startUnlimited float64
	// beforeOverload is the highest rate 502/503/504 cut from since the
	// last 429: what is learned, not the rate an outage cut to (0: none).
	beforeOverload float64
	probe          time.Duration
	pauseUntil     time.Time
	epoch          int // cuts so far
	cause          string

	minLatency time.Duration
	latency    time.Duration // exponentially weighted average
	// latencyAtCut is the average latency at the last cut for rising
	// latency, while it stays high; 0 once it is flat again.
	latencyAtCut time.Duration
	delivered    []time.Time // when the requests answered cleanly in the last 2 s were sent
	sends        []time.Time // the slots given in the last 2 s
	resumed      time.Time   // when the last pause ended
	// pausedSinceCut is how long every lane has been (or is yet to be)
	// paused since the last cut: time the cubic curve does not count.
	pausedSinceCut time.Duration
	// lastOverloaded: the last answer was a server error (overloaded).
	lastOverloaded bool
	// refusingSince is when the service began answering with pauses
	// (Retry-After) and nothing else: zero again at the next clean answer.
	refusingSince time.Time

	sooner chan struct{} // closed when the next slot moves earlier (take)

	onChange func(RateChange)
	reported RateChange
}

// newPacer returns a pacer. ceiling 0 means no ceiling; start is what an
// earlier run learned (the zero value: nothing is known of the service).
func newPacer(now time.Time, adapt bool, ceiling float64, maxLanes int, start LearnedRate, onChange func(RateChange)) *pacer {
	p := &pacer{adapt: adapt, ceiling: ceiling, maxLane: max(maxLanes, 1), onChange: onChange, cause: CauseStart}
	if start.Rate > 0 { // NaN is not
		start.Rate = min(max(start.Rate, pacerMinRate), pacerMaxStart)
	} else {
		start = LearnedRate{}
	}
	if adapt && start.PenaltyCap > 0 && !start.Unlimited {
		p.penaltyCap = min(max(start.PenaltyCap, pacerMinRate), pacerMaxStart)
		start.Rate = min(start.Rate, p.penaltyCap)
	}
	switch {
	case !adapt:
		p.rate = ceiling
		if ceiling == 0 {
			p.rate = math.Inf(1)
		}
		p.lanes = p.maxLane
	case start.Rate > 0 && start.Unlimited:
		// Nothing limited the last run: slow start again, from a share of
		// the rate it reached, in case the service is busier now.
		p.rate, p.slowStart = max(pacerStartRate, start.Rate*pacerUnlimitedRestart), true
		p.startUnlimited = start.Rate
	case start.Rate > 0:
		p.rate, p.wMax, p.lastCut = start.Rate, start.Rate, now // resume on the plateau
		p.startLimit = start.Rate
	default:
		p.rate, p.slowStart = pacerStartRate, true
	}
	if p.ceiling > 0 {
		p.rate = min(p.rate, p.ceiling)
	}
	if p.adapt {
		p.lanes = p.lanesFor(0)
	}
	p.report()
	return p
}

// lanesFor is Little's law with headroom: the requests in flight that
// keep up rate at the given latency (at least 2 until one is measured).
func (p *pacer) lanesFor(latency time.Duration) int {
	if latency <= 0 {
		return min(p.maxLane, 2)
	}
	// Bounded before the conversion: a float beyond an int's range does
	// not convert to a large int.
	n := math.Ceil(p.rate*latency.Seconds()*pacerHeadroom) + 1
	return int(min(max(n, 1), float64(p.maxLane)))
}

// laneLimit is twice what the lanes could ever carry: growth stops there,
// in slow start and in probing, so that a rate bound by the lanes does not
// grow without end.
func (p *pacer) laneLimit() float64 {
	return 2 * float64(p.maxLane) / max(p.minLatency, time.Millisecond).Seconds()
}

// slot is when one request was sent, and the pacer's epoch then: answers
// to requests of an earlier epoch were paced by a rate already cut, and do
// not cut it again (as TCP cuts once per window).
type slot struct {
	at    time.Time
	epoch int
}

// take gives the caller the next send slot if it is due at now. If it is
// not, take returns when to ask again and a channel closed as soon as the
// slot may come sooner (the rate was raised): a slot is never booked ahead
// at the rate of the moment, because in slow start the rate grows every
// round trip, and a request booked 1/rate ahead would still go at the rate
// of the round trip before.
func (p *pacer) take(now time.Time) (s slot, askAgain time.Time, sooner <-chan struct{}, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	due := p.pauseUntil
	if !math.IsInf(p.rate, 1) && p.next.After(due) {
		due = p.next
	}
	if now.Before(due) {
		if p.sooner == nil {
			p.sooner = make(chan struct{})
		}
		return slot{}, due, p.sooner, false
	}
	p.last = now
	if !math.IsInf(p.rate, 1) {
		p.sends = append(p.sends, now)
		p.next = now.Add(interval(p.rate))
	}
	return slot{at: now, epoch: p.epoch}, time.Time{}, nil, true
}

// interval is the time between requests at rate r, saturated: a rate so
// small that 1/r overflows a Duration must not wrap to a wait in the past.
func interval(r float64) time.Duration {
	d := float64(time.Second) / r
	if !(d < float64(math.MaxInt64)) {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// wakeLocked tells the callers waiting in take that their slot may have
// come sooner.
func (p *pacer) wakeLocked() {
	if p.sooner != nil {
		close(p.sooner)
		p.sooner = nil
	}
}

// concurrency is how many requests may be in flight now.
func (p *pacer) concurrency() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lanes
}

// current is the rate and concurrency now, and why.
func (p *pacer) current() RateChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return RateChange{Rate: p.rate, Concurrency: p.lanes, Cause: p.cause}
}

// LearnedRate is what a run learned of the service's rate, for the next
// run to start from: the rate it allowed, or (Unlimited) the rate a run
// reached with nothing limiting it. The zero value: nothing learned.
type LearnedRate struct {
	Rate      float64
	Unlimited bool
	// PenaltyCap is a penalty box's limit, less a margin, as a run that
	// found it while probing near it estimated it: the next runs never go
	// above it, so the box is entered once or twice (a cold start's
	// estimate is loose and is not kept), not once in every run. 0: none.
	PenaltyCap float64
}

// learned is the rate worth remembering for the next run: what the
// service was seen to allow, or the rate reached if nothing limited it.
func (p *pacer) learned() LearnedRate {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.adapt || math.IsInf(p.rate, 1):
		return LearnedRate{}
	case p.serviceLimited && p.peakDelivered == 0:
		// Every answer a 429 (an outage, a key throttled for good): the
		// rate fell to the floor, which says nothing of the limit.
		return LearnedRate{}
	case p.serviceLimited:
		return LearnedRate{Rate: max(p.rate, p.beforeOverload), PenaltyCap: p.keptPenaltyCap()}
	case p.ceiling > 0 && max(p.rate, p.beforeOverload) >= p.ceiling:
		return LearnedRate{} // the ceiling, not the service, set the rate
	case p.startLimit > 0:
		// No 429 in a run that resumed at a limit learned from them: the
		// service is still limited as far as anyone knows (a short command
		// does not reach the limit), and the limit stays as it was, date
		// included: this is no fresh evidence of it. Only a run that saw
		// more delivered raises it (not to its rate: that may have grown
		// on the cubic curve past what the lanes carried).
		if raised := min(p.rate, p.peakDelivered); raised > p.startLimit {
			return LearnedRate{Rate: raised, PenaltyCap: p.keptPenaltyCap()}
		}
		return LearnedRate{}
	}
	// Nothing but latency, if anything, held the rate back: this host's
	// load, or the network's, is not the service's limit, and remembering
	// it as one would lower every next run's start a little more. Nor does
	// a run that stopped below the unlimited rate it started from (a short
	// command ends long before slow start gets back there) lower it.
	r := max(p.rate, p.beforeOverload)
	if r <= p.startUnlimited {
		return LearnedRate{}
	}
	return LearnedRate{Rate: r, Unlimited: true}
}

// keptPenaltyCap is the penalty cap worth remembering: one estimated
// closely, not a slow start's loose one (the next run may then find the
// box once more, from a probe, and learn it closely).
func (p *pacer) keptPenaltyCap() float64 {
	if p.penaltyLoose {
		return 0
	}
	return p.penaltyCap
}

// answered records a clean answer to a request sent at sentAt in slot s.
func (p *pacer) answered(s slot, sentAt, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusingSince = time.Time{}
	p.lastOverloaded = false
	lat := now.Sub(sentAt)
	p.observeLatency(lat)
	p.delivered = append(p.delivered, sentAt)
	p.trimDelivered(now)
	p.peakDelivered = max(p.peakDelivered, float64(countWithin(p.delivered, sentAt.Add(-time.Second), sentAt)))
	if !p.adapt {
		return
	}
	if !p.latencyRising() {
		p.latencyAtCut = 0
	}
	switch {
	case s.epoch != p.epoch:
		// An answer to a request sent before the last cut says nothing of
		// the new rate.
	case p.latencyRising() && p.queued(lat) && (p.latencyAtCut == 0 || p.latency > p.latencyAtCut*5/4):
		// Cut again only if latency rose further since the last cut: latency
		// that stays high though the rate was cut is not this client's
		// queue (a loaded host, a slow network), and cutting on would take
		// the rate towards nothing.
		// Never below where a cold start begins: latency alone does not
		// show the service's limit, and latency that comes and goes (bursts
		// of slow answers) would otherwise cut at each burst and starve the
		// run (720/s fell to 2/s in the simulation).
		p.latencyAtCut = p.latency
		p.cut(now, max(p.rate*pacerLatencyBeta, min(p.rate, pacerStartRate)), CauseLatency)
	case p.slowStart:
		p.setRate(now, min(p.rate+pacerSlowStartGain/max(p.minLatency, time.Millisecond).Seconds(), max(p.laneLimit(), p.rate)), CauseClean)
	default:
		p.setRate(now, max(p.rate, min(p.cubic(now), p.laneLimit())), CauseClean)
	}
	p.lanes = p.lanesFor(p.latency)
	p.report()
}

// throttled records a 429 to a request sent at sentAt in slot s, with the
// server's Retry-After.
func (p *pacer) throttled(s slot, sentAt, now time.Time, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	resumed := p.resumed
	p.pauseLocked(now, retryAfter)
	// A penalty box is a new one if the request was sent after the last
	// one known was over: a request of an earlier epoch can be the first
	// to meet it (a bucket's 429 cut the rate a moment before, and the
	// requests still in flight tripped the box), and ignored as an old
	// epoch's, the box went unnoticed and was entered again and again.
	box := retryAfter >= penaltyRetryAfter
	newBox := box && !sentAt.Before(p.penaltyUntil)
	alone := countWithin(p.sends, sentAt.Add(-time.Second), sentAt) <= 1
	if retryAfter > 0 && alone && (box || p.peakDelivered == 0) {
		// Nothing of this run's went in the second before the refused
		// request (countWithin counts that one too), and a box does not
		// close on its window's first request, nor does a limit refuse a
		// run's first: someone else used up the limit or closed the box,
		// another process sharing it or the run before this one (a
		// command run again at once). That says nothing of the rate: taken
		// as a measure, the rate went to 0.5/s and stayed near it for
		// minutes (a box: for the whole run, 3,000 requests in 1 h 40
		// min). The pause is all; for a box, the requests sent before it
		// ends meet the same box. (Past a run's first clean answer, a 429
		// alone in its second is a measure: a limit below 1/s, such as
		// 1/2s, otherwise refused 40 of 100 requests, not 4.)
		if newBox {
			p.penaltyUntil = now.Add(retryAfter)
		}
		return
	}
	if !p.adapt || box && !newBox || s.epoch != p.epoch && !newBox {
		return // one cut per congestion event, as TCP cuts once per window
	}
	p.serviceLimited = true
	p.beforeOverload = 0 // the limit is measured afresh
	// What the service let through of the requests sent in the second
	// before this one is its limit per second, whatever its shape (a
	// window's count, a bucket's rate), if the client sent throughout that
	// second. Just after a pause or a cold start, the second also holds the
	// remains of an earlier window or a refilled burst; the cut is then
	// multiplicative as well.
	p.trimDelivered(now)
	from := sentAt.Add(-time.Second)
	deliverable, sent := 0.0, 0.0
	for _, t := range p.delivered {
		if !t.Before(from) && t.Before(sentAt) {
			deliverable++
		}
	}
	for _, t := range p.sends {
		if !t.Before(from) && t.Before(sentAt) {
			sent++
		}
	}
	sent = max(sent, deliverable, 1)
	if box {
		// A penalty box: never again above what got through before it.
		// Two estimates of its limit, each never above it while requests
		// reach it in the order sent (latency that varies by hundreds of
		// ms reorders them: 115 for a box of 100 in the simulation): for
		// windows at any phase (loose after a slow start's climb, within a
		// factor of 2), and, closer, for windows that start on a second of
		// the service's clock. The first box found takes the closer one; a
		// second shows the clock's seconds were not the box's windows, and
		// from then on only estimates that hold at any phase count, so
		// there is no third. A third all the same shows the box is not one
		// of a second's windows and this client's alone (windows of 2 s,
		// another client sharing the box, requests reordered): the
		// estimates say nothing of it, and the cap falls multiplicatively
		// instead; kept at the estimate, it stayed where it was, and a
		// 100/2s box was entered every 30 s, 14 times.
		third := p.penaltyAnyPhase
		p.penaltyLower = max(p.penaltyLower, boxLimit(p.sends, sentAt))
		limit := p.penaltyLower
		if p.penaltyFound {
			p.penaltyAnyPhase = true
		}
		p.penaltyLoose = p.slowStart
		if lowest, highest, ok := clockBoxLimit(p.sends, sentAt, p.minLatency); ok && !p.penaltyAnyPhase {
			limit = max(limit, lowest)
			// Every start the clock allows gives the same count: slow start's
			// climb did not cross a second of the clock, and the estimate is
			// as close as one made while probing near the limit.
			p.penaltyLoose = p.penaltyLoose && highest > lowest
		}
		p.penaltyFound = true
		p.penaltyUntil = now.Add(retryAfter)
		if third {
			p.penaltyCap = max(0.5, pacerBeta*min(p.penaltyCap, limit*penaltyMargin))
		} else {
			p.penaltyCap = max(0.5, limit*penaltyMargin)
		}
		p.wMax = min(p.rate, p.penaltyCap)
		p.cut(now, p.wMax, CausePenalty)
		return
	}
	clean := !p.slowStart && resumed.Before(from)
	p.wMax = pacerPlateau * min(max(deliverable, 0.5), sent)
	if !clean {
		p.wMax = min(p.wMax, pacerBeta*sent)
	}
	if !p.slowStart && resumed.After(from) && resumed.Before(sentAt) {
		// The pause ended within that second, so it holds only what was
		// sent since, one or two requests: taken for a second's worth, a
		// 429 from a limit another process had used up cut the rate to
		// 0.7/s, and probing, by then on a minute's scale, took minutes to
		// climb back. The rate sent since the pause is the measure, cut
		// multiplicatively.
		since := 0.0
		for _, t := range p.sends {
			if !t.Before(resumed) && t.Before(sentAt) {
				since++
			}
		}
		p.wMax = max(p.wMax, min(pacerBeta*p.rate, pacerBeta*since/sentAt.Sub(resumed).Seconds()))
	}
	if p.probe == 0 {
		p.probe = pacerFirstProbe
	} else {
		p.probe = min(2*p.probe, pacerMaxProbe)
	}
	if clean {
		p.probe = max(p.probe, min(time.Duration(pacerProbeRequests/p.wMax*float64(time.Second)), pacerMaxProbe))
	}
	p.cut(now, p.wMax, CauseThrottled)
}

// pauseLocked holds every lane until retryAfter from now. A Retry-After
// longer than any call waits out ends the call that got it (shouldRetry);
// holding every other lane for it would stall them for what no call waits
// for.
func (p *pacer) pauseLocked(now time.Time, retryAfter time.Duration) {
	if until := now.Add(retryAfter); retryAfter <= MaxRetryAfter && until.After(p.pauseUntil) {
		p.pausedSinceCut += until.Sub(latest(now, p.pauseUntil, p.lastCut))
		p.pauseUntil = until
		p.resumed = until
	}
	if retryAfter > 0 && p.refusingSince.IsZero() {
		p.refusingSince = now
	}
}

// answeredWithoutWait records an answer with no Retry-After, whatever its
// status (a 404, a 500, a 429 with no wait): the service is not answering
// with nothing but waits.
func (p *pacer) answeredWithoutWait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusingSince = time.Time{}
}

// refusedUntil is when a call waiting for a slot gives up: once the service
// has answered with nothing but pauses (Retry-After) for budget. A pause
// holds every lane, and 429s cut the rate, so when the service answers every
// request with a Retry-After, calls take turns, one request per pause; each
// call's own budget, counted from its own answers, let a run of 64 calls
// wait for hours. Zero: a clean answer came since the last pause.
func (p *pacer) refusedUntil(budget time.Duration) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refusingSince.IsZero() {
		return time.Time{}
	}
	return p.refusingSince.Add(budget)
}

// overloaded records a 502, 503 or 504 to a request sent in slot s, with
// the server's Retry-After (0: none). The Retry-After holds every lane, as
// a 429's does; the rate is cut from the second such answer in a row, once
// per round of them (answers to requests sent before the last cut do not
// cut again). This is not the
// service's rate limit (nothing says how many requests it lets through),
// so it is not remembered as one, and it never cuts below where a cold
// start begins: with the lanes following the rate, a call's ten attempts
// then still end in seconds, not minutes, when the service answers 503 to
// everything.
func (p *pacer) overloaded(s slot, now time.Time, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauseLocked(now, retryAfter)
	// One server error among clean answers (a load balancer's blip) is
	// retried, not cut for: it ended slow start, and a cold listing took 30 s
	// instead of 1. The second in a row cuts.
	inARow := p.lastOverloaded
	p.lastOverloaded = true
	if !p.adapt || s.epoch != p.epoch || !inARow {
		return
	}
	p.beforeOverload = max(p.beforeOverload, p.rate)
	p.cut(now, max(p.rate*pacerBeta, min(p.rate, pacerStartRate)), CauseOverloaded)
}

// boxLimit estimates, never above it, the limit of a penalty box that
// refused a request sent at trigger, from the times of the requests sent
// before: the box counts arrivals in windows of a second whose start w is
// unknown. The window that tripped held exactly the limit's worth before
// the trigger, and the window before it no more; so for the true w,
// sent[w-1s, w) <= sent[w, trigger) = limit, and the least sent[w, trigger)
// over every w that passes that test is at most the limit.
func boxLimit(sends []time.Time, trigger time.Time) float64 {
	ts := slices.Clone(sends)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	end, _ := slices.BinarySearchFunc(ts, trigger, func(a, b time.Time) int { return a.Compare(b) })
	ts = ts[:end]
	best := float64(len(ts))
	lo := 0 // first send at or after w-1s
	for i := range ts {
		if ts[i].Before(trigger.Add(-time.Second)) {
			continue
		}
		for lo < i && ts[lo].Before(ts[i].Add(-time.Second)) {
			lo++
		}
		inWindow, before := float64(len(ts)-i), float64(i-lo)
		if before <= inWindow {
			best = min(best, inWindow)
		}
	}
	return best
}

// clockSkew is how far a service's clock may be from this host's, for
// clockBoxLimit.
const clockSkew = 10 * time.Millisecond

// clockBoxLimit estimates, as boxLimit does, the limit of a penalty box
// that refused a request sent at trigger, on the assumption that the box's
// windows start on a second of the service's clock (a counter per second
// of the clock, the usual way to build one). A request reaches the box a
// one-way delay after it is sent, at most a round trip (rtt: the smallest
// seen, so where latency varies a slow request's delay can exceed it, and
// the estimate be high), and the clocks differ by up to clockSkew, so a
// window starting at second b of the service's clock starts between
// b - rtt - clockSkew and b + clockSkew of this host's send times. The least sent[w, trigger) over those w that
// pass boxLimit's test is at most the limit under that assumption, and it
// holds as well for windows that slide or start at the first request:
// every candidate w lies within the second before trigger. highest is the
// most over those w: equal to lowest when the window's start, known only
// to a round trip, makes no difference. ok is false when no such w passes
// the test (the assumption is then wrong).
func clockBoxLimit(sends []time.Time, trigger time.Time, rtt time.Duration) (lowest, highest float64, ok bool) {
	ts := slices.Clone(sends)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	// in counts the sends in [from, to).
	in := func(from, to time.Time) int {
		i, _ := slices.BinarySearchFunc(ts, from, func(a, b time.Time) int { return a.Compare(b) })
		j, _ := slices.BinarySearchFunc(ts, to, func(a, b time.Time) int { return a.Compare(b) })
		return max(j-i, 0)
	}
	earliest := trigger.Add(-time.Second) // exclusive: the window holds trigger
	lowest, highest = math.Inf(1), math.Inf(-1)
	try := func(w time.Time) {
		if !w.After(earliest) || w.After(trigger) {
			return
		}
		if n := in(w, trigger); in(w.Add(-time.Second), w) <= n {
			lowest, highest = min(lowest, float64(n)), max(highest, float64(n))
		}
	}
	for k := -1; k <= 1; k++ {
		b := trigger.Truncate(time.Second).Add(time.Duration(k) * time.Second)
		lo, hi := b.Add(-rtt-clockSkew), b.Add(clockSkew)
		try(lo)
		try(hi)
		// Both counts change only where w or w-1s meets a send.
		for _, t := range ts {
			for _, x := range []time.Time{t, t.Add(time.Second)} {
				if !x.Before(lo) && !x.After(hi) {
					try(x)
					try(x.Add(time.Nanosecond))
				}
			}
		}
	}
	if math.IsInf(lowest, 1) {
		return 0, 0, false
	}
	return lowest, highest, true
}

func (p *pacer) cut(now time.Time, r float64, cause string) {
	p.slowStart = false
	p.lastCut = now
	p.pausedSinceCut = max(p.pauseUntil.Sub(now), 0)
	p.epoch++
	if p.wMax == 0 || cause == CauseLatency || cause == CauseOverloaded {
		p.wMax = r // grow again from the cut rate, not from the one that queued or failed
	}
	p.setRate(now, max(r, pacerMinRate), cause)
	p.lanes = p.lanesFor(p.latency)
	p.report()
}

// cubic is CUBIC's growth as a rate: flat at wMax after a cut, then
// growing ever faster to probe for more, the slower the more often
// probing found the limit. Its clock stops while every lane is paused: run
// through a 429's Retry-After of 9 s, it had the rate resume 1.4 times
// above the limit the 429 had just measured. Started again at each pause's
// end instead, it never got far from wMax where a pause came every few
// seconds (a 503 with Retry-After: 1 in every 100 requests held a run at
// the 50/s it resumed at, under a limit risen to 200/s).
func (p *pacer) cubic(now time.Time) float64 {
	probe := p.probe
	if probe == 0 {
		probe = pacerFirstProbe
	}
	d := max(now.Sub(p.lastCut)-p.pausedSinceCut, 0).Seconds() / probe.Seconds()
	return p.wMax * (1 + (1-pacerBeta)*d*d*d)
}

// latest is the latest of the times.
func latest(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}

func (p *pacer) setRate(now time.Time, r float64, cause string) {
	if p.ceiling > 0 && r >= p.ceiling {
		r, cause = p.ceiling, CauseCeiling
	}
	if p.penaltyCap > 0 && r >= p.penaltyCap {
		r, cause = p.penaltyCap, CausePenalty
	}
	p.rate = r
	// The next slot is 1/rate after the last one at the new rate, sooner
	// or later than the old rate had it.
	switch {
	case math.IsInf(r, 1):
		p.wakeLocked()
	case !p.last.IsZero():
		next := p.last.Add(interval(r))
		if next.Before(p.next) {
			p.wakeLocked()
		}
		p.next = next
	}
	if cause != CauseClean || p.cause == CauseStart {
		p.cause = cause
	}
}

func (p *pacer) observeLatency(lat time.Duration) {
	if lat <= 0 {
		lat = time.Microsecond
	}
	if p.minLatency == 0 || lat < p.minLatency {
		p.minLatency = lat
	}
	if p.latency == 0 {
		p.latency = lat
	} else {
		p.latency += (lat - p.latency) / 8
	}
}

// latencyRising says whether answers queue: the average latency more than
// twice the smallest seen, and by more than scheduling noise.
func (p *pacer) latencyRising() bool {
	return p.queued(p.latency)
}

// queued says whether a latency is well above the smallest seen. A cut
// needs this answer's latency to be so, as well as the average: the
// average starts from the first answers, which are slow over HTTPS (each
// new connection's handshake), and took a while to fall to the flat
// latency after them: that looked like latency rising, and ended slow
// start at the first answers.
func (p *pacer) queued(lat time.Duration) bool {
	return lat > 2*p.minLatency+20*time.Millisecond
}

func (p *pacer) trimDelivered(now time.Time) {
	p.delivered = trimBefore(p.delivered, now.Add(-2*time.Second))
	p.sends = trimBefore(p.sends, now.Add(-2*time.Second))
}

// countWithin counts the times in ts, which is about sorted, in [from, to].
func countWithin(ts []time.Time, from, to time.Time) int {
	cmp := func(a, b time.Time) int { return a.Compare(b) }
	i, _ := slices.BinarySearchFunc(ts, from, cmp)
	j, found := slices.BinarySearchFunc(ts, to, cmp)
	for found && j < len(ts) && ts[j].Equal(to) {
		j++
	}
	return max(j-i, 0)
}

// trimBefore drops the times before cutoff from ts, which is about sorted.
func trimBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	return ts[i:]
}

// report tells onChange about a change worth a line: the concurrency, the
// cause, or the rate by more than a tenth.
func (p *pacer) report() {
	cur := RateChange{Rate: p.rate, Concurrency: p.lanes, Cause: p.cause}
	if p.lanes == p.maxLane && p.cause == CauseClean && p.adapt {
		cur.Cause = CauseLanes
	}
	last := p.reported
	if last.Cause != "" && cur.Cause == last.Cause && cur.Concurrency == last.Concurrency &&
		(cur.Rate == last.Rate || math.Abs(cur.Rate-last.Rate) <= last.Rate/10) {
		return
	}
	p.reported = cur
	if p.onChange != nil {
		p.onChange(cur)
	}
}

// gate bounds the requests in flight to a limit that may change.
type gate struct {
	mu       sync.Mutex
	limit    int
	inflight int
	waiters  []chan struct{}
}

func (g *gate) acquire(ctx context.Context, limit int) error {
	g.mu.Lock()
	g.limit = limit
	if g.inflight < g.limit {
		g.inflight++
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.waiters = append(g.waiters, ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, w := range g.waiters {
			if w == ch {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// Granted as the context ended: give the place back.
		g.inflight--
		g.wakeLocked()
		return ctx.Err()
	}
}

func (g *gate) release(limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit = limit
	g.inflight--
	g.wakeLocked()
}

func (g *gate) wakeLocked() {
	for g.inflight < g.limit && len(g.waiters) > 0 {
		ch := g.waiters[0]
		g.waiters = g.waiters[1:]
		g.inflight++
		close(ch)
	}
}
