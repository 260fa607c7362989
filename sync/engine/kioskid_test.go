package engine

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// TestKioskIDChangeHoldsQueue: kiosk.id is changed (to an ID the platform
// issued, DG-0001) while submissions made as K042 are queued. The engine
// now signs as DG-0001, and the platform takes a submission only from the
// kiosk that made it: sent, each would be refused with a 4xx and kept as a
// permanent rejection. The engine holds them instead, queued, with a
// reason the technician sees in the queue's failures; once kiosk.id is set
// back they are delivered, each exactly once. Real platform over loopback.
func TestKioskIDChangeHoldsQueue(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := t.Context()
	queued := r.enqueue(3, 2048, 1)

	const newID = "DG-0001"
	token := fmt.Sprintf("%064x", sha256.Sum256([]byte(t.Name()+newID)))
	if err := r.plat.store.AddKiosk(ctx, newID, token, time.Now()); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(client.Config{BaseURL: r.proxy.URL(), KioskID: newID, Token: token,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond, IdleTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	renamed, err := New(Config{Store: r.store, Platform: cl, KioskID: newID, Version: "test",
		RetryBase: 20 * time.Millisecond, RetryMax: time.Hour, ProbeMin: 10 * time.Millisecond, ProbeMax: 100 * time.Millisecond,
		PollInterval: time.Hour, HeartbeatInterval: time.Hour, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	res := renamed.Drain(ctx)
	if res.Err != nil || res.Rejected != 0 || res.Sent != 0 || res.Left != len(queued) {
		t.Fatalf("drain as %s: %+v; want all %d held, none rejected", newID, res, len(queued))
	}
	if pr := renamed.Progress(); pr.Held != len(queued) || !strings.Contains(pr.LastError, "K042") {
		t.Errorf("progress %+v; want %d held, saying why", pr, len(queued))
	}
	st, err := r.store.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[outbox.StateRejected] != 0 || len(st.Failed) != len(queued) {
		t.Fatalf("outbox after the drain: %+v", st)
	}
	for _, f := range st.Failed {
		if f.State != outbox.StatePending || !strings.Contains(f.Reason, "queued as kiosk K042") || !strings.Contains(f.Reason, newID) {
			t.Errorf("technician sees %+v; want it queued with the reason", f)
		}
	}
	if rows := r.plat.export(t); len(rows) != 0 {
		t.Fatalf("platform holds %d submissions sent under the wrong kiosk", len(rows))
	}

	// kiosk.id set back; `onedoor sync now` makes the held ones due.
	if _, err := r.store.DueNow(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if res := r.eng.Drain(ctx); res.Err != nil || res.Sent != len(queued) || res.Left != 0 {
		t.Fatalf("drain as K042 again: %+v", res)
	}
	r.verify()
}
