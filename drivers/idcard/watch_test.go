package idcard_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

func next(t *testing.T, ch <-chan idcard.Event, want idcard.EventKind) idcard.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed waiting for %v", want)
		}
		if e.Kind != want {
			t.Fatalf("event %v (err %v), want %v", e.Kind, e.Err, want)
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("no %v event", want)
	}
	return idcard.Event{}
}

func quietFor(t *testing.T, ch <-chan idcard.Event, d time.Duration) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected %v event (err %v)", e.Kind, e.Err)
	case <-time.After(d):
	}
}

func TestWatchPlaceReadRemove(t *testing.T) {
	rg := newRig(t, 115200, 115200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := rg.r.Watch(ctx, idcard.WatchOptions{Interval: 20 * time.Millisecond})
	next(t, ch, idcard.DeviceReady)

	rg.sim.Place("hkmotw")
	next(t, ch, idcard.CardPlaced)
	e := next(t, ch, idcard.IdentityRead)
	if e.Err != nil || e.Identity == nil || e.Identity.Type != idcard.HKMOTW || e.Identity.PermitNumber != "H87654321" {
		t.Fatalf("identity event %+v", e)
	}
	// The card stays: no second read, no removal.
	quietFor(t, ch, 300*time.Millisecond)
	rg.sim.Remove()
	next(t, ch, idcard.CardRemoved)

	rg.sim.Place("expired")
	next(t, ch, idcard.CardPlaced)
	e = next(t, ch, idcard.IdentityRead)
	if !errors.Is(e.Err, idcard.ErrExpired) || e.Identity == nil || e.Identity.ValidTo != "20150101" {
		t.Fatalf("expired card event %+v", e)
	}
	rg.sim.Remove()
	next(t, ch, idcard.CardRemoved)

	cancel()
	for range ch {
	}
}

func TestWatchReadFailures(t *testing.T) {
	tests := []struct {
		fault    string
		attempts int
		want     error // nil: the retry reads the card
	}{
		{"checksum", 1, idcard.ErrChecksum},
		{"readfail", 1, idcard.ErrReadFailed},
		{"pull", 2, serialport.ErrTimeout}, // the card has gone: retrying cannot help
		// A failed RF read leaves the card unread, so the retry finds it
		// again. (After a line error the SAM has read the card and find
		// answers 0x80: only a new placement helps.)
		{"readfail", 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			rg := newRig(t, 115200, 115200)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Scale 2: the pulled card's read must time out well within next's wait.
			r := idcard.NewReader(rg.port, idcard.Options{Logger: quiet, TimeoutScale: 2})
			ch := r.Watch(ctx, idcard.WatchOptions{Interval: 20 * time.Millisecond, ReadAttempts: tc.attempts})
			next(t, ch, idcard.DeviceReady)
			rg.sim.Fault(tc.fault)
			rg.sim.Place("resident")
			next(t, ch, idcard.CardPlaced)
			if tc.want == nil {
				if e := next(t, ch, idcard.IdentityRead); e.Identity == nil || e.Identity.Name != "王晓梅" {
					t.Fatalf("retry did not read the card: %+v", e)
				}
				return
			}
			e := next(t, ch, idcard.ReadFailed)
			if !errors.Is(e.Err, tc.want) || e.Identity != nil {
				t.Fatalf("read failed with %v, want %v", e.Err, tc.want)
			}
			if tc.fault == "pull" {
				next(t, ch, idcard.CardRemoved)
				return
			}
			// The card is still there: Watch waits for it to leave.
			quietFor(t, ch, 200*time.Millisecond)
			rg.sim.Remove()
			next(t, ch, idcard.CardRemoved)
		})
	}
}

// TestWatchUnplugReplug pulls the reader's USB adapter (the pty closes)
// and plugs a new one in at the same stable path.
func TestWatchUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "idcard")
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewIDCard(sim.IDCardConfig{Logger: quiet})
	sctx, stopSim := context.WithCancel(context.Background())
	go s.Serve(sctx, pt)
	p, err := serialport.Open(serialport.Config{Path: link, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := idcard.NewReader(p, idcard.Options{Logger: quiet, TimeoutScale: 4}).Watch(ctx, idcard.WatchOptions{Interval: 20 * time.Millisecond, ErrorBackoff: 100 * time.Millisecond})
	next(t, ch, idcard.DeviceReady)

	stopSim()
	pt.Close()
	e := next(t, ch, idcard.DeviceError)
	if !errors.Is(e.Err, serialport.ErrDisconnected) {
		t.Fatalf("device error %v, want ErrDisconnected", e.Err)
	}
	if p.State().Status != serialport.StatusAbsent {
		t.Fatalf("port state %v", p.State())
	}

	pt2, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	defer pt2.Close()
	sctx2, stopSim2 := context.WithCancel(context.Background())
	defer stopSim2()
	go s.Serve(sctx2, pt2)
	replugged := time.Now()
	next(t, ch, idcard.DeviceReady)
	if d := time.Since(replugged); d > 2*time.Second {
		t.Fatalf("reader back after %v, want within 2 s", d)
	}
	s.Place("elder")
	next(t, ch, idcard.CardPlaced)
	if e := next(t, ch, idcard.IdentityRead); e.Identity == nil || e.Identity.ValidTo != idcard.LongTerm {
		t.Fatalf("after replug: %+v", e)
	}
}
