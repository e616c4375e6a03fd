package rotation

import (
	"context"
	"testing"

	"github.com/waasctl/waasctl/internal/sandbox"
)

// TestEngineThroughSandboxFaults: with a quarter of all requests failing
// (500s, 503s, connections dropped before a request and after a change was
// made, its answer lost), a rotation resumed until it finishes never loses
// a key and never leaves a second active one: the client retries what is
// safe, and a create whose answer was lost is found by its request ID and
// revoked.
func TestEngineThroughSandboxFaults(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 2
	}
	for seed := int64(1); seed <= int64(seeds); seed++ {
		r := newRigWith(t, sandbox.Config{Seed: seed, FaultRate: 0.3, Shape: sandbox.EstateShape{Pools: 2}})
		ctx := context.Background()
		j, err := r.e.Rotate(ctx)
		for tries := 0; err != nil; tries++ {
			if tries == 30 {
				t.Fatalf("seed %d: the rotation did not finish after 30 resumes: %v", seed, err)
			}
			// Whatever stopped it, the CURRENT key still works.
			if !r.authenticates(r.item().Current) {
				t.Fatalf("seed %d: CURRENT rejected mid-rotation after %v", seed, err)
			}
			j, err = r.e.Resume(ctx)
		}
		t.Logf("seed %d: %d keys revoked at the sandbox", seed, func() int { _, rev := r.keys(); return len(rev) }())
		if j != nil && j.Step != StepDone {
			t.Fatalf("seed %d: ended at %s", seed, j.Step)
		}
		it := r.settled()
		if it.Current.Name == r.oldKey {
			t.Fatalf("seed %d: the key was not rotated", seed)
		}
	}
}
