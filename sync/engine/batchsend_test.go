package engine

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/faultproxy"
)

// dropPage is the real client, except that the first batch it sends leaves
// out one page's bytes: the platform then answers that submission with
// missing_blobs, as it does for a page refused on arrival.
type dropPage struct {
	*client.Client
	dropped atomic.Bool
}

func (d *dropPage) SubmitBatch(ctx context.Context, items []client.BatchItem) ([]client.BatchOutcome, error) {
	if len(items) > 0 && len(items[0].Blobs) > 0 && d.dropped.CompareAndSwap(false, true) {
		first := items[0]
		first.Blobs = first.Blobs[1:]
		items = append([]client.BatchItem{first}, items[1:]...)
	}
	return d.Client.SubmitBatch(ctx, items)
}

func TestBatchMissingPageGoesByResumableUpload(t *testing.T) {
	r := newRig(t, rigOpts{})
	rc := r.enqueue(3, 20<<10, 2)
	dp := &dropPage{Client: r.client}
	r.eng.cfg.Platform = dp
	page := r.promised[rc[0]].blobs[0]
	patch := r.proxy.Add(&faultproxy.Rule{Match: "PATCH " + api.PathBlobs + page, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	alone := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathSubmissions, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	res := r.eng.Drain(context.Background())
	if res.Err != nil || res.Sent != 3 || !dp.dropped.Load() {
		t.Fatalf("drain %+v", res)
	}
	if patch.Hits() != 1 || alone.Hits() != 1 {
		t.Fatalf("the missing page went by %d PATCHes and its submission by %d single POSTs, want 1 and 1", patch.Hits(), alone.Hits())
	}
	r.verify()
}

func TestBatchCorruptedInTransit(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.enqueue(3, 30<<10, 1)
	// A byte of the batch flipped on the way: the body no longer hashes to
	// what was signed, the platform refuses it whole (401) and takes
	// nothing, and the fresh attempt goes through.
	rule := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathBatch, Times: 1, Action: faultproxy.Action{Kind: faultproxy.Corrupt, After: 40 << 10}})
	r.runUntilDelivered(20 * time.Second)
	if p := r.eng.Progress(); rule.Hits() != 1 || p.Rejected != 0 || p.Sent != 3 {
		t.Fatalf("hits %d, progress %+v", rule.Hits(), p)
	}
	r.verify()
}

func TestBatchOlderPlatform(t *testing.T) {
	r := newRig(t, rigOpts{engineMod: func(c *Config) { c.Parallel = 4 }})
	r.enqueue(10, 8<<10, 1)
	// A platform from before the batch endpoint: the reference platform's
	// answer to an unknown path.
	old := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathBatch, Action: faultproxy.RespondWith(404,
		map[string]string{"Content-Type": "application/json"}, `{"code":"not_found","message":"no such endpoint (paths are lower case)"}`)})
	alone := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathSubmissions, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	r.runUntilDelivered(20 * time.Second)
	r.verify()
	// Each sender may have had a batch on the way when the first 404
	// came; after that, none.
	if old.Hits() < 1 || old.Hits() > 4 || alone.Hits() != 10 {
		t.Fatalf("%d batches refused, %d single POSTs", old.Hits(), alone.Hits())
	}
	if p := r.eng.Progress(); p.Rejected != 0 || p.Sent != 10 {
		t.Fatalf("progress %+v", p)
	}
}

func TestBatchAndLargePagesTogether(t *testing.T) {
	r := newRig(t, rigOpts{engineMod: func(c *Config) { c.Parallel = 4 }})
	for i := 0; i < 4; i++ {
		r.enqueue(3, 16<<10, 1)
		r.enqueue(1, 700<<10, 1) // over BatchBlobMax: resumable upload
	}
	batches := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathBatch, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	alone := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathSubmissions, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	r.runUntilDelivered(30 * time.Second)
	r.verify()
	if batches.Hits() == 0 || alone.Hits() != 4 {
		t.Fatalf("%d batches, %d single POSTs (want 4: the large pages)", batches.Hits(), alone.Hits())
	}
}

// TestRecoveryWhenTheLinkReturns: with the default probe interval, a kiosk
// that has been offline for a while starts sending soon after the link
// comes back, and its state (what the offline banner shows) leaves
// "offline" once the platform answers. The limits are generous test
// timeouts; syncbench recover measures the delay.
func TestRecoveryWhenTheLinkReturns(t *testing.T) {
	r := newRig(t, rigOpts{engineMod: func(c *Config) { c.ProbeMin, c.ProbeMax = 0, 0 }}) // the defaults
	r.proxy.SetDown(true)
	r.enqueue(2, 16<<10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := r.eng.Start(ctx)
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, func() bool { return r.eng.Progress().State == StateOffline })
	// Long enough for the probe interval to reach its cap.
	time.Sleep(8 * time.Second)
	if st, _ := r.store.Stats(ctx); st.Queued != 2 || r.eng.Progress().State != StateOffline {
		t.Fatalf("queued %d, state %s while the link is down", st.Queued, r.eng.Progress().State)
	}
	r.proxy.SetDown(false)
	waitFor(t, 30*time.Second, func() bool {
		st, _ := r.store.Stats(ctx)
		return st.Queued == 0
	})
	waitFor(t, 10*time.Second, func() bool { return r.eng.Progress().State != StateOffline })
	r.verify()
	if p := r.eng.Progress(); strings.Contains(string(p.State), "offline") {
		t.Fatalf("state %s after delivering", p.State)
	}
}
