package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/testctx"
)

// changes records the external changes an engine makes (issuer create/revoke, sink
// deliver/restart, keyring put) and those made after a moment (the takeover).
type changes struct {
	mu    sync.Mutex
	after bool
	late  []string
}

func (c *changes) record(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.after {
		c.late = append(c.late, what)
	}
}

func (c *changes) mark() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = true
}

type recIssuer struct {
	Issuer
	c *changes
}

func (i recIssuer) Create(ctx context.Context, id string) (*NewKey, error) {
	i.c.record("issuer create")
	return i.Issuer.Create(ctx, id)
}

func (i recIssuer) Revoke(ctx context.Context, name string) error {
	i.c.record("issuer revoke " + name)
	return i.Issuer.Revoke(ctx, name)
}

type recSink struct {
	Sink
	c *changes
}

func (s recSink) Deliver(ctx context.Context, d Delivery) error {
	s.c.record("deliver to " + s.Describe())
	return s.Sink.Deliver(ctx, d)
}

func (s recSink) Restart(ctx context.Context) error {
	s.c.record("restart " + s.Describe())
	return s.Sink.Restart(ctx)
}

type recStore struct {
	credentials.Store
	c *changes
}

func (s recStore) Put(ctx context.Context, it *credentials.Item) error {
	s.c.record("keyring put")
	return s.Store.Put(ctx, it)
}

// takeoverState is the state folder in which another host takes the rotation over the moment
// the journal is saved at step at: it moves the journal on (so this engine's next save is
// fenced) and, with lockToo, this engine's lock is gone (as when the team store's server ended
// its session).
type takeoverState struct {
	*LocalState
	at      Step
	lockToo bool
	c       *changes
	done    bool
	fenced  int // saves refused
}

func (s *takeoverState) SaveJournal(ctx context.Context, j *Journal, expected Version) (Version, error) {
	v, err := s.LocalState.SaveJournal(ctx, j, expected)
	if errors.Is(err, ErrFenced) {
		s.fenced++
		if !s.lockToo {
			s.c.mark() // from the refused save on, nothing may change
		}
	}
	if err == nil && j.Step == s.at && !s.done {
		s.done = true
		other, ov, lerr := s.LocalState.LoadJournal(ctx, j.Profile)
		if lerr != nil {
			return 0, lerr
		}
		_ = other.Advance(other.Step, "taken over by host-b")
		if _, lerr := s.LocalState.SaveJournal(ctx, other, ov); lerr != nil {
			return 0, lerr
		}
		if s.lockToo {
			s.c.mark()
		}
	}
	return v, err
}

func (s *takeoverState) AcquireLock(ctx context.Context, profile, command string) (HeldLock, error) {
	l, err := s.LocalState.AcquireLock(ctx, profile, command)
	if err != nil {
		return nil, err
	}
	return &losableLock{HeldLock: l, s: s}, nil
}

type losableLock struct {
	HeldLock
	s *takeoverState
}

func (l *losableLock) Check(ctx context.Context) error {
	if l.s.lockToo && l.s.done {
		return fmt.Errorf("profile prod: %w (its database session ended)", ErrLockLost)
	}
	return l.HeldLock.Check(ctx)
}

// A holder that another host took over at any step stops: from the moment its lock is gone
// (or, with only the journal moved on, from its first refused save) it makes no external
// change at all, never overwrites the other host's journal, and says another host took over.
func TestTakenOverRotationMakesNoFurtherChange(t *testing.T) {
	for _, lockToo := range []bool{true, false} {
		for _, at := range []Step{StepCreate, StepVerify, StepDeliver, StepObserve, StepPromote, StepRevoke} {
			name := fmt.Sprintf("%s/lock-lost=%v", at, lockToo)
			t.Run(name, func(t *testing.T) {
				r := newRig(t)
				c := &changes{}
				r.e.Issuer = recIssuer{Issuer: r.e.Issuer, c: c}
				r.e.Sinks = []Sink{recSink{Sink: r.env, c: c}}
				r.e.Store = recStore{Store: r.store, c: c}
				st := &takeoverState{LocalState: &LocalState{Dir: r.e.StateDir}, at: at, lockToo: lockToo, c: c}
				r.e.State = st
				_, err := r.e.Rotate(testctx.New(t))
				if len(c.late) > 0 {
					t.Fatalf("changes after the takeover: %v", c.late)
				}
				var to *TakenOverError
				if !errors.As(err, &to) || !strings.Contains(err.Error(), "rotation of profile prod") || !strings.Contains(err.Error(), "stopped without any further change") {
					t.Fatalf("Rotate: %v; want a TakenOverError", err)
				}
				if lockToo && !errors.Is(err, ErrLockLost) || !lockToo && !errors.Is(err, ErrFenced) {
					t.Fatalf("Rotate: %v; want it to match the cause", err)
				}
				if strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("the error is not one line: %q", err)
				}
				if !lockToo && st.fenced != 1 {
					t.Fatalf("%d saves refused; want the engine to stop at the first", st.fenced)
				}
				j, err := LoadJournal(r.e.StateDir, "prod")
				if err != nil || j == nil || j.Events[len(j.Events)-1].Message != "taken over by host-b" {
					t.Fatalf("the other host's journal was overwritten: %+v, %v", j, err)
				}
			})
		}
	}
}
