package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/drivers/scanner"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// gate holds calls until the test releases them, in whatever order it
// chooses: the scanner and the outbox answering out of order.
type gate struct {
	mu      sync.Mutex
	waiting []chan struct{}
	started chan int
}

func newGate() *gate { return &gate{started: make(chan int, 16)} }

// wait blocks call number n (0-based, in call order) until released.
func (g *gate) wait(ctx context.Context) (int, error) {
	ch := make(chan struct{})
	g.mu.Lock()
	n := len(g.waiting)
	g.waiting = append(g.waiting, ch)
	g.mu.Unlock()
	g.started <- n
	select {
	case <-ch:
		return n, nil
	case <-ctx.Done():
		return n, ctx.Err()
	}
}

func (g *gate) release(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.waiting[n])
}

// gatedScanner answers the n-th scan with a page whose Width is n+1, so the
// test can tell whose page ended up where.
type gatedScanner struct{ g *gate }

func (s gatedScanner) Scan(ctx context.Context, _ scanner.Options, _ func(done, total int64)) (scanner.Page, error) {
	n, err := s.g.wait(ctx)
	if err != nil {
		return scanner.Page{}, err
	}
	return scanner.Page{Width: n + 1, Height: 1, DPI: 150}, nil
}

// gatedStore answers lookups by receipt number with that receipt, after
// the gate; nothing else is needed here.
type gatedStore struct{ g *gate }

func (s gatedStore) Lookup(ctx context.Context, receipt string) (outbox.Record, error) {
	if _, err := s.g.wait(ctx); err != nil {
		return outbox.Record{}, err
	}
	return outbox.Record{Receipt: receipt, ItemID: "ss-pension-cert", State: outbox.StatePending, CreatedAt: time.Now()}, nil
}

func (gatedStore) Submit(context.Context, outbox.NewSubmission) (outbox.Receipt, error) {
	return outbox.Receipt{}, errors.New("not in this test")
}

func (gatedStore) LookupByID(context.Context, string) ([]outbox.Record, error) {
	return nil, errors.New("not in this test")
}

func (gatedStore) SaveRating(context.Context, api.Rating) error { return nil }

// passEligibility confirms every condition the kiosk cannot check and goes
// on, as a resident who meets them does (uitest.PassEligibility for an
// App); it does nothing outside the eligibility step.
func passEligibility(a *App) { uitest.ConfirmEligibility(a.m.State(), a.Dispatch) }

// TestLateAnswersCarrySeq: a scan and a lookup still running when their
// resident's session ends are answered after the next resident started
// their own, and out of order. The app echoes each effect's Seq, so the
// flow takes the next resident's own answer and drops the late one; a
// bare answer would be matched by arrival order and give the next
// resident the previous one's page or applications.
func TestLateAnswersCarrySeq(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	scans, lookups := newGate(), newGate()
	q := &queue{}
	a, err := New(Deps{Catalog: cat, Tr: i18n.New(), Store: gatedStore{lookups}, Scanner: gatedScanner{scans},
		Post: q.post, TickEvery: -1, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	t.Cleanup(a.Stop)
	dispatch := func(evs ...flow.Event) {
		for _, ev := range evs {
			a.Dispatch(ev)
		}
	}
	endSession := func() {
		t.Helper()
		dispatch(flow.Cancel{})
		if a.m.State().Confirm != flow.ConfirmNone {
			dispatch(flow.ConfirmYes{})
		}
		if st := a.m.State().Step; st != flow.StepHome {
			t.Fatalf("session did not end: at %s", st)
		}
	}
	started := func(g *gate, want int) {
		t.Helper()
		select {
		case n := <-g.started:
			if n != want {
				t.Fatalf("call %d started, want %d", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d never started", want)
		}
	}
	// answer releases call n and runs its answer on the test goroutine.
	answer := func(g *gate, n int, left int64) {
		t.Helper()
		g.release(n)
		deadline := time.Now().Add(10 * time.Second)
		for a.inflight.Load() > left {
			if time.Now().After(deadline) {
				t.Fatalf("call %d not answered", n)
			}
			time.Sleep(time.Millisecond)
		}
		q.drain()
	}
	toMaterials := func() {
		t.Helper()
		dispatch(flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{},
			flow.CardRead{Identity: uitest.Fictional()})
		passEligibility(a)
		dispatch(flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "address", Value: "东莞市示例镇演示路1号"},
			flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{})
		if st := a.m.State().Step; st != flow.StepMaterials {
			t.Fatalf("at %s, want materials", st)
		}
	}
	photo := func() flow.MaterialState {
		for _, ms := range a.m.State().Materials {
			if ms.Material.ID == "photo" {
				return ms
			}
		}
		t.Fatal("no photo material")
		return flow.MaterialState{}
	}

	t.Run("scan", func(t *testing.T) {
		toMaterials()
		dispatch(flow.Scan{MaterialID: "photo"}) // first resident's page
		started(scans, 0)
		endSession()
		toMaterials()
		dispatch(flow.Scan{MaterialID: "photo"}) // next resident's page
		started(scans, 1)
		answer(scans, 1, 1)
		answer(scans, 0, 0)
		ms := photo()
		if ms.Scanning || len(ms.Pages) != 1 {
			t.Fatalf("next resident's photo: scanning=%v, %d pages; want their one page", ms.Scanning, len(ms.Pages))
		}
		if p, ok := a.pages[ms.Pages[0].Ref]; !ok || p.Width != 2 {
			t.Errorf("next resident's photo is scan %d, want their own (2)", p.Width)
		}
		if len(a.pages) != 1 {
			t.Errorf("the app keeps %d pages; the late one should be discarded", len(a.pages))
		}
		endSession()
	})

	t.Run("lookup", func(t *testing.T) {
		const first, next = "DG0001-20260101-0001", "DG0001-20260101-0002"
		dispatch(flow.OpenLookup{}, flow.EnterReceiptNo{Number: first, Code: "7K3QD-M9XTA"})
		started(lookups, 0)
		endSession()
		dispatch(flow.OpenLookup{}, flow.EnterReceiptNo{Number: next, Code: "7K3QD-M9XTA"})
		started(lookups, 1)
		answer(lookups, 1, 1)
		answer(lookups, 0, 0)
		lk := a.m.State().Lookup
		if !lk.Done || len(lk.Results) != 1 || lk.Results[0].ReceiptNo != next {
			t.Errorf("next resident's lookup: done=%v results %+v; want only %s", lk.Done, lk.Results, next)
		}
	})
}
