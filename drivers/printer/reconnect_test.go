package printer

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
)

func servePTY(t *testing.T, link string, prof escpos.Profile) (*sim.Printer, func()) {
	t.Helper()
	sp, _, stop := simtest.Printer(t, link, prof)
	return sp, stop
}

// The USB adapter is pulled and plugged back: the driver reports the
// printer missing, then finds it again on the same stable name by itself.
func TestReconnectAfterUnplug(t *testing.T) {
	prof, _ := escpos.LoadProfile("generic-58")
	link := filepath.Join(t.TempDir(), "printer")
	_, unplug := servePTY(t, link, prof)
	drv, err := Open(link, Options{Baud: 115200, Profile: prof, StatusTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	ctx := context.Background()
	if _, err := drv.Status(ctx); err != nil {
		t.Fatal(err)
	}
	unplug()
	if _, err := drv.Status(ctx); err == nil {
		t.Fatal("status answered with the printer unplugged")
	}
	sp, unplug2 := servePTY(t, link, prof)
	defer unplug2()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := drv.Status(ctx)
		if err == nil && st.Ready() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("printer not found again: %v (port %s)", err, drv.PortState())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := drv.Print(ctx, SampleReceipt()); err != nil {
		t.Fatal(err)
	}
	if len(sp.Pages()) != 1 {
		t.Fatal("receipt not printed after replug")
	}
}

func TestEventsReportFaults(t *testing.T) {
	r := newRig(t, "generic-80", 115200)
	ctx := context.Background()
	r.sim.SetCoverOpen(true)
	if _, err := r.drv.Status(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-r.drv.Events():
		if !errors.Is(ev.Err, ErrCoverOpen) || !ev.Status.CoverOpen {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for the open cover")
	}
	r.sim.SetCoverOpen(false)
	if _, err := r.drv.Status(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-r.drv.Events():
		if ev.Err != nil {
			t.Fatalf("want a ready event, got %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event when the cover closed")
	}
}

func TestMonitorReportsIdleFaults(t *testing.T) {
	r := newRig(t, "generic-80", 115200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.drv.Monitor(ctx, 50*time.Millisecond)
	next := func(want error) {
		t.Helper()
		select {
		case ev := <-r.drv.Events():
			if !errors.Is(ev.Err, want) && !(want == nil && ev.Err == nil) {
				t.Fatalf("event %+v, want %v", ev, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event, want %v", want)
		}
	}
	next(nil) // first poll: ready
	r.sim.SetPaperLeft(0)
	next(ErrPaperOut)
	r.sim.RefillPaper()
	next(nil)
}
