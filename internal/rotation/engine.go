package rotation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/waasctl/waasctl/internal/auditlog"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/ctxwait"
	"github.com/waasctl/waasctl/internal/waas"
)

// ErrIncomplete is matched by the error of a rotation that stopped part way and is to be
// finished with --resume: the grace period is not over, a sink failed, a restart failed. The
// profile's CURRENT key works all along; the caller exits 5 and prints the resume command.
var ErrIncomplete = errors.New("the rotation is not finished")

// errGraceWait marks the stop at revoke while the grace period runs.
var errGraceWait = errors.New("waiting for the grace period")

// Engine runs a profile's rotation: preflight -> create -> verify -> deliver -> observe ->
// promote -> revoke -> done (docs/architecture.md, "Rotation invariants"). Every step saves the journal
// before its work and is idempotent, so Resume after a crash at any point finishes the
// rotation and Abort rolls it back.
type Engine struct {
	Profile  string
	StateDir string            // journals and locks live here
	Store    credentials.Store // the keyring: CURRENT, PENDING, PREVIOUS
	Issuer   Issuer
	Sinks    []Sink
	// Check authenticates with key and returns the names of the pools it sees: preflight
	// checks the current key with it, verify the new one (the same pools: the same project),
	// revoke the old one (which must then be rejected with HTTP 401).
	Check func(ctx context.Context, key *credentials.APIKey) ([]string, error)
	Audit *auditlog.Log // nil: no audit entries
	// Grace is the wait between promote and revoking the old key; 0 revokes at once. A
	// rotation keeps the grace it started with (the journal records it) unless GraceSet
	// says the caller chose one for this run: then it replaces, and can shorten, the
	// recorded one, as an incident may require.
	Grace    time.Duration
	GraceSet bool
	// Observe, if set, runs after the sinks' restart commands: a health check, or the
	// operator's confirmation that the consumers use the new key.
	Observe func(ctx context.Context) error
	// Report receives progress lines (names and short fingerprints only); nil: silent.
	Report func(step Step, msg string)
	Now    func() time.Time // nil: time.Now
	// VerifyTries and VerifyBackoff cover the issuer's propagation delay: a new key may be
	// rejected for a moment, and a revoked one accepted. 0 tries means 5, 0 backoff 1 s.
	VerifyTries   int
	VerifyBackoff time.Duration
	Holder        Holder // for the lock
	Force         bool   // take over a stale lock
	// Emergency is recorded in the journal of a rotation this engine starts (Journal.Emergency).
	Emergency bool
	// EmergencyReason is the operator's reason for it, kept in the journal (Journal.EmergencyReason).
	EmergencyReason string
	// Promoted, if set, runs once the new key is CURRENT, before the grace period and the
	// revocation: the command takes the inventory snapshot that is the new key's baseline
	// there, not after a grace period in which the key was already in use. Not for an
	// emergency rotation, whose old key may have leaked.
	Promoted func(ctx context.Context)
	// WaitUntil, if set, makes the revoke step wait out the grace period in the foreground
	// (keys rotate --wait) instead of stopping with the rotation resumable: it returns at
	// until, or with ctx's error. nil: stop and let a later --resume revoke.
	WaitUntil func(ctx context.Context, until time.Time, what string) error
	// RevokeShared lets the rotation revoke an old key that another profile still holds as
	// CURRENT or PENDING (that profile then stops working); otherwise it is refused.
	RevokeShared bool
	// ForceAbort makes Abort finish whatever it cannot do: a key it cannot revoke, or cannot
	// tell is safe to revoke (the journal disagrees with the keyring), is left alone and
	// listed for deletion by hand (ManualRevokeError) instead of failing the abort.
	ForceAbort bool

	// State is where the journal, the lock and the audit log live; nil: the state folder
	// StateDir and the file log Audit (LocalState, with Holder and Force).
	State StateBackend

	// version is the journal's version as last loaded or saved, passed to every save; held is
	// the profile's lock; lost, once set, is why this process no longer owns the rotation
	// (another took it over: its save was fenced, or its lock is gone), and from then on
	// nothing is changed or written.
	version Version
	held    HeldLock
	lost    error

	// guard holds the profile's keys, as last read from the keyring, so that the journal and
	// the audit log refuse them in any encoding. Journals point at it, so a new read reaches
	// them.
	guard credentials.Guard
}

// stateTimeout bounds one call to the state backend. Saves do not use the run's context: the
// journal of an interrupted run must still be saved, to say so.
const stateTimeout = time.Minute

func stateCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stateTimeout)
}

// TakenOverError stops a rotation that another host (or process) took over: its journal
// moved on without this process (ErrFenced) or its lock is gone (ErrLockLost). The process
// makes no further change: no issuer call, delivery, keyring write or journal save.
type TakenOverError struct {
	Profile string
	Err     error
}

func (e *TakenOverError) Error() string {
	why := strings.TrimPrefix(oneLine(e.Err).Error(), "profile "+e.Profile+": ")
	why = strings.TrimSuffix(why, "; stopping without further changes")
	if errors.Is(e.Err, ErrFenced) {
		return fmt.Sprintf("another host took over the rotation of profile %s, so this one stopped without any further change: %s; see `waasctl keys status %s`", e.Profile, why, e.Profile)
	}
	// The lock's session ended: another host may have ended it to take over, or the database
	// went away (a restart, a network cut). Either way nothing more is changed from here.
	return fmt.Sprintf("the rotation of profile %s lost its lock (%s): another host may have taken it over, or the connection to the team store was lost; this one stopped without any further change: see `waasctl keys status %s`, and if no host is running it, `waasctl keys rotate %s --resume`", e.Profile, why, e.Profile, e.Profile)
}

func (e *TakenOverError) Unwrap() error { return e.Err }

func (e *Engine) takenOver(err error) error {
	if e.lost == nil {
		e.lost = &TakenOverError{Profile: e.Profile, Err: err}
	}
	return e.lost
}

// state is the engine's StateBackend.
func (e *Engine) state() StateBackend {
	if e.State == nil {
		e.State = &LocalState{Dir: e.StateDir, Audit: e.Audit, Holder: e.Holder, Force: e.Force}
	}
	return e.State
}

// loadJournal loads the profile's journal and keeps its version; nil when there is none.
func (e *Engine) loadJournal(ctx context.Context) (*Journal, error) {
	j, v, err := e.state().LoadJournal(ctx, e.Profile)
	if errors.Is(err, ErrNoJournal) {
		e.version = 0
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.version = v
	j.GuardAgainst(&e.guard)
	j.SetClock(e.Now)
	return j, nil
}

// save writes the journal at the version last loaded or saved. A save refused because the
// journal moved on without this process stops the rotation (TakenOverError).
func (e *Engine) save(j *Journal) error {
	if e.lost != nil {
		return e.lost
	}
	ctx, cancel := stateCtx()
	defer cancel()
	v, err := e.state().SaveJournal(ctx, j, e.version)
	if errors.Is(err, ErrFenced) {
		return e.takenOver(err)
	}
	if err != nil {
		return err
	}
	e.version = v
	return nil
}

// archive saves the finished journal and moves it to the history.
func (e *Engine) archive(j *Journal) error {
	if !j.Step.Finished() {
		return fmt.Errorf("rotation %s is at %s; only a done or aborted rotation is archived", j.ID, j.Step)
	}
	if err := e.save(j); err != nil {
		return err
	}
	ctx, cancel := stateCtx()
	defer cancel()
	err := e.state().ArchiveJournal(ctx, e.Profile, e.version)
	if errors.Is(err, ErrFenced) {
		return e.takenOver(err)
	}
	if err != nil {
		return err
	}
	e.version = 0
	return nil
}

// mayChange is called before every external change (an issuer's create or revoke, a sink's
// delivery or restart, a keyring write): it fails once this process no longer holds the
// profile's lock, so that a holder whose session ended (team mode) or whose lock was taken
// over changes nothing more.
func (e *Engine) mayChange() error {
	if e.lost != nil {
		return e.lost
	}
	if e.held == nil {
		return nil
	}
	ctx, cancel := stateCtx()
	defer cancel()
	if err := e.held.Check(ctx); err != nil {
		if errors.Is(err, ErrLockLost) {
			return e.takenOver(err)
		}
		return err
	}
	return nil
}

// put writes the profile's keyring item, if this process still holds the lock.
func (e *Engine) put(ctx context.Context, it *credentials.Item) error {
	if err := e.mayChange(); err != nil {
		return err
	}
	return e.Store.Put(ctx, it)
}

// The issuer's and the sinks' changes, each only while this process holds the lock.

func (e *Engine) issuerCreate(ctx context.Context, requestID string) (*NewKey, error) {
	if err := e.mayChange(); err != nil {
		return nil, err
	}
	return e.Issuer.Create(ctx, requestID)
}

func (e *Engine) issuerRevoke(ctx context.Context, name string) error {
	if err := e.mayChange(); err != nil {
		return err
	}
	return e.Issuer.Revoke(ctx, name)
}

func (e *Engine) deliverTo(ctx context.Context, s Sink, d Delivery) error {
	if err := e.mayChange(); err != nil {
		return err
	}
	return s.Deliver(ctx, d)
}

func (e *Engine) restart(ctx context.Context, s Sink) error {
	if err := e.mayChange(); err != nil {
		return err
	}
	return s.Restart(ctx)
}

// release releases the lock and forgets it.
func (e *Engine) release() {
	if e.held == nil {
		return
	}
	ctx, cancel := stateCtx()
	defer cancel()
	_ = e.held.Release(ctx)
	e.held = nil
}

// stopped is err, or the TakenOverError when this process lost the rotation on the way: that
// is what the operator must be told, whatever the step then failed on.
func (e *Engine) stopped(err error) error {
	if e.lost != nil && err != nil {
		return e.lost
	}
	return err
}

// maxCreateAttempts bounds the create retries after answers lost in transit.
const maxCreateAttempts = 3

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) report(step Step, format string, args ...any) {
	if e.Report != nil {
		e.Report(step, fmt.Sprintf(format, args...))
	}
}

func (e *Engine) tries() int {
	if e.VerifyTries > 0 {
		return e.VerifyTries
	}
	return 5
}

func (e *Engine) backoff() time.Duration {
	if e.VerifyBackoff > 0 {
		return e.VerifyBackoff
	}
	return time.Second
}

func (e *Engine) resumeHint() string {
	return fmt.Sprintf("`waasctl keys rotate %s --resume`", e.Profile)
}

// Plan says what Rotate would do, touching nothing (--dry-run).
func (e *Engine) Plan() []string {
	issuer := "?"
	if e.Issuer != nil {
		issuer = e.Issuer.Name()
	}
	plan := []string{
		fmt.Sprintf("preflight: take the rotation lock of profile %s, check that its CURRENT key authenticates and note the pools it sees", e.Profile),
		fmt.Sprintf("create: have issuer %s make a new key and store it in the keyring (%s) as PENDING", issuer, e.storeBackend()),
		"verify: check that the new key authenticates and sees the same pools as the current one",
	}
	if len(e.Sinks) == 0 {
		plan = append(plan, "deliver: no sinks configured")
	}
	for _, name := range sinkNames(e.Sinks) {
		plan = append(plan, "deliver: put the new key into "+name)
	}
	observe := "observe: nothing to restart or observe"
	switch restarts, commands := e.restartCommands(); {
	case restarts > 0 && e.Observe != nil:
		observe = "observe: run " + commands + " and the health check / confirmation"
	case restarts > 0:
		observe = "observe: run " + commands
	case e.Observe != nil:
		observe = "observe: run the health check / confirmation"
	}
	plan = append(plan, observe,
		"promote: make the new key CURRENT and the old one PREVIOUS, in one keyring write",
	)
	if e.Grace > 0 {
		plan = append(plan, fmt.Sprintf("revoke: after a grace period of %s (resume then), revoke the old key and check that it is rejected", e.Grace))
	} else {
		plan = append(plan, "revoke: revoke the old key and check that it is rejected")
	}
	return append(plan, "done: archive the rotation journal")
}

// restartCommands counts the sinks with a restart command (a sink that cannot say counts as
// one) and names them: "1 sink's restart command", "2 sinks' restart commands".
func (e *Engine) restartCommands() (int, string) {
	n := 0
	for _, s := range e.Sinks {
		if r, ok := s.(restartConfigurer); !ok || r.HasRestart() {
			n++
		}
	}
	if n == 1 {
		return n, "1 sink's restart command"
	}
	return n, fmt.Sprintf("%d sinks' restart commands", n)
}

func (e *Engine) storeBackend() string {
	if e.Store == nil {
		return "?"
	}
	return e.Store.Backend()
}

// sinkNames names the sinks for the journal, numbering repeated descriptions.
func sinkNames(sinks []Sink) []string {
	names := make([]string, len(sinks))
	seen := map[string]int{}
	for i, s := range sinks {
		n := s.Describe()
		seen[n]++
		if seen[n] > 1 {
			n = fmt.Sprintf("%s #%d", n, seen[n])
		}
		names[i] = n
	}
	return names
}

func sinkType(s Sink) string {
	switch s.(type) {
	case *EnvfileSink:
		return "envfile"
	case *ExecSink:
		return "exec"
	}
	return "other"
}

// Rotate starts a rotation and runs it as far as it goes. It refuses when a journal shows a
// rotation in progress. A *LockedError passes through.
func (e *Engine) Rotate(ctx context.Context) (*Journal, error) {
	if err := e.lock(ctx); err != nil {
		return nil, err
	}
	defer e.release()
	j, err := e.loadJournal(ctx)
	if err != nil {
		return nil, err
	}
	if j != nil {
		if !j.Step.Finished() {
			return j, j.InProgressError()
		}
		if err := e.archive(j); err != nil { // a crash left it unarchived
			return nil, err
		}
	}
	// On the engine's clock: the grace period given at a resume is counted from StartedAt.
	j, err = newJournalAt(e.Profile, e.Issuer.Name(), e.now())
	if err != nil {
		return nil, err
	}
	j.GuardAgainst(&e.guard)
	j.SetClock(e.Now)
	j.Grace = e.Grace.String()
	j.Emergency = e.Emergency
	j.EmergencyReason = e.EmergencyReason
	e.audit(j, "rotate.start", auditlog.OutcomeOK, "rotation "+j.ID+" started")
	// Preflight changes nothing, so it runs before the journal is written: a refused preflight
	// leaves no rotation in progress, nothing to resume or abort.
	msg, err := e.preflightChecks(ctx, j)
	if err != nil {
		outcome := auditlog.OutcomeFailed
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			outcome = auditlog.OutcomeInterrupted
		}
		e.audit(j, "rotate.preflight", outcome, oneLine(err).Error()+"; nothing was changed and no rotation is in progress")
		return nil, oneLine(err)
	}
	if err := e.save(j); err != nil {
		return nil, err
	}
	if err := e.advance(j, StepCreate, msg); err != nil {
		return j, err
	}
	return j, oneLine(e.stopped(e.run(ctx, j)))
}

// Resume finishes the rotation in progress. With none in progress it returns (nil, nil).
func (e *Engine) Resume(ctx context.Context) (*Journal, error) {
	j, err := e.inProgress(ctx)
	if j == nil {
		return j, err
	}
	defer e.release()
	if j.Aborting {
		return j, fmt.Errorf("rotation %s is being aborted (the old key %s may be back in some sinks): finish the abort with `waasctl keys rotate %s --abort`", j.ID, short(j.OldKey), e.Profile)
	}
	e.report(j.Step, "resuming rotation %s at %s", j.ID, j.Step)
	e.noteIssuerChange(j)
	return j, oneLine(e.stopped(e.run(ctx, j)))
}

// noteIssuerChange says so when another issuer than the one that started the rotation goes on
// with it: the operator chose it, and must know which one will revoke keys.
func (e *Engine) noteIssuerChange(j *Journal) {
	if j.Issuer != "" && j.Issuer != e.Issuer.Name() {
		e.report(j.Step, "rotation %s was started with the %s issuer; the %s issuer goes on with it", j.ID, j.Issuer, e.Issuer.Name())
	}
}

// inProgress takes the lock and loads the rotation in progress. With none
// (or one that finished but a crash kept it from the archive, which it
// archives) it releases the lock and returns a nil journal.
func (e *Engine) inProgress(ctx context.Context) (*Journal, error) {
	if err := e.lock(ctx); err != nil {
		return nil, err
	}
	j, err := e.loadJournal(ctx)
	if err == nil && j != nil && j.Step.Finished() {
		if err = e.archive(j); err == nil {
			j = nil
		}
	}
	if err != nil || j == nil {
		e.release()
		return j, err
	}
	return j, nil
}

// lock takes the profile's lock from the state backend (a *LockedError naming the holder if
// another has it) and keeps it in e.held.
func (e *Engine) lock(ctx context.Context) error {
	command := e.Holder.Command
	if command == "" {
		command = "keys rotate"
	}
	l, err := e.state().AcquireLock(ctx, e.Profile, command)
	if err != nil {
		return err
	}
	e.held, e.lost = l, nil
	// A forced takeover is logged, as is finding a crashed holder's record.
	if h, ok := l.(lockHistory); ok {
		if tookOver, abandoned := h.history(); tookOver != nil {
			e.report(StepPreflight, "took over the lock held by %s (--force)", tookOver)
			e.auditLock("lock.takeover", "took over the lock held by "+tookOver.String())
		} else if abandoned != nil {
			e.auditLock("lock.abandoned", "the previous holder, "+abandoned.String()+", ended without releasing the lock")
		}
	}
	return nil
}

// appendAudit appends e through the state backend, with the profile's keys guarded.
func (e *Engine) appendAudit(entry auditlog.Entry) error {
	ctx, cancel := stateCtx()
	defer cancel()
	_, err := e.state().AppendAudit(ctx, entry, &e.guard)
	return err
}

func (e *Engine) auditLock(action, detail string) {
	if err := e.appendAudit(auditlog.Entry{Command: "keys rotate", Profile: e.Profile, Action: action, Outcome: auditlog.OutcomeOK, Detail: detail}); err != nil {
		e.report(StepPreflight, "the audit log was not written: %v", err)
	}
}

// advance moves the journal to the next step, saves it and writes the audit entry of the step
// just finished.
func (e *Engine) advance(j *Journal, to Step, msg string) error {
	from := j.Step
	// The audit entry goes before the journal moves on: a crash between the two re-runs the
	// step on resume (every step is idempotent) and records it again, where the other order
	// would lose the record of a step that happened.
	if err := e.audit(j, "rotate."+string(from), auditlog.OutcomeOK, msg); err != nil && from == StepPreflight {
		// Every key action is logged: a rotation that cannot log does not start. (Once keys
		// exist, stopping would strand them: later steps go on, reporting the failure.)
		return fmt.Errorf("the audit log cannot be written (%s), and every change to a key is logged there: nothing was started; `waasctl log verify` says what is wrong with it", oneLine(err).Error())
	}
	if err := j.Advance(to, msg); err != nil {
		return err
	}
	if err := e.save(j); err != nil {
		return err
	}
	e.report(from, "%s", msg)
	return nil
}

// fail records a step's failure in the journal (best effort: the step runs again on resume)
// and the audit log.
func (e *Engine) fail(j *Journal, err error) error {
	msg := oneLine(err).Error()
	_ = j.Advance(j.Step, "failed: "+msg)
	if serr := e.save(j); serr != nil {
		e.report(j.Step, "%s", serr.Error())
	}
	e.audit(j, "rotate."+string(j.Step), auditlog.OutcomeFailed, msg)
	return err
}

// interrupted records that the operator stopped the rotation during j's step (journal and
// audit log, outcome "interrupted"), and returns an error that wraps context.Canceled and
// blames no sink or issuer: the step runs again on resume.
func (e *Engine) interrupted(j *Journal) error {
	msg := fmt.Sprintf("interrupted during %s; the step runs again on resume", j.Step)
	_ = j.Advance(j.Step, msg)
	if serr := e.save(j); serr != nil {
		e.report(j.Step, "%s", serr.Error())
	}
	e.audit(j, "rotate."+string(j.Step), auditlog.OutcomeInterrupted, msg)
	return fmt.Errorf("rotation of profile %s interrupted during %s: %w", e.Profile, j.Step, context.Canceled)
}

// audit appends an entry if there is an audit log. A failed append is reported and returned;
// callers other than preflight's go on: the journal, which resume needs, is saved already.
func (e *Engine) audit(j *Journal, action, outcome, detail string) error {
	if err := e.mayChange(); err != nil {
		if e.lost != nil {
			// Another host owns the rotation now; its own entries tell what happens to it.
			return nil
		}
		return err
	}
	var names, fps []string
	for _, k := range []KeyRef{j.OldKey, j.NewKey} {
		if k.Name != "" {
			names = append(names, k.Name)
			fps = append(fps, k.Fingerprint)
		}
	}
	err := e.appendAudit(auditlog.Entry{
		Command: "keys rotate", Profile: e.Profile, Action: action,
		KeyNames: names, Fingerprints: fps, Outcome: outcome,
		Detail: "rotation " + j.ID + ": " + detail,
	})
	if err != nil {
		e.report(j.Step, "audit log: %s", oneLine(err).Error())
	}
	return err
}

// run runs the steps from the journal's until done, or until one stops.
func (e *Engine) run(ctx context.Context, j *Journal) error {
	for !j.Step.Finished() {
		if err := e.mayChange(); err != nil {
			return err
		}
		if e.held != nil {
			// For keys status and the exit-6 message of another host (team mode).
			sctx, cancel := stateCtx()
			err := e.held.SetStep(sctx, string(j.Step))
			cancel()
			if errors.Is(err, ErrLockLost) {
				return e.takenOver(err)
			}
		}
		if err := ctx.Err(); err != nil {
			if j.Step == StepPreflight {
				return e.closeAtPreflight(j, err, true)
			}
			return e.interrupted(j)
		}
		var err error
		switch j.Step {
		case StepPreflight:
			if err := e.preflight(ctx, j); err != nil {
				// Nothing was created yet: close the rotation rather than leave it to abort.
				return e.closeAtPreflight(j, err, ctx.Err() != nil || errors.Is(err, context.Canceled))
			}
			continue
		case StepCreate:
			err = e.create(ctx, j)
		case StepVerify:
			err = e.verify(ctx, j)
		case StepDeliver:
			err = e.deliver(ctx, j)
		case StepObserve:
			err = e.observe(ctx, j)
		case StepPromote:
			err = e.promote(ctx, j)
			if err == nil && e.Promoted != nil && !j.Emergency {
				e.Promoted(ctx)
				if ctx.Err() != nil {
					// Stopped during the snapshot: stop here, rather than go on to the grace
					// period's wait and report that instead of the interruption.
					return e.interrupted(j)
				}
			}
		case StepRevoke:
			err = e.revoke(ctx, j)
		}
		if errors.Is(err, errGraceWait) {
			// Waiting out the grace period is the plan, not a failure.
			e.audit(j, "rotate.revoke", "waiting", oneLine(err).Error())
			return err
		}
		if err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled)) {
			// Ctrl-C, SIGTERM or Ctrl-C at a prompt: whatever the step was doing (a sink, a
			// wait) failed because waasctl was told to stop, not by its own fault.
			return e.interrupted(j)
		}
		if e.lost != nil {
			return e.lost
		}
		if err != nil {
			return e.fail(j, err)
		}
	}
	if err := e.archive(j); err != nil {
		return err
	}
	if len(j.ManualChecks) > 0 {
		err := &ManualRevokeError{Profile: e.Profile, Step: j.Step, Keys: j.ManualChecks}
		e.audit(j, "rotate.done", "manual-revoke", err.Error())
		return err
	}
	e.audit(j, "rotate.done", auditlog.OutcomeOK, "rotation finished")
	return nil
}

// closeAtPreflight archives a journal left at preflight (by a crash, or an older waasctl) whose
// preflight now fails: nothing was created, so there is nothing to resume or abort.
func (e *Engine) closeAtPreflight(j *Journal, cause error, interrupted bool) error {
	msg, outcome := "preflight failed, nothing was created: "+oneLine(cause).Error(), auditlog.OutcomeFailed
	if interrupted {
		msg, outcome = "preflight interrupted, nothing was created", auditlog.OutcomeInterrupted
	}
	if err := j.Advance(StepAborted, msg); err != nil {
		return err
	}
	if err := e.archive(j); err != nil {
		return err
	}
	e.audit(j, "rotate.preflight", outcome, msg+"; the rotation is closed")
	return cause
}

// item returns the profile's keyring item; it must have a CURRENT key.
func (e *Engine) item(ctx context.Context) (*credentials.Item, error) {
	it, err := e.Store.Get(ctx, e.Profile)
	if err != nil {
		return nil, err
	}
	var secrets []string
	for _, k := range []*credentials.StoredKey{it.Current, it.Pending, it.Previous} {
		if k != nil {
			secrets = append(secrets, k.PrivateKey)
		}
	}
	e.guard = *credentials.NewGuard(secrets...)
	if it.Current == nil {
		return nil, fmt.Errorf("profile %s has no CURRENT key in the keyring", e.Profile)
	}
	return it, nil
}

func apiKey(k *credentials.StoredKey, source string) (*credentials.APIKey, error) {
	return credentials.NewAPIKey(k.Name, k.PrivateKey, source)
}

func ref(k *credentials.StoredKey) KeyRef {
	return KeyRef{Name: k.Name, Fingerprint: k.Fingerprint}
}

// short names a key in progress lines and errors: its ID masked to its first
// eight characters and its short fingerprint, enough to tell keys apart at a
// glance. The journal and the audit log keep the full names.
func short(k KeyRef) string {
	return fmt.Sprintf("%s (%s)", MaskKeyName(k.Name), credentials.ShortFingerprint(k.Fingerprint))
}

// MaskKeyName shortens organizations/{org}/apiKeys/{id} to
// organizations/…/apiKeys/{first 8 of id}…, and a bare ID to its first 8.
func MaskKeyName(name string) string {
	id := name
	prefix := ""
	if i := strings.LastIndex(name, "/apiKeys/"); i >= 0 {
		prefix, id = "organizations/…/apiKeys/", name[i+len("/apiKeys/"):]
	}
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	return prefix + id
}

func (e *Engine) preflight(ctx context.Context, j *Journal) error {
	msg, err := e.preflightChecks(ctx, j)
	if err != nil {
		return err
	}
	return e.advance(j, StepCreate, msg)
}

// preflightChecks checks, changing nothing, what the rotation needs: a CURRENT key that works
// and no other profile would lose, and sinks that deliver would not refuse. It records the
// old key in j.
func (e *Engine) preflightChecks(ctx context.Context, j *Journal) (string, error) {
	it, err := e.item(ctx)
	if err != nil {
		return "", err
	}
	cur, err := apiKey(it.Current, "keyring")
	if err != nil {
		return "", err
	}
	j.OldKey = ref(it.Current)
	if err := e.checkShared(ctx, j.OldKey); err != nil {
		return "", err
	}
	if _, err := e.Check(ctx, cur); err != nil {
		return "", fmt.Errorf("the current key %s does not work: %w", short(j.OldKey), err)
	}
	if err := e.checkPrevious(ctx, it); err != nil {
		return "", err
	}
	for i, s := range e.Sinks {
		if p, ok := s.(Preflighter); ok {
			if err := p.Preflight(); err != nil {
				return "", fmt.Errorf("sink %s: %w", sinkNames(e.Sinks)[i], err)
			}
		}
		if _, _, err := s.Holds(ctx); err != nil {
			return "", fmt.Errorf("sink %s: %w", sinkNames(e.Sinks)[i], err)
		}
	}
	return "the current key " + short(j.OldKey) + " works", nil
}

// checkPrevious refuses to start while the PREVIOUS slot holds a key WaaS still accepts (auth
// add --force keeps the key it replaced there): promote would overwrite it, and a valid key
// would leave the keyring without being revoked or reported. A PREVIOUS key WaaS refuses is
// dead, and is overwritten.
func (e *Engine) checkPrevious(ctx context.Context, it *credentials.Item) error {
	if it.Previous == nil {
		return nil
	}
	prev, err := apiKey(it.Previous, "keyring")
	if err != nil {
		return err
	}
	_, err = e.Check(ctx, prev)
	switch {
	case waas.HTTPCode(err) == http.StatusUnauthorized:
		return nil
	case err == nil:
		return fmt.Errorf("the previous key %s is still stored and WaaS still accepts it: this rotation would drop it from the keyring while it is valid; revoke it first (keys revoke %s --key %s --reason ...)",
			short(ref(it.Previous)), e.Profile, credentials.ShortFingerprint(it.Previous.Fingerprint))
	default:
		return fmt.Errorf("checking the previous key %s: %w", short(ref(it.Previous)), err)
	}
}

// find asks the issuer for the key an earlier create with requestID made. The name it gives is
// checked like every key name before it is revoked, printed or audited.
func (e *Engine) find(ctx context.Context, requestID string) (string, bool, error) {
	name, found, err := e.Issuer.Find(ctx, requestID)
	if err != nil || !found {
		return "", found, err
	}
	if err := credentials.CheckKeyName(name); err != nil {
		return "", false, fmt.Errorf("the %s issuer's answer to find: %w", e.Issuer.Name(), err)
	}
	return name, true, nil
}

// revokeLostCreate finds a key made by j.RequestID, revokes it, and gives
// the journal a new request ID. An issuer that cannot find keys by request
// (the manual one, a plugin without find) is trusted to make none twice.
func (e *Engine) revokeLostCreate(ctx context.Context, j *Journal) error {
	name, found, err := e.find(ctx, j.RequestID)
	switch {
	case errors.Is(err, ErrFindUnsupported):
		// The create may or may not have made a key, and asking again will not tell: a new
		// request goes on, and the operator is told to look for the old one in the portal.
		j.addManual(ManualCheck{RequestID: j.RequestID, Reason: fmt.Sprintf("a create by the %s issuer was interrupted and it cannot say whether it made a key; look in the portal for a key created since %s", e.Issuer.Name(), j.StartedAt.UTC().Format(time.RFC3339))})
		e.report(StepCreate, "the %s issuer cannot say whether interrupted request %s made a key: check the portal when the rotation ends", e.Issuer.Name(), j.RequestID)
		j.RequestID = uuid.NewString()
		if err := j.Advance(StepCreate, "creating with a new request id"); err != nil {
			return err
		}
		return e.save(j)
	case err != nil:
		// Not knowing whether a key was made, a second create could forget the first.
		return fmt.Errorf("finding the key of interrupted request %s: %w", j.RequestID, err)
	case !found:
		return nil
	}
	if err := e.refuseHeld(ctx, name); err != nil {
		return err
	}
	if err := e.issuerRevoke(ctx, name); err != nil {
		return fmt.Errorf("revoking %s, created by request %s whose answer was lost: %w", name, j.RequestID, err)
	}
	e.report(StepCreate, "revoked %s, created by a request whose answer was lost", name)
	e.audit(j, "rotate.create", "revoked-orphan", "revoked "+name+", created by request "+j.RequestID+" whose answer was lost")
	j.RequestID = uuid.NewString()
	if err := j.Advance(StepCreate, "creating with a new request id"); err != nil {
		return err
	}
	return e.save(j)
}

func (e *Engine) create(ctx context.Context, j *Journal) error {
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	if it.Pending != nil {
		// Created (and stored) before a crash, or supplied by an earlier run: reuse it, if it
		// is a new key.
		if err := e.checkNew(ctx, &credentials.Item{Current: it.Current, Previous: it.Previous}, it.Pending.Name, it.Pending.Fingerprint); err != nil {
			return err
		}
		j.NewKey = ref(it.Pending)
		return e.advance(j, StepVerify, "the new key "+short(j.NewKey)+" is in the keyring as PENDING")
	}
	if j.RequestID == "" {
		j.RequestID = uuid.NewString()
		if err := e.save(j); err != nil {
			return err
		}
	} else if err := e.revokeLostCreate(ctx, j); err != nil {
		// A resumed create: an earlier call with this request ID may have made a
		// key whose answer never came back. Not every issuer refuses a repeated
		// ID (the sandbox answers ErrCreatedButLost; a plugin may just create
		// again), so look for it first.
		return err
	}
	var nk *NewKey
	for attempt := 1; ; attempt++ {
		nk, err = e.issuerCreate(ctx, j.RequestID)
		if err == nil {
			break
		}
		if errors.Is(err, ErrUnreadableAnswer) {
			// find may name one key of that request; an answer that could not be read may
			// stand for more, so the request stays on the list to check by hand.
			j.addManual(ManualCheck{RequestID: j.RequestID, Reason: fmt.Sprintf("the %s issuer's answer to it could not be read, so it may have made keys waasctl never learnt of; look in the portal for keys created since %s", e.Issuer.Name(), j.StartedAt.UTC().Format(time.RFC3339))})
			if serr := e.save(j); serr != nil {
				return serr
			}
		}
		if !errors.Is(err, ErrCreatedButLost) || attempt >= maxCreateAttempts {
			return err
		}
		// An earlier call made a key whose secret never reached us: revoke it, try again.
		name, found, ferr := e.find(ctx, j.RequestID)
		if ferr != nil {
			return fmt.Errorf("finding the key of lost request %s: %w", j.RequestID, ferr)
		}
		if found {
			if err := e.refuseHeld(ctx, name); err != nil {
				return err
			}
			if err := e.issuerRevoke(ctx, name); err != nil {
				return fmt.Errorf("revoking %s, created by request %s whose answer was lost: %w", name, j.RequestID, err)
			}
			e.report(StepCreate, "revoked %s, created by a request whose answer was lost", name)
			e.audit(j, "rotate.create", "revoked-orphan", "revoked "+name+", created by request "+j.RequestID+" whose answer was lost")
		}
		j.RequestID = uuid.NewString()
		if err := j.Advance(StepCreate, "retrying create with a new request id"); err != nil {
			return err
		}
		if err := e.save(j); err != nil {
			return err
		}
	}
	// A key the keyring holds already is no new key: refused before it is stored or delivered,
	// and not revoked, since it is in use.
	if err := e.checkNew(ctx, it, nk.Key.Name, nk.Key.Fingerprint); err != nil {
		return err
	}
	stored := &credentials.StoredKey{
		Name: nk.Key.Name, PrivateKey: nk.Secret, Fingerprint: nk.Key.Fingerprint,
		Algorithm: nk.Key.Algorithm(), AddedAt: e.now().UTC(), AddedBy: "keys rotate",
		Source: nk.Key.Source,
	}
	if err := e.put(ctx, &credentials.Item{Profile: e.Profile, Current: it.Current, Pending: stored, Previous: it.Previous}); err != nil {
		// The key must not outlive our knowledge of it.
		if rerr := e.issuerRevoke(ctx, nk.Key.Name); rerr != nil {
			return fmt.Errorf("storing the new key %s as PENDING: %w; revoking it failed too (%v): revoke it at the issuer", nk.Key.Name, err, rerr)
		}
		return fmt.Errorf("storing the new key %s as PENDING: %w; it was revoked", nk.Key.Name, err)
	}
	j.NewKey = ref(stored)
	return e.advance(j, StepVerify, "created "+short(j.NewKey)+" and stored it as PENDING")
}

func (e *Engine) verify(ctx context.Context, j *Journal) error {
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	if it.Pending == nil || it.Pending.Fingerprint != j.NewKey.Fingerprint {
		return fmt.Errorf("the PENDING key %s is no longer in the keyring; abort the rotation (`waasctl keys rotate %s --abort`)", short(j.NewKey), e.Profile)
	}
	cur, err := apiKey(it.Current, "keyring")
	if err != nil {
		return err
	}
	nk, err := apiKey(it.Pending, "keyring")
	if err != nil {
		return err
	}
	// The organization first: two organizations can see the same (say, zero) pools. WaaS shows
	// no project on a key; the pools comparison below stands for it.
	if have, got := keyOrg(cur.Name), keyOrg(nk.Name); have != "" && got != "" && have != got {
		return fmt.Errorf("the new key %s belongs to organization %s, the current key to %s: a key of another organization is refused; `waasctl keys rotate %s --abort` revokes it", short(j.NewKey), got, have, e.Profile)
	}
	want, err := e.Check(ctx, cur)
	if err != nil {
		return fmt.Errorf("the current key %s does not work: %w", short(ref(it.Current)), err)
	}
	var got []string
	for try := 1; ; try++ {
		got, err = e.Check(ctx, nk)
		if err == nil || try >= e.tries() {
			break
		}
		if err := sleep(ctx, e.backoff()); err != nil {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("the new key %s does not authenticate: %w", short(j.NewKey), err)
	}
	if !samePools(want, got) {
		return fmt.Errorf("the new key sees different pools: a key of another project? (%d pools, the current key %d); `waasctl keys rotate %s --abort` revokes it", len(got), len(want), e.Profile)
	}
	// A bare key ID names no organization; then only the pools can show that both keys are the
	// same organization's, and no pools show nothing.
	if (keyOrg(cur.Name) == "" || keyOrg(nk.Name) == "") && len(got) == 0 {
		return fmt.Errorf("nothing shows that the new key %s belongs to the current key's organization (a bare key ID names none, and both keys see no pools): `waasctl keys rotate %s --abort` revokes it; if the key is yours, store it with `waasctl auth add %s --force`",
			short(j.NewKey), e.Profile, e.Profile)
	}
	return e.advance(j, StepDeliver, fmt.Sprintf("the new key authenticates and sees the same %d pools", len(got)))
}

func samePools(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func sleep(ctx context.Context, d time.Duration) error { return ctxwait.Sleep(ctx, d) }

// deliverKey puts key into every sink that does not hold it already, recording each outcome;
// only: a sink is skipped unless it is in the set (nil: all).
func (e *Engine) deliverKey(ctx context.Context, j *Journal, key *credentials.StoredKey, only map[int]bool) []string {
	var failed []string
	names := sinkNames(e.Sinks)
	for i, s := range e.Sinks {
		if only != nil && !only[i] {
			continue
		}
		res := SinkResult{Name: names[i], Type: sinkType(s)}
		if fp, known, err := s.Holds(ctx); err == nil && known && fp == key.Fingerprint {
			res.DeliveredFingerprint, res.At = key.Fingerprint, e.now().UTC()
			j.RecordSink(res)
			continue
		}
		err := e.deliverTo(ctx, s, Delivery{Profile: e.Profile, Name: key.Name, PrivateKey: key.PrivateKey, Fingerprint: key.Fingerprint})
		res.At = e.now().UTC()
		if err != nil {
			res.Error = oneLine(err).Error()
			if strings.HasPrefix(res.Error, names[i]) {
				failed = append(failed, res.Error) // it names the sink already
			} else {
				failed = append(failed, names[i]+": "+res.Error)
			}
		} else {
			res.DeliveredFingerprint = key.Fingerprint
			e.report(j.Step, "delivered %s to %s", short(ref(key)), names[i])
		}
		j.RecordSink(res)
		if serr := e.save(j); serr != nil {
			failed = append(failed, serr.Error())
			return failed
		}
	}
	return failed
}

func (e *Engine) deliver(ctx context.Context, j *Journal) error {
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	if it.Pending == nil || it.Pending.Fingerprint != j.NewKey.Fingerprint {
		return fmt.Errorf("the PENDING key %s is no longer in the keyring; abort the rotation (`waasctl keys rotate %s --abort`)", short(j.NewKey), e.Profile)
	}
	if failed := e.deliverKey(ctx, j, it.Pending, nil); len(failed) > 0 {
		return fmt.Errorf("%w: delivering the new key failed (%s); the old key is still current and valid; fix it and run %s", ErrIncomplete, strings.Join(failed, "; "), e.resumeHint())
	}
	msg := fmt.Sprintf("the new key is in all %d sinks", len(e.Sinks))
	switch len(e.Sinks) {
	case 0:
		msg = "no sinks configured: nothing to deliver"
	case 1:
		msg = "the new key is in the sink"
	}
	return e.advance(j, StepObserve, msg)
}

func (e *Engine) observe(ctx context.Context, j *Journal) error {
	for i, s := range e.Sinks {
		if err := e.restart(ctx, s); err != nil {
			return fmt.Errorf("%w: restarting %s: %s; the old key is still current and valid; run %s", ErrIncomplete, sinkNames(e.Sinks)[i], oneLine(err).Error(), e.resumeHint())
		}
	}
	if e.Observe != nil {
		if err := e.Observe(ctx); err != nil {
			return fmt.Errorf("%w: observe: %s; the old key is still current and valid; run %s", ErrIncomplete, oneLine(err).Error(), e.resumeHint())
		}
	}
	restarts, commands := e.restartCommands()
	ran := commands + " ran"
	msg := "nothing to restart or observe"
	switch {
	case restarts > 0 && e.Observe != nil:
		msg = ran + " and the consumers were observed"
	case restarts > 0:
		msg = ran
	case e.Observe != nil:
		msg = "the consumers were observed"
	}
	return e.advance(j, StepPromote, msg)
}

func (e *Engine) promote(ctx context.Context, j *Journal) error {
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	switch {
	case it.Current.Fingerprint == j.NewKey.Fingerprint:
		// Promoted before a crash kept the journal from saying so.
	case it.Pending != nil && it.Pending.Fingerprint == j.NewKey.Fingerprint:
		// One write: a reader sees the old item or the new one, so exactly one CURRENT.
		if err := e.put(ctx, &credentials.Item{Profile: e.Profile, Current: it.Pending, Previous: it.Current}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("the PENDING key %s is no longer in the keyring; abort the rotation (`waasctl keys rotate %s --abort`)", short(j.NewKey), e.Profile)
	}
	if g := e.graceFor(j); g > 0 {
		j.GraceUntil = e.now().Add(g).UTC()
	}
	return e.advance(j, StepRevoke, "the new key "+short(j.NewKey)+" is CURRENT; the old one is PREVIOUS")
}

// graceFor is the grace of j's rotation: the one it started with, unless
// this run was given one.
func (e *Engine) graceFor(j *Journal) time.Duration {
	if e.GraceSet || j.Grace == "" {
		return e.Grace
	}
	g, err := time.ParseDuration(j.Grace)
	if err != nil {
		return e.Grace
	}
	return g
}

func (e *Engine) revoke(ctx context.Context, j *Journal) error {
	if e.GraceSet && !j.GraceUntil.IsZero() {
		// A grace chosen now can only shorten the wait, never start a new one.
		if until := j.StartedAt.Add(e.Grace); e.Grace == 0 || until.Before(j.GraceUntil) {
			j.GraceUntil = time.Time{}
			if e.Grace > 0 && e.now().Before(until) {
				j.GraceUntil = until
			}
		}
	}
	if now := e.now(); now.Before(j.GraceUntil) {
		_ = j.Advance(StepRevoke, "waiting for the grace period")
		if err := e.save(j); err != nil {
			return err
		}
		if e.WaitUntil != nil {
			e.report(StepRevoke, "waiting for the grace period, until %s; then the old key %s is revoked", j.GraceUntil.Local().Format(time.DateTime), short(j.OldKey))
			if err := e.WaitUntil(ctx, j.GraceUntil, "grace period"); err != nil {
				return err
			}
			return e.revoke(ctx, j)
		}
		return fmt.Errorf("%w: %w: the new key is CURRENT; the old key %s stays valid until the grace period ends at %s: run %s then", ErrIncomplete, errGraceWait, short(j.OldKey), j.GraceUntil.Format(time.RFC3339), e.resumeHint())
	}
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	// The journal says which key to revoke; the keyring must agree before anything is.
	if err := e.checkRevokeOld(j, it); err != nil {
		return err
	}
	if j.RevokedAt.IsZero() {
		if err := e.checkShared(ctx, j.OldKey); err != nil {
			return err
		}
		// The new key may have been revoked behind waasctl's back since it was verified (a
		// grace period, a crash, a portal mistake): revoking the old one now would leave no
		// working key. Only a key seen working now lets the old one go.
		if err := e.checkCurrentWorks(ctx, it); err != nil {
			return err
		}
	}
	// Every sink must hold the key that stays: one added to the profile since deliver, or
	// skipped by an edited journal, gets it now, or the old key is not revoked (and a rotation
	// resumed after the revocation is not done until they hold it).
	if err := e.ensureSinksHold(ctx, j, it.Current); err != nil {
		return err
	}
	if j.RevokedAt.IsZero() {
		if j.RevokeRequestedAt.IsZero() {
			j.RevokeRequestedAt = e.now().UTC()
			if err := e.save(j); err != nil {
				return err
			}
		}
		err := e.issuerRevoke(ctx, j.OldKey.Name)
		switch {
		case errors.Is(err, ErrCannotConfirm):
			// The old key left the keyring before it was seen refused: finish, and have the
			// operator delete it by hand.
			j.addManual(ManualCheck{Name: j.OldKey.Name, Fingerprint: j.OldKey.Fingerprint, Reason: "the old key left the keyring before WaaS was seen to refuse it"})
			e.report(StepRevoke, "%s", oneLine(err).Error())
			if err := j.Advance(StepRevoke, "the old key "+short(j.OldKey)+" is to be deleted by hand"); err != nil {
				return err
			}
			if err := e.save(j); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("revoking the old key %s: %w", short(j.OldKey), err)
		default:
			if it.Previous != nil {
				if err := e.confirmRejected(ctx, it.Previous); err != nil {
					return err
				}
			} else {
				e.report(StepRevoke, "the old key is no longer in the keyring; its rejection cannot be checked")
			}
			j.RevokedAt = e.now().UTC()
			if err := j.Advance(StepRevoke, "revoked the old key "+short(j.OldKey)+"; it is rejected"); err != nil {
				return err
			}
			if err := e.save(j); err != nil {
				return err
			}
		}
	}
	if it.Previous != nil {
		if err := e.put(ctx, &credentials.Item{Profile: e.Profile, Current: it.Current, Pending: it.Pending}); err != nil {
			return err
		}
	}
	return e.advance(j, StepDone, "the old key "+short(j.OldKey)+" is revoked")
}

// confirmRejected checks that a revoked key gets HTTP 401, allowing for propagation.
func (e *Engine) confirmRejected(ctx context.Context, k *credentials.StoredKey) error {
	key, err := apiKey(k, "keyring")
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		_, err := e.Check(ctx, key)
		if waas.HTTPCode(err) == http.StatusUnauthorized {
			return nil
		}
		if try >= e.tries() {
			if err == nil {
				// WaaS can take a while to refuse a revoked key: finishing later is the way on.
				return fmt.Errorf("%w: the old key %s still authenticates after it was revoked (WaaS may take a minute to refuse it); run %s in a minute", ErrIncomplete, short(ref(k)), e.resumeHint())
			}
			return fmt.Errorf("checking that the old key %s is rejected: %w", short(ref(k)), err)
		}
		if err := sleep(ctx, e.backoff()); err != nil {
			return err
		}
	}
}

// Abort rolls the rotation in progress back. Before promote: the new key is revoked at the
// issuer (if one was created), the sinks that got it get the CURRENT key back, and PENDING is
// dropped. After promote but before the old key is revoked: the old key becomes CURRENT again
// first, then the same. Once the old key is revoked it refuses: only --resume can finish. With
// no rotation in progress it returns (nil, nil).
//
// The journal is cross-checked with the keyring first, and a disagreement stops the abort
// before anything is revoked (ErrJournalMismatch). An issuer that cannot look up the key of a
// create whose answer was lost does not stop it: that request is listed for checking by hand.
// With ForceAbort, nothing stops it: a key it cannot revoke, or a journal that disagrees with
// the keyring, ends the abort without that revocation, and the *ManualRevokeError lists what
// the operator must delete in the portal. Every way an abort ends is in the audit log.
func (e *Engine) Abort(ctx context.Context) (*Journal, error) {
	j, err := e.inProgress(ctx)
	if j == nil {
		return j, err
	}
	defer e.release()
	e.noteIssuerChange(j)
	if err := e.stopped(e.abort(ctx, j)); err != nil {
		var manual *ManualRevokeError
		if !errors.As(err, &manual) { // that one is audited as the abort's outcome
			e.audit(j, "rotate.abort", auditlog.OutcomeFailed, oneLine(err).Error())
		}
		return j, oneLine(err)
	}
	return j, nil
}

// markAborting records, before the first thing an abort changes (the keyring swapped back,
// a sink given the old key, the new key revoked), that only an abort may go on: a --resume
// would promote a new key the sinks no longer hold, or one already revoked.
func (e *Engine) markAborting(j *Journal) error {
	if j.Aborting {
		return nil
	}
	j.Aborting = true
	return e.save(j)
}

// checkCurrentWorks refuses to go on unless the keyring's CURRENT key authenticates now.
func (e *Engine) checkCurrentWorks(ctx context.Context, it *credentials.Item) error {
	if it.Current == nil {
		return fmt.Errorf("the keyring holds no CURRENT key; the old key is not revoked")
	}
	cur, err := apiKey(it.Current, "keyring")
	if err != nil {
		return err
	}
	if _, err := e.Check(ctx, cur); err != nil {
		if waas.HTTPCode(err) == http.StatusUnauthorized {
			return fmt.Errorf("the new key %s is refused by WaaS (revoked?), so the old key, still valid, is not revoked: roll back with `waasctl keys rotate %s --abort`", short(ref(it.Current)), e.Profile)
		}
		return fmt.Errorf("checking that the new key %s works before revoking the old one: %w", short(ref(it.Current)), err)
	}
	return nil
}

// forceHint ends the error of an abort that --force would finish.
const forceHint = "fix it and abort again, or `--abort --force` to close the rotation and delete the key in the portal by hand"

func (e *Engine) abort(ctx context.Context, j *Journal) error {
	if !j.RevokedAt.IsZero() || j.Step == StepDone {
		return fmt.Errorf("rotation %s already revoked the old key %s; it cannot be aborted, only finished: %s", j.ID, short(j.OldKey), e.resumeHint())
	}
	if !j.RevokeRequestedAt.IsZero() {
		// The revocation may have taken effect without being seen yet: rolling back to that
		// key and revoking the new one could leave no working key at all.
		return fmt.Errorf("rotation %s asked for the old key %s to be revoked at %s (WaaS may not show it yet); it cannot be aborted, only finished: %s",
			j.ID, short(j.OldKey), j.RevokeRequestedAt.Format(time.RFC3339), e.resumeHint())
	}
	if gone := e.sinksGone(j, j.NewKey.Fingerprint); len(gone) > 0 && !e.ForceAbort {
		return fmt.Errorf("the journal says %s got the new key %s but the profile no longer lists it, so the abort cannot give it the CURRENT key back before revoking the new one: put it back in the profile's sinks and abort again, or `--abort --force` to end without revoking that key (named for deletion once nothing uses it)",
			strings.Join(gone, ", "), short(j.NewKey))
	}
	it, err := e.item(ctx)
	if err != nil {
		if !e.ForceAbort {
			return fmt.Errorf("%w; `waasctl keys rotate %s --abort --force` closes the rotation without the keyring and lists its keys to check by hand", err, e.Profile)
		}
		return e.abandon(ctx, j, nil, "the keyring could not be read, so nothing was revoked")
	}
	promoted, err := e.checkAbort(j, it)
	if err != nil {
		if !e.ForceAbort {
			return err
		}
		return e.abandon(ctx, j, it, "the journal disagreed with the keyring, so nothing was revoked")
	}
	// After promote: swap back, keeping the new key as PENDING until it is revoked.
	if promoted {
		old := it.Previous
		if old == nil || !sameRef(old, j.OldKey) {
			return fmt.Errorf("the old key %s is no longer PREVIOUS in the keyring, so the rotation cannot be rolled back to it, only finished (the new key is CURRENT): %s", short(j.OldKey), e.resumeHint())
		}
		oldKey, err := apiKey(old, "keyring")
		if err != nil {
			return err
		}
		if _, err := e.Check(ctx, oldKey); err != nil {
			if waas.HTTPCode(err) == http.StatusUnauthorized {
				return fmt.Errorf("the old key %s is rejected already (revoked?); the rotation cannot be aborted, only finished: %s", short(j.OldKey), e.resumeHint())
			}
			return fmt.Errorf("checking the old key %s before rolling back to it: %w", short(j.OldKey), err)
		}
		if err := e.markAborting(j); err != nil {
			return err
		}
		if err := e.put(ctx, &credentials.Item{Profile: e.Profile, Current: old, Pending: it.Current}); err != nil {
			return err
		}
		e.report(j.Step, "the old key %s is CURRENT again", short(j.OldKey))
		it = &credentials.Item{Profile: e.Profile, Current: old, Pending: it.Current}
	}
	// Give the sinks that got the new key the current one back, before it is revoked.
	if j.NewKey.Fingerprint != "" {
		names := sinkNames(e.Sinks)
		redo := map[int]bool{}
		for i := range e.Sinks {
			if e.sinkHolds(ctx, j, i, names[i], j.NewKey.Fingerprint) {
				redo[i] = true
			}
		}
		if len(redo) > 0 {
			if err := e.markAborting(j); err != nil {
				return err
			}
			if failed := e.deliverKey(ctx, j, it.Current, redo); len(failed) > 0 {
				return fmt.Errorf("putting the current key back failed (%s); fix it and abort again", strings.Join(failed, "; "))
			}
			for i := range redo {
				if err := e.restart(ctx, e.Sinks[i]); err != nil {
					return fmt.Errorf("restarting %s: %s; fix it and abort again", names[i], oneLine(err).Error())
				}
				if r, ok := e.Sinks[i].(restartConfigurer); !ok || r.HasRestart() {
					e.report(j.Step, "restarted %s", names[i])
				}
			}
		}
	}
	// Revoke the new key, or a key an unanswered create made.
	var revoke []string
	if j.NewKey.Name != "" {
		revoke = append(revoke, j.NewKey.Name)
	} else if it.Pending != nil {
		revoke = append(revoke, it.Pending.Name)
	}
	if j.RequestID != "" && j.NewKey.Name == "" {
		name, found, err := e.find(ctx, j.RequestID)
		switch {
		case errors.Is(err, ErrFindUnsupported) || err != nil && e.ForceAbort:
			// Asking again will not tell: the operator looks in the portal.
			j.addManual(ManualCheck{RequestID: j.RequestID, Reason: fmt.Sprintf("the %s issuer cannot say whether it made one; look in the portal for a key created since %s", e.Issuer.Name(), j.StartedAt.UTC().Format(time.RFC3339))})
			e.report(j.Step, "the %s issuer cannot say whether request %s made a key: check the portal", e.Issuer.Name(), j.RequestID)
		case err != nil:
			return fmt.Errorf("finding the key of request %s: %w; abort again, or `--abort --force` to close the rotation and check the portal for it by hand", j.RequestID, err)
		case found && !slices.Contains(revoke, name):
			revoke = append(revoke, name)
		}
	}
	if len(revoke) > 0 {
		if err := e.markAborting(j); err != nil {
			return err
		}
	}
	var revoked []string
	for _, name := range revoke {
		// Never revoke a key in use, whatever the journal or the issuer says.
		held, err := e.heldElsewhere(ctx, it, name)
		if err != nil {
			return err
		}
		if held != "" {
			e.report(j.Step, "not revoking %s: it is %s", name, held)
			continue
		}
		if gone := e.sinksGone(j, j.NewKey.Fingerprint); name == j.NewKey.Name && len(gone) > 0 {
			// Only under --force (checked above): a sink out of the profile still uses it.
			j.addManual(ManualCheck{Name: name, Fingerprint: j.NewKey.Fingerprint, Reason: strings.Join(gone, ", ") + " still hold it: put the profile's CURRENT key there first, then delete it in the portal"})
			e.report(j.Step, "not revoking %s: %s still hold it", name, strings.Join(gone, ", "))
			continue
		}
		if err := e.issuerRevoke(ctx, name); err != nil {
			if !e.ForceAbort {
				return fmt.Errorf("revoking the new key %s: %w; %s", name, err, forceHint)
			}
			j.addManual(ManualCheck{Name: name, Reason: "revoking it failed at --abort --force"})
			e.report(j.Step, "revoking %s failed: %s; delete it in the portal", name, oneLine(err).Error())
			continue
		}
		revoked = append(revoked, name)
		e.report(j.Step, "revoked the new key %s", MaskKeyName(name))
	}
	if it.Pending != nil {
		if err := e.put(ctx, &credentials.Item{Profile: e.Profile, Current: it.Current, Previous: it.Previous}); err != nil {
			return err
		}
	}
	return e.closeAborted(j, "rolled back: the old key "+short(j.OldKey)+" is CURRENT; revoked "+strings.Join(revoked, ", "))
}

// closeAborted archives the aborted journal and audits how the abort ended; with keys left to
// delete by hand, the error says which.
func (e *Engine) closeAborted(j *Journal, msg string) error {
	if err := j.Advance(StepAborted, msg); err != nil {
		return err
	}
	if err := e.archive(j); err != nil {
		return err
	}
	if len(j.ManualChecks) > 0 {
		err := &ManualRevokeError{Profile: e.Profile, Step: StepAborted, Keys: j.ManualChecks}
		e.audit(j, "rotate.abort", "manual-revoke", msg+"; "+err.Error())
		return err
	}
	e.audit(j, "rotate.abort", auditlog.OutcomeAborted, msg)
	return nil
}

// abandon closes, at --abort --force, a rotation that cannot be rolled back with confidence:
// nothing is revoked and the keyring is left as it is (it may be nil: unreadable); every key the
// journal or the keyring's PENDING names, other than the CURRENT key, is listed for checking.
func (e *Engine) abandon(ctx context.Context, j *Journal, it *credentials.Item, why string) error {
	var cur *credentials.StoredKey
	if it != nil {
		cur = it.Current
	}
	check := func(name, fp string) {
		if name == "" || sameKey(cur, name, fp) {
			return
		}
		reason := why + "; check whether anything uses it, then delete it in the portal"
		if holders := e.sinksHolding(ctx, j, fp); len(holders) > 0 {
			// Deleting it first would break them: say where the working key must go first.
			reason = why + "; " + strings.Join(holders, ", ") + " still hold it: put the profile's CURRENT key there first, then delete it in the portal"
		}
		j.addManual(ManualCheck{Name: name, Fingerprint: fp, Reason: reason})
	}
	check(j.NewKey.Name, j.NewKey.Fingerprint)
	if it != nil && it.Pending != nil {
		check(it.Pending.Name, it.Pending.Fingerprint)
	}
	if it != nil && sameKey(it.Current, j.NewKey.Name, j.NewKey.Fingerprint) {
		check(j.OldKey.Name, j.OldKey.Fingerprint) // promoted: the old key was still to be revoked
	}
	if j.NewKey.Name == "" && j.RequestID != "" && (it == nil || it.Pending == nil) {
		j.addManual(ManualCheck{RequestID: j.RequestID, Reason: why + "; look in the portal for a key created since " + j.StartedAt.UTC().Format(time.RFC3339)})
	}
	e.report(j.Step, "closing the rotation without rolling it back: %s", why)
	return e.closeAborted(j, "closed by --abort --force: "+why)
}

// sinksHolding names the sinks that hold the key with fingerprint fp, by their own answer or,
// for a sink that cannot say, by the journal's record of what was delivered to it; and the
// sinks the journal says got it that are no longer in the profile.
func (e *Engine) sinksHolding(ctx context.Context, j *Journal, fp string) []string {
	if fp == "" {
		return nil
	}
	var holders []string
	names := sinkNames(e.Sinks)
	for i := range e.Sinks {
		if e.sinkHolds(ctx, j, i, names[i], fp) {
			holders = append(holders, names[i])
		}
	}
	return append(holders, e.sinksGone(j, fp)...)
}

// sinkHolds says whether sink i (called name) holds the key with fingerprint fp: by its own
// answer, or, for a sink that cannot say, by the journal's record of what it was given.
func (e *Engine) sinkHolds(ctx context.Context, j *Journal, i int, name, fp string) bool {
	have, known, err := e.Sinks[i].Holds(ctx)
	if known && err == nil {
		return have == fp
	}
	return j.deliveredTo(name, fp)
}

// sinksGone names the sinks that the journal says got the key with fingerprint fp and that the
// profile no longer lists: nothing can give them another key, so the key must not be revoked
// while they may use it.
func (e *Engine) sinksGone(j *Journal, fp string) []string {
	if fp == "" {
		return nil
	}
	names := sinkNames(e.Sinks)
	var gone []string
	for _, r := range j.Sinks {
		if r.DeliveredFingerprint == fp && !slices.Contains(names, r.Name) {
			gone = append(gone, r.Name+" (no longer in the profile)")
		}
	}
	return gone
}

// ensureSinksHold delivers key to every sink that does not hold it, by its own answer or, for a
// sink that cannot say, by the journal's record, and restarts those; a failure stops the
// rotation before the old key is revoked.
func (e *Engine) ensureSinksHold(ctx context.Context, j *Journal, key *credentials.StoredKey) error {
	names := sinkNames(e.Sinks)
	missing := map[int]bool{}
	for i := range e.Sinks {
		if !e.sinkHolds(ctx, j, i, names[i], key.Fingerprint) {
			missing[i] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for i := range missing {
		e.report(j.Step, "%s does not hold the CURRENT key %s (added to the profile since it was delivered?): delivering it before the old key is revoked", names[i], short(ref(key)))
	}
	if failed := e.deliverKey(ctx, j, key, missing); len(failed) > 0 {
		return fmt.Errorf("%w: a sink lacks the CURRENT key and delivering it failed (%s); the old key is not revoked; fix it and run %s", ErrIncomplete, strings.Join(failed, "; "), e.resumeHint())
	}
	for i := range missing {
		if err := e.restart(ctx, e.Sinks[i]); err != nil {
			return fmt.Errorf("%w: restarting %s: %s; the old key is not revoked; run %s", ErrIncomplete, names[i], oneLine(err).Error(), e.resumeHint())
		}
	}
	return nil
}

// refuseHeld refuses to revoke, as the orphan of a create whose answer was lost, a key the
// keyring holds: the issuer's find answered the name of a key in use.
func (e *Engine) refuseHeld(ctx context.Context, name string) error {
	it, err := e.item(ctx)
	if err != nil {
		return err
	}
	held, err := e.heldElsewhere(ctx, it, name)
	if err != nil {
		return err
	}
	if held != "" {
		return fmt.Errorf("the %s issuer answered that the lost create made %s, which is %s: refusing to revoke it; check the issuer", e.Issuer.Name(), name, held)
	}
	return nil
}

// oneLine keeps an error to one line, keeping what it wraps for errors.Is and errors.As.
func oneLine(err error) error {
	if err == nil || !strings.ContainsAny(err.Error(), "\r\n") {
		return err
	}
	return &lineError{err}
}

type lineError struct{ err error }

func (l *lineError) Error() string {
	return strings.Join(strings.Fields(strings.ReplaceAll(l.err.Error(), "\r", " ")), " ")
}

func (l *lineError) Unwrap() error { return l.err }
