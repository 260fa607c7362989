// Package simtest starts drivers/sim's simulators on pseudo-terminals for
// tests; what it opens is closed when the test ends.
package simtest

import (
	"context"
	"log/slog"
	"testing"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
)

// PTY opens a pseudo-terminal, with a stable link at link unless it is "".
func PTY(t testing.TB, link string) *sim.PTY {
	t.Helper()
	p, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Printer serves a simulated generic 80 mm receipt printer on a new PTY at
// link until ctx ends.
func Printer(t testing.TB, ctx context.Context, link string, log *slog.Logger) *sim.Printer {
	t.Helper()
	prof, err := escpos.LoadProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sim.NewPrinter(prof, sim.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	go sp.Serve(ctx, PTY(t, link))
	return sp
}
