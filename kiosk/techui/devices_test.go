package techui_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/scanner/pages"
	"onedoor/drivers/sim"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/techui"
	"onedoor/kiosk/ui/uitest"
	"onedoor/pii"
)

// openDevices opens the live device manager over cfg, as the app does.
func openDevices(t *testing.T, cfg config.Config) *devices.Manager {
	t.Helper()
	m, err := devices.Open(context.Background(), cfg, devices.Options{Logger: quiet,
		Watch: idcard.WatchOptions{Interval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestAutodetectAssignsSimulatedDevices is done-means: auto-detect on the
// Devices page finds the three simulated devices, each on its own pty and
// baud among a silent port, assigns each to its port, saves the file and
// reopens them; the test buttons then reach the right simulator.
func TestAutodetectAssignsSimulatedDevices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	// Names that do not give the answer away; the probe must.
	a, b, c, d := filepath.Join(dir, "ttyX0"), filepath.Join(dir, "ttyX1"), filepath.Join(dir, "ttyX2"), filepath.Join(dir, "ttyX3")
	openPTY(t, a) // silent: nothing answers there
	card := sim.NewIDCard(sim.IDCardConfig{Baud: 57600, Logger: quiet})
	go card.Serve(ctx, openPTY(t, b))
	scan := sim.NewScanner(sim.WithScannerBaud(0), sim.WithScannerLogger(quiet))
	go scan.Serve(ctx, openPTY(t, c))
	prn := simPrinter(t, d)

	cfg := baseConfig(dir)
	devs := openDevices(t, cfg) // nothing configured yet
	r := newRig(t, rigOptions{dir: dir, cfg: &cfg, deps: func(dp *techui.Deps) {
		dp.Devices, dp.Applier, dp.Ports = devs, devs, listPorts(a, b, c, d)
	}})
	r.open()
	r.tap(r.tr("tech.dev.autodetect"))
	r.settle()
	if want := r.tr("tech.dev.detected", 3); r.mode.Message() != want {
		t.Fatalf("message %q, want %q; screen:\n%s", r.mode.Message(), want, r.screen())
	}

	saved, err := config.Load(r.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	got := saved.Devices
	if got.IDCard.Port != b || got.IDCard.Baud != 57600 || !got.IDCard.Enabled {
		t.Errorf("card reader saved as %+v, want %s at 57600", got.IDCard, b)
	}
	if got.Printer.Port != d || got.Printer.Baud == 0 || !got.Printer.Enabled {
		t.Errorf("printer saved as %+v, want %s", got.Printer, d)
	}
	if got.Scanner.Port != c || got.Scanner.Baud == 0 || !got.Scanner.Enabled {
		t.Errorf("scanner saved as %+v, want %s", got.Scanner, c)
	}
	for _, st := range devs.Status() {
		if st.State != "ok" {
			t.Errorf("%s on %s: state %q after auto-detect", st.Kind, st.Port, st.State)
		}
	}
	s := r.screen()
	for _, p := range []string{b, c, d} {
		if !strings.Contains(s, r.tr("tech.dev.port", p)) {
			t.Errorf("screen does not show port %s", p)
		}
	}
	if !strings.Contains(r.audits.joined(), techui.EventAutodetect) {
		t.Error("auto-detect not audited")
	}

	// The reopened devices answer the technician's tests.
	r.tap(r.tr("tech.dev.test_print") + "\n" + r.tr("tech.dev.printer"))
	r.settle()
	if len(prn.Pages()) != 1 {
		t.Fatalf("printer sim printed %d pages after the test print; message %q", len(prn.Pages()), r.mode.Message())
	}
	if err := scan.Feed(scanPage(t), 1); err != nil {
		t.Fatal(err)
	}
	r.tap(r.tr("tech.dev.test_scan") + "\n" + r.tr("tech.dev.scanner"))
	r.settle()
	if !strings.HasPrefix(r.mode.Message(), strings.Split(r.tr("tech.dev.scan_ok", 0, 0, 0, 0), "0")[0]) {
		t.Errorf("test scan: %q", r.mode.Message())
	}

	// Test read: the card is presented (again and again, as a technician
	// would, in case it arrived before the read was listening).
	r.tap(r.tr("tech.dev.test_card") + "\n" + r.tr("tech.dev.idcard"))
	fc := sim.FictionalCards()[0]
	stop := presentCard(t, card, fc.Key)
	r.settle()
	stop()
	msg := r.mode.Message()
	if !strings.Contains(msg, pii.MaskID(fc.Number)) || strings.Contains(uitest.JoinedAll(r.win.Content()), fc.Number) {
		t.Errorf("test read shows %q; want the masked number %s and never the full one", msg, pii.MaskID(fc.Number))
	}

	// The byte trace lists the reader's recent frames, and never the card's
	// contents: the driver withholds them (the hex dump's ASCII column
	// would show the UTF-16 digits as 4.4.0.3.…).
	r.tap(r.tr("tech.dev.trace") + "\n" + r.tr("tech.dev.idcard"))
	s = r.screen()
	if !strings.Contains(s, " bytes") {
		t.Errorf("card reader trace lists no frames:\n%s", s)
	}
	var utf16 strings.Builder
	for _, c := range fc.Number[:10] {
		utf16.WriteString(string(c) + ".")
	}
	if strings.Contains(s, fc.Number) || strings.Contains(s, utf16.String()) {
		t.Errorf("the card reader trace shows the ID number:\n%s", s)
	}
	r.tap(r.tr("tech.dev.close"))
	r.tap(r.tr("tech.dev.trace") + "\n" + r.tr("tech.dev.printer"))
	if s := r.screen(); !strings.Contains(s, r.tr("tech.dev.trace_none")) {
		t.Errorf("printer trace does not say the driver keeps none:\n%s", s)
	}
}

// scanPage is one of the simulator's page names.
func scanPage(t *testing.T) string {
	t.Helper()
	names := pages.Names()
	if len(names) == 0 {
		t.Fatal("no sample pages")
	}
	return names[0]
}

// TestPrinterPortChangeTakesEffect is done-means: moving the printer to
// another port on the Devices page takes effect at once: the app's printer
// (the same object throughout) prints on the new port, nothing restarts.
func TestPrinterPortChangeTakesEffect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	oldPort, newPort := filepath.Join(dir, "printer-old"), filepath.Join(dir, "printer-new")
	oldSim := simPrinter(t, oldPort)
	newSim := simPrinter(t, newPort)

	cfg := baseConfig(dir)
	cfg.Devices.Printer.Port = oldPort
	devs := openDevices(t, cfg)
	appPrinter := devs.Printer() // what kiosk/app prints receipts through
	r := newRig(t, rigOptions{dir: dir, cfg: &cfg, deps: func(dp *techui.Deps) {
		dp.Devices, dp.Applier, dp.Ports = devs, devs, listPorts(oldPort, newPort)
	}})

	print := func() {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := appPrinter.Print(pctx, printer.SampleReceipt()); err != nil {
			t.Fatal(err)
		}
	}
	print()
	if len(oldSim.Pages()) != 1 {
		t.Fatalf("before the change the old printer printed %d pages", len(oldSim.Pages()))
	}

	r.open()
	r.tap(r.tr("tech.dev.change_port") + "\n" + r.tr("tech.dev.printer"))
	if err := r.r.TapContaining(newPort); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if r.mode.Message() != r.tr("tech.saved") {
		t.Fatalf("message %q after choosing the port", r.mode.Message())
	}
	saved, err := config.Load(r.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Devices.Printer.Port != newPort {
		t.Fatalf("saved printer port %q, want %q", saved.Devices.Printer.Port, newPort)
	}
	print()
	if len(oldSim.Pages()) != 1 || len(newSim.Pages()) != 1 {
		t.Fatalf("after the change: old printer %d pages, new %d; want 1 and 1", len(oldSim.Pages()), len(newSim.Pages()))
	}
	if !strings.Contains(r.screen(), r.tr("tech.dev.port", newPort)) {
		t.Error("the Devices page does not show the new port")
	}

	// The baud button moves to the next standard rate; the printer
	// reopens at it and still prints.
	before := r.mode.Config().Devices.Printer.Baud
	r.tap(r.tr("tech.dev.baud_next") + "\n" + r.tr("tech.dev.printer"))
	r.settle()
	after, err := config.Load(r.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Devices.Printer.Baud == before || after.Devices.Printer.Baud == 0 {
		t.Fatalf("next baud: saved baud %d, was %d", after.Devices.Printer.Baud, before)
	}
	if st := devs.Status()[1]; st.Baud != after.Devices.Printer.Baud {
		t.Fatalf("open printer runs at %d, saved %d", st.Baud, after.Devices.Printer.Baud)
	}
	print()
	if len(newSim.Pages()) != 2 {
		t.Fatalf("after the baud change the printer printed %d pages in all, want 2", len(newSim.Pages()))
	}

	// Disabling closes the printer at once; enabling opens it again.
	r.tap(r.tr("tech.dev.disable") + "\n" + r.tr("tech.dev.printer"))
	r.settle()
	if st := devs.Status()[1]; st.State != "off" {
		t.Fatalf("disabled printer state %q", st.State)
	}
	if _, err := appPrinter.Print(ctx, printer.SampleReceipt()); !errors.Is(err, printer.ErrOffline) {
		t.Fatalf("print with the printer disabled: %v, want ErrOffline", err)
	}
	r.tap(r.tr("tech.dev.enable") + "\n" + r.tr("tech.dev.printer"))
	r.settle()
	print()
	if len(newSim.Pages()) != 3 {
		t.Fatalf("after re-enabling the printer printed %d pages in all, want 3", len(newSim.Pages()))
	}
}

// presentCard places the card on the simulated reader, and takes it off
// and back every 1.5 s until stop is called, so a reader that started
// listening late still sees it arrive.
func presentCard(t *testing.T, s *sim.IDCard, key string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if err := s.Place(key); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-done:
				return
			case <-time.After(1500 * time.Millisecond):
			}
			s.Remove()
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
