package engine

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox"
)

// TestStoppedDrainGivesBackUnstartedClaims: the engine claims a batch of
// submissions in one commit; when the link fails part-way, the ones it
// never started go back to the queue at once, without an attempt counted,
// and the acknowledgements it already had are on disk when Drain returns.
func TestStoppedDrainGivesBackUnstartedClaims(t *testing.T) {
	r := newRig(t, single(rigOpts{engineMod: func(c *Config) { c.ClaimBatch = 16; c.Parallel = 1 }}))
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

// TestNoDoubleSendAfterClaimLease: on a thin link shared by several
// senders an upload can outlive the outbox's claim lease; the submission
// is then due again and a later claim returns it, but the engine must not
// start a second send of what a sender still holds.
func TestNoDoubleSendAfterClaimLease(t *testing.T) {
	eachPath(t, rigOpts{
		storeMod:  func(o *outbox.Options) { o.ClaimLease = 50 * time.Millisecond },
		clientMod: func(c *client.Config) { c.IdleTimeout = 5 * time.Second },
		engineMod: func(c *Config) { c.Parallel = 2; c.ClaimBatch = 16 },
	}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		r.proxy.SetRate(128 << 10) // each 64 KiB scan takes about a second with two sharing
		r.enqueue(3, 64<<10, 1)
		posts := r.proxy.Add(&faultproxy.Rule{Match: "POST /api/v1/", Action: faultproxy.Action{Kind: faultproxy.Pass}})
		patches := r.proxy.Add(&faultproxy.Rule{Match: "PATCH ", Action: faultproxy.Action{Kind: faultproxy.Pass}})
		if res := r.eng.Drain(context.Background()); res.Err != nil || res.Sent != 3 || res.Left != 0 {
			t.Fatalf("drain %+v", res)
		}
		// One by one: a PATCH and a POST each. In a batch: all three in
		// one POST (one claim), nothing else.
		wantPosts, wantPatches := int64(3), int64(3)
		if strings.Contains(post, "batch") {
			wantPosts, wantPatches = 1, 0
		}
		if posts.Hits() != wantPosts+1 || patches.Hits() != wantPatches { // +1: the closing heartbeat
			t.Fatalf("%d POSTs and %d PATCHes for 3 submissions of one blob each: something was sent twice", posts.Hits(), patches.Hits())
		}
		r.waitRecorded(5 * time.Second)
		r.verify()
	})
}

// cancelOnOpen cancels the drain's context when the engine opens its nth
// page: a shutdown landing while a batch is being read from the outbox.
type cancelOnOpen struct {
	Store
	opened atomic.Int32
	at     int32
	cancel context.CancelFunc
}

func (c *cancelOnOpen) OpenBlob(ctx context.Context, sha string) (*outbox.BlobReader, error) {
	if c.opened.Add(1) == c.at {
		c.cancel()
		return nil, ctx.Err()
	}
	return c.Store.OpenBlob(ctx, sha)
}

// TestShutdownWhilePreparingBatchGivesBackClaims: a pass stopped while it
// reads a batch's pages gives back every claim of that batch, those read
// and those not reached, so they are due again at once instead of sitting
// claimed until the lease ends (the chaos test's kiosks stop their engines
// this way, then drain; once 13 submissions stayed claimed for its whole
// two minutes).
func TestShutdownWhilePreparingBatchGivesBackClaims(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wrap := &cancelOnOpen{at: 2, cancel: cancel}
	r := newRig(t, rigOpts{engineMod: func(c *Config) {
		c.ClaimBatch, c.Parallel = 16, 1
		wrap.Store, c.Store = c.Store, wrap
	}})
	r.enqueue(6, 2<<10, 1)
	if res := r.eng.Drain(ctx); res.Sent != 0 || wrap.opened.Load() < 2 {
		t.Fatalf("stopped drain %+v after %d pages opened", res, wrap.opened.Load())
	}
	if res := r.eng.Drain(context.Background()); res.Err != nil || res.Sent != 6 || res.Left != 0 {
		t.Fatalf("drain after the stop %+v: every claim must be due again at once", res)
	}
	r.verify()
}
