package engine

import (
	"context"
	"testing"
	"time"

	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox"
)

// TestStoppedDrainGivesBackUnstartedClaims: the engine claims a batch of
// submissions in one commit; when the link fails part-way, the ones it
// never started go back to the queue at once, without an attempt counted,
// and the acknowledgements it already had are on disk when Drain returns.
func TestStoppedDrainGivesBackUnstartedClaims(t *testing.T) {
	r := newRig(t, rigOpts{engineMod: func(c *Config) { c.ClaimBatch = 16; c.Parallel = 1 }})
	rc := r.enqueue(6, 2<<10, 1)
	// The platform is unavailable for the third submission's POST.
	down := r.proxy.Add(&faultproxy.Rule{Match: `"receipt":"` + rc[2] + `"`, Action: faultproxy.RespondWith(503, nil, "")})
	ctx := context.Background()
	res := r.eng.Drain(ctx)
	if res.Err == nil || res.Sent != 2 || res.Left != 4 || down.Hits() == 0 {
		t.Fatalf("drain %+v (503s served %d)", res, down.Hits())
	}
	for i, want := range []struct {
		state    string
		attempts int
	}{
		{outbox.StateSent, 1}, {outbox.StateSent, 1}, // delivered, marks written before Drain returned
		{outbox.StatePending, 1},                                                     // tried and failed
		{outbox.StatePending, 0}, {outbox.StatePending, 0}, {outbox.StatePending, 0}, // claimed, never started
	} {
		rec, err := r.store.Lookup(ctx, rc[i])
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != want.state || rec.Attempts != want.attempts {
			t.Errorf("%s: state %s attempts %d, want %s %d", rc[i], rec.State, rec.Attempts, want.state, want.attempts)
		}
	}
	if at, ok, err := r.store.NextAttemptAt(ctx); err != nil || !ok || at.After(time.Now()) {
		t.Errorf("next attempt %v %v %v: the released claims must be due at once", at, ok, err)
	}
	r.proxy.ClearRules()
	if res := r.eng.Drain(ctx); res.Err != nil || res.Sent != 4 || res.Left != 0 {
		t.Fatalf("second drain %+v", res)
	}
	r.verify()
}

// TestClaimBatchOfOneStillDrains: the engine works with batching off.
func TestClaimBatchOfOneStillDrains(t *testing.T) {
	r := newRig(t, rigOpts{engineMod: func(c *Config) { c.ClaimBatch = 1; c.Parallel = 3 }})
	r.enqueue(7, 3<<10, 2)
	r.runUntilDelivered(30 * time.Second)
	r.verify()
}
