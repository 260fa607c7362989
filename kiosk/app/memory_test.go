package app

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

func TestReleaseStartupMemory(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	retained := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapIdle - ms.HeapReleased
	}
	tests := []struct {
		name         string
		cancelFirst  bool
		wantReleased bool
	}{
		{name: "after the delay", wantReleased: true},
		{name: "ctx ended first", cancelFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// As in the kiosk: a live heap (parsed fonts) whose GC goal
			// leaves room for start-up garbage to stay resident, and 24 MiB
			// of that garbage freed by a GC.
			alloc := func(n int) [][]byte {
				b := make([][]byte, n)
				for i := range b {
					b[i] = make([]byte, 1<<20)
					b[i][0] = 1
				}
				return b
			}
			live := alloc(64)
			defer runtime.KeepAlive(live)
			garbage := alloc(24)
			runtime.KeepAlive(garbage)
			garbage = nil
			runtime.GC()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			delay := 20 * time.Millisecond
			if tc.cancelFirst {
				cancel()
				delay = time.Hour
			}
			select {
			case <-ReleaseStartupMemory(ctx, delay, log):
			case <-time.After(10 * time.Second):
				t.Fatal("ReleaseStartupMemory did not finish")
			}
			r := retained()
			switch {
			case tc.wantReleased && r > 8<<20:
				t.Errorf("%.1f MiB of free heap still resident after the release", float64(r)/(1<<20))
			case !tc.wantReleased && r < 16<<20:
				// Without the release the garbage must still be resident,
				// or the first case proves nothing.
				t.Errorf("only %.1f MiB of free heap resident without a release", float64(r)/(1<<20))
			}
		})
	}
}
