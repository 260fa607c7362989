package devices_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/pii"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func pty(t *testing.T, link string) *sim.PTY { return simtest.PTY(t, link) }

func simPrinter(t *testing.T, link string) *sim.Printer {
	t.Helper()
	sp, _, _ := simtest.Printer(t, link, simtest.Profile(t, "generic-80"), sim.WithLogger(quiet))
	return sp
}

func baseConfig(t *testing.T) config.Config {
	c := config.Default()
	dir := t.TempDir()
	c.Storage.DataDir = filepath.Join(dir, "data")
	c.Storage.KeyFile = filepath.Join(dir, "key")
	c.Devices.IDCard.Enabled, c.Devices.Scanner.Enabled = false, false
	return c
}

// TestPrinterMovesWithoutRestart: the app's printer front keeps working
// when Apply moves the printer to another port, and jobs reach the printer
// on the new port only.
func TestPrinterMovesWithoutRestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	a := simPrinter(t, filepath.Join(dir, "printer-a"))
	b := simPrinter(t, filepath.Join(dir, "printer-b"))

	c := baseConfig(t)
	c.Devices.Printer.Port = filepath.Join(dir, "printer-a")
	m, err := devices.Open(ctx, c, devices.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	front := m.Printer() // what the app holds for the whole run

	print := func() {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := front.Print(pctx, printer.SampleReceipt()); err != nil {
			t.Fatalf("print: %v", err)
		}
	}
	print()
	if len(a.Pages()) != 1 || len(b.Pages()) != 0 {
		t.Fatalf("before the move: a printed %d, b %d pages", len(a.Pages()), len(b.Pages()))
	}
	c.Devices.Printer.Port = filepath.Join(dir, "printer-b")
	if err := m.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	print()
	if len(a.Pages()) != 1 || len(b.Pages()) != 1 {
		t.Fatalf("after the move: a printed %d, b %d pages; want 1 and 1", len(a.Pages()), len(b.Pages()))
	}
	if !strings.Contains(b.Pages()[0].Text, "受理回执") {
		t.Errorf("printer b page text %q lacks the receipt title", b.Pages()[0].Text)
	}
	st := m.Status()[1]
	if st.Kind != devices.KindPrinter || st.Port != filepath.Join(dir, "printer-b") || st.State != "ok" {
		t.Errorf("printer status %+v", st)
	}
	// Disabling the printer leaves the front failing as an absent printer.
	c.Devices.Printer.Enabled = false
	if err := m.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := front.Print(ctx, printer.SampleReceipt()); !errors.Is(err, printer.ErrOffline) {
		t.Errorf("print with the printer disabled: %v, want ErrOffline", err)
	}
	if st := m.Status()[1]; st.State != "off" {
		t.Errorf("disabled printer state %q", st.State)
	}
}

// TestCardEventsSurviveReopen: the resident flow's Watch keeps delivering
// after the reader moves to another port, is held back while the
// technician screens are open, and a test read gets a masked identity.
func TestCardEventsSurviveReopen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	var sims []*sim.IDCard
	for _, name := range []string{"card-a", "card-b"} {
		s := sim.NewIDCard(sim.IDCardConfig{Logger: quiet})
		go s.Serve(ctx, pty(t, filepath.Join(dir, name)))
		sims = append(sims, s)
	}
	c := baseConfig(t)
	c.Devices.Printer.Enabled = false
	c.Devices.IDCard = config.Device{Enabled: true, Port: filepath.Join(dir, "card-a"), Baud: 115200}
	m, err := devices.Open(ctx, c, devices.Options{Logger: quiet, Watch: idcard.WatchOptions{Interval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	events := m.Cards().Watch(ctx, idcard.WatchOptions{})
	waitRead := func(want string) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Kind == idcard.IdentityRead && ev.Identity != nil {
					if ev.Identity.IDNumber != want {
						t.Fatalf("read %s, want %s", pii.MaskID(ev.Identity.IDNumber), pii.MaskID(want))
					}
					return
				}
			case <-timeout:
				t.Fatal("no identity read")
			}
		}
	}
	cards := sim.FictionalCards()
	if err := sims[0].Place(cards[0].Key); err != nil {
		t.Fatal(err)
	}
	waitRead(cards[0].Number)
	sims[0].Remove()

	c.Devices.IDCard.Port = filepath.Join(dir, "card-b")
	if err := m.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := sims[1].Place(cards[1].Key); err != nil {
		t.Fatal(err)
	}
	waitRead(cards[1].Number)
	sims[1].Remove()

	// Technician mode: the test read sees the card, the resident flow
	// does not.
	m.Hold(true)
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	got := make(chan devices.CardResult, 1)
	errc := make(chan error, 1)
	go func() {
		r, err := m.ReadCard(rctx)
		errc <- err
		got <- r
	}()
	// Present the card until the read has it: ReadCard may start
	// listening after a first placement was already read.
	var readErr error
	for done := false; !done; {
		if err := sims[1].Place(cards[0].Key); err != nil {
			t.Fatal(err)
		}
		select {
		case readErr = <-errc:
			done = true
		case <-time.After(1500 * time.Millisecond):
			sims[1].Remove()
			time.Sleep(300 * time.Millisecond)
		}
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	r := <-got
	if r.IDNumber != pii.MaskID(cards[0].Number) || strings.Contains(r.IDNumber, cards[0].Number[6:14]) {
		t.Errorf("test read id %q, want masked %q", r.IDNumber, pii.MaskID(cards[0].Number))
	}
	for {
		select {
		case ev := <-events:
			if ev.Kind == idcard.IdentityRead {
				t.Fatal("the resident flow got a card read while held")
			}
			continue
		default:
		}
		break
	}
}

// TestOpenKeepsGoingPastABadDevice: a device that cannot be opened is
// reported, the others open anyway, and a port that is not a tty shows as
// an error rather than stopping the kiosk.
func TestOpenKeepsGoingPastABadDevice(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	cardPort := filepath.Join(dir, "card")
	go sim.NewIDCard(sim.IDCardConfig{Logger: quiet}).Serve(ctx, pty(t, cardPort))
	c := baseConfig(t)
	c.Devices.IDCard = config.Device{Enabled: true, Port: cardPort, Baud: 115200}
	c.Devices.Printer.Port, c.Devices.Printer.Profile = filepath.Join(dir, "printer"), "no-such-model"
	c.Devices.Scanner = config.Device{Enabled: true, Port: dir, Baud: 115200} // a directory, not a tty
	m, err := devices.Open(ctx, c, devices.Options{Logger: quiet})
	if m == nil {
		t.Fatal("no manager")
	}
	defer m.Close()
	if err == nil || !strings.Contains(err.Error(), "printer") {
		t.Errorf("Open error %v, want one naming the printer", err)
	}
	st := m.Status()
	if st[0].State != "ok" || st[1].State != "off" || !strings.HasPrefix(st[2].State, "error: ") {
		t.Errorf("card %q, printer %q, scanner %q; want ok, off, error", st[0].State, st[1].State, st[2].State)
	}
}
