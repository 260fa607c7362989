package techui_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/kiosk/techui"
	"onedoor/sync/engine"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
)

// syncer stands in for the engine: it reports a fixed progress and counts
// nudges.
type syncer struct {
	nudges atomic.Int32
	p      engine.Progress
}

func (s *syncer) Nudge()                    { s.nudges.Add(1) }
func (s *syncer) Progress() engine.Progress { return s.p }

// TestQueuePageRetriesRejected: the Queue page shows counts, the oldest
// item's age and a rejected submission with its reason (masked); Retry
// puts it back in the real outbox and wakes the engine.
func TestQueuePageRetriesRejected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newClock()
	st, err := outbox.Open(ctx, outbox.Options{Dir: filepath.Join(dir, "data"), KeyFile: filepath.Join(dir, "keys", "k"),
		KioskID: "K01", Clock: clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2 {
		if _, err := st.Submit(ctx, devdata.Submission(rng, i, 100, 1)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := st.NextDue(ctx, clock.Now())
	if err != nil || p == nil {
		t.Fatalf("NextDue: %v %v", p, err)
	}
	const idInReason = "440305199006120240"
	if err := st.MarkRejected(ctx, p.UUID, "item withdrawn; applicant "+idInReason); err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Minute)

	sy := &syncer{p: engine.Progress{State: engine.StateIdle, ItemsLeft: 1}}
	cfg := baseConfig(dir)
	r := newRig(t, rigOptions{dir: dir, cfg: &cfg, clock: clock, deps: func(d *techui.Deps) {
		d.Queue, d.Syncer = st, sy
	}})
	r.open()
	r.tap(r.tr("tech.tab.queue"))
	r.settle()
	s := r.screen()
	if want := r.tr("tech.queue.counts", 1, 0, 0, 1); !strings.Contains(s, want) {
		t.Fatalf("screen lacks %q:\n%s", want, s)
	}
	if want := r.tr("tech.queue.oldest", "1h30m0s"); !strings.Contains(s, want) {
		t.Errorf("screen lacks %q:\n%s", want, s)
	}
	if !strings.Contains(s, p.Receipt) || !strings.Contains(s, "item withdrawn") {
		t.Errorf("the rejected submission and its reason are not shown:\n%s", s)
	}
	if strings.Contains(s, idInReason) {
		t.Error("the reason shows an ID number in clear")
	}

	r.tap(r.tr("tech.queue.retry") + "\n" + p.Receipt)
	r.settle()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Counts[outbox.StateRejected] != 0 || stats.Counts[outbox.StatePending] != 2 {
		t.Fatalf("after retry: counts %v", stats.Counts)
	}
	if sy.nudges.Load() == 0 {
		t.Error("retry did not wake the engine")
	}
	if want := r.tr("tech.queue.counts", 2, 0, 0, 0); !strings.Contains(r.screen(), want) {
		t.Errorf("page not refreshed: lacks %q", want)
	}
	if !strings.Contains(r.audits.joined(), techui.EventRetry) {
		t.Error("retry not audited")
	}

	// One submission waits out a backoff of an hour; "sync now" makes it
	// due at once (the technician just fixed the link) and wakes the engine.
	w, err := st.NextDue(ctx, clock.Now())
	if err != nil || w == nil {
		t.Fatalf("NextDue: %v %v", w, err)
	}
	if err := st.MarkRetry(ctx, w.UUID, "link down", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := sy.nudges.Load()
	r.tap(r.tr("tech.queue.sync_now"))
	r.settle()
	if sy.nudges.Load() != before+1 {
		t.Error("sync now did not nudge the engine")
	}
	if due, err := st.NextDue(ctx, clock.Now()); err != nil || due == nil || due.UUID != w.UUID {
		t.Errorf("after sync now the waiting submission is not due: %v, %v", due, err)
	}
	if want := r.tr("tech.queue.sync_started", 1); !strings.Contains(r.screen(), want) {
		t.Errorf("screen lacks %q", want)
	}
}
