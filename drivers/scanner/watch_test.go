package scanner

import (
	"context"
	"testing"
	"time"
)

func TestWatchReportsChanges(t *testing.T) {
	r := newRig(t, 0, nil, SerialConfig{ReplyTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	events := r.drv.Watch(ctx, 20*time.Millisecond)
	next := func() Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return Event{}
		}
	}
	steps := []struct {
		name   string
		action func()
		want   Status
	}{
		{"initial: empty", func() {}, Status{}},
		{"sheet placed", func() { mustFeed(t, r.sim, "form", 1) }, Status{Paper: true, Sheets: 1}},
		{"jam", func() { mustFault(t, r.sim, "jam") }, Status{Paper: true, Jam: true, Sheets: 1}},
		{"cleared", func() { r.sim.Clear() }, Status{Paper: true, Sheets: 1}},
	}
	for _, st := range steps {
		st.action()
		ev := next()
		if ev.Err != nil || ev.Status != st.want {
			t.Fatalf("%s: event %+v, want %+v", st.name, ev, st.want)
		}
	}
	// A scan in between is not disturbed by the polling.
	if _, err := r.drv.Acquire(ctx, Options{DPI: 100}, nil); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Status.Paper || ev.Status.Sheets != 0 {
		t.Fatalf("after the scan: %+v", ev)
	}
	cancel()
	for range events {
	}
}
