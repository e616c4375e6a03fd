package rotation

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/waasctl/waasctl/internal/testctx"
)

// A rotation started with --grace 1h that stops before promote (a sink was down) and is
// resumed without --grace keeps its hour: the old key must still work after the resume
// promotes, and the run stops at the grace period, resumable. (A resume that took the
// profile's grace, 0 here, would revoke the old key at once.)
func TestResumeKeepsTheGraceTheRotationStartedWith(t *testing.T) {
	r := newRig(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.e.Now = func() time.Time { return now }
	r.e.Grace, r.e.GraceSet = time.Hour, true
	down := &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true}
	r.e.Sinks = append(r.e.Sinks, down)
	old := r.item().Current
	ctx := testctx.New(t)

	if j, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) || j == nil || j.Step != StepDeliver {
		t.Fatalf("rotate with a sink down: %v, journal %+v", err, j)
	}

	// keys rotate --resume, no --grace: the profile's grace (none) is not chosen now.
	down.fail = false
	r.e.Grace, r.e.GraceSet = 0, false
	now = now.Add(10 * time.Minute)
	j, err := r.e.Resume(ctx)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, errGraceWait) {
		t.Fatalf("resume without --grace: %v; want a stop at the grace period the rotation started with", err)
	}
	if j.Step != StepRevoke || !j.GraceUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("journal at %s, grace until %v; want revoke, until %v", j.Step, j.GraceUntil, now.Add(time.Hour))
	}
	if !r.authenticates(old) {
		t.Fatal("the old key was revoked though the rotation was started with a grace period of an hour")
	}
	now = now.Add(time.Hour)
	if _, err := r.e.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	r.settled()
	if r.authenticates(old) {
		t.Fatal("the old key still authenticates after the grace period and --resume")
	}
}

// A longer --grace given to a resume before promote is the rotation's grace from then on: the
// old key stays valid two hours from the rotation's start, not one hour from the promote (the
// grace it started with). The clock starts at the wall clock's time because the journal's
// start is stamped with it (NewJournal), and a resume's grace is counted from that start.
func TestResumeWithALongerGraceWaitsForIt(t *testing.T) {
	r := newRig(t)
	start := time.Now().UTC()
	now := start
	r.e.Now = func() time.Time { return now }
	r.e.Grace, r.e.GraceSet = time.Hour, true
	down := &flakySink{Sink: &EnvfileSink{Path: filepath.Join(t.TempDir(), ".env")}, fail: true}
	r.e.Sinks = append(r.e.Sinks, down)
	old := r.item().Current
	ctx := testctx.New(t)
	if _, err := r.e.Rotate(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("rotate with a sink down: %v", err)
	}

	down.fail = false
	r.e.Grace, r.e.GraceSet = 2*time.Hour, true // keys rotate --resume --grace 2h
	now = start.Add(10 * time.Minute)
	j, err := r.e.Resume(ctx)
	if !errors.Is(err, errGraceWait) {
		t.Fatalf("resume --grace 2h: %v", err)
	}
	if lo, hi := start.Add(2*time.Hour), now.Add(2*time.Hour); j.GraceUntil.Before(lo) || j.GraceUntil.After(hi) {
		t.Fatalf("grace until %v, want two hours from the rotation's start (%v to %v)", j.GraceUntil, lo, hi)
	}
	now = start.Add(100 * time.Minute) // past the first grace, within the second
	if _, err := r.e.Resume(ctx); !errors.Is(err, errGraceWait) {
		t.Fatalf("resume 100 minutes in: %v; want a stop, the grace of 2h runs", err)
	}
	if !r.authenticates(old) {
		t.Fatal("the old key was revoked within the grace period the resume chose")
	}
}
