package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// StartupSettle is how long after start ReleaseStartupMemory waits: the
// window, the stack and (in demo mode) the simulators and platform are up
// well within it even on a loaded machine.
const StartupSettle = 5 * time.Second

// ReleaseStartupMemory returns to the OS, once, the heap pages that start-up
// left free. Start-up makes garbage in bursts (the font parsed per text
// style, the catalog, the demo's PIN hash with its 8 MiB argon2 block) and
// the runtime keeps those pages resident for as long as the heap stays
// under its GC goal, which on an idle kiosk is forever: about 8 MiB of
// VmRSS measured in demo mode. The heap grows again as residents use the
// kiosk; this only stops start-up from setting the idle footprint. The
// returned channel closes when it has run or ctx ended first.
func ReleaseStartupMemory(ctx context.Context, after time.Duration, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(after)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		debug.FreeOSMemory()
		log.Debug("start-up garbage returned to the OS", "took", time.Since(start).Round(time.Millisecond).String())
	}()
	return done
}
