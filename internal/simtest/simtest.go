// Package simtest starts drivers/sim's simulators on pseudo-terminals for
// tests; what it opens is closed when the test ends.
package simtest

import (
	"context"
	"sync"
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

// Profile loads the printer profile named name.
func Profile(t testing.TB, name string) escpos.Profile {
	t.Helper()
	prof, err := escpos.LoadProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return prof
}

// Serve runs serve (a simulator's Serve) on a new PTY (with a stable link
// at link unless it is "") until the test ends or stop is called (as when
// its USB adapter is pulled): stop closes the PTY and waits for serve to
// return.
func Serve(t testing.TB, link string, serve func(context.Context, *sim.PTY) error) (pt *sim.PTY, stop func()) {
	t.Helper()
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = serve(ctx, pt) }()
	stop = sync.OnceFunc(func() { cancel(); pt.Close(); <-done })
	t.Cleanup(stop)
	return pt, stop
}

// Printer serves a simulated printer of profile prof as Serve does.
func Printer(t testing.TB, link string, prof escpos.Profile, opts ...sim.PrinterOption) (sp *sim.Printer, pt *sim.PTY, stop func()) {
	t.Helper()
	sp, err := sim.NewPrinter(prof, opts...)
	if err != nil {
		t.Fatal(err)
	}
	pt, stop = Serve(t, link, sp.Serve)
	return sp, pt, stop
}
