package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/assets"
	"onedoor/drivers/printer"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/techui"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// TestTechnicianWiredIntoKiosk: in the demo kiosk, the resident screen's
// hidden long press opens technician mode's PIN pad; the demo PIN opens
// the pages; the devices the resident flow prints through are the
// technician's live devices; the entry lands in the outbox's audit log.
func TestTechnicianWiredIntoKiosk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	demo, stack := demoStack(t, dir, nil)
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	fa := test.NewTempApp(t)
	fa.Settings().SetTheme(ui.NewTheme(false))
	q := &queue{}
	tr := i18n.New()
	o := RunOptions{Demo: true, DemoDir: filepath.Join(dir, "tech")}
	log, ring := withLogRing(quietLog)
	tech, err := newTechnician(fa, o, tr, ring, q.post, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tech.close() })
	d := Deps{Catalog: cat, Tr: tr, Dict: uitest.SharedDict(), Post: q.post, TickEvery: -1, Logger: log,
		OnTechnician: tech.open}
	stack.Fill(&d)
	if err := tech.attach(ctx, o, demo, stack, &d); err != nil {
		t.Fatal(err)
	}
	a, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	win := test.NewTempWindow(t, tech.wrap(a))
	win.Resize(fyne.NewSize(1280, 800))
	a.Start()
	t.Cleanup(a.Stop)
	q.drain()

	var lp *ui.LongPress
	uitest.Walk(win.Content(), func(o fyne.CanvasObject) bool {
		if l, ok := o.(*ui.LongPress); ok {
			lp = l
		}
		return lp == nil
	})
	if lp == nil {
		t.Fatal("no hidden long-press area on the resident screen")
	}
	lp.OnLongPress() // what the hold timer calls
	mt := tech.mode.Translator()
	if !tech.mode.Gating() {
		t.Fatalf("the long press did not open the PIN pad; screen:\n%s", uitest.Joined(win.Content()))
	}
	res := &uitest.Resident{Win: win}
	if err := res.Type(DemoTechnicianPIN); err != nil {
		t.Fatal(err)
	}
	if err := res.Tap(mt.T("tech.pin.enter")); err != nil {
		t.Fatal(err)
	}
	settle := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for q.drain(); !cond(); q.drain() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; screen:\n%s", what, uitest.Joined(win.Content()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	settle("technician mode", tech.mode.IsOpen)

	screen := uitest.JoinedAll(win.Content())
	for _, p := range []string{demo.Devices.IDCard.Port, demo.Devices.Printer.Port, demo.Devices.Scanner.Port} {
		if !strings.Contains(screen, p) {
			t.Errorf("Devices page does not show %s", p)
		}
	}
	if strings.Contains(screen, mt.T("tech.dev.state_off")) {
		t.Errorf("a demo device shows as not enabled:\n%s", screen)
	}
	// The Network page shows the platform the demo kiosk really sends to.
	if err := res.Tap(mt.T("tech.tab.network")); err != nil {
		t.Fatal(err)
	}
	if net := uitest.JoinedAll(win.Content()); !strings.Contains(net, demo.Settings.PlatformURL) {
		t.Errorf("Network page does not show the demo platform %s:\n%s", demo.Settings.PlatformURL, net)
	}
	if err := res.Tap(mt.T("tech.tab.devices")); err != nil {
		t.Fatal(err)
	}
	before := len(demo.Printer.Pages())
	if err := res.Tap(mt.T("tech.dev.test_print") + "\n" + mt.T("tech.dev.printer")); err != nil {
		t.Fatal(err)
	}
	settle("test print", func() bool { return !tech.mode.Busy() })
	if got := len(demo.Printer.Pages()); got != before+1 {
		t.Fatalf("demo printer has %d pages after the test print, want %d; message %q", got, before+1, tech.mode.Message())
	}
	// The resident flow prints through the same live device.
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := d.Printer.Print(pctx, printer.SampleReceipt()); err != nil {
		t.Fatal(err)
	}
	if got := len(demo.Printer.Pages()); got != before+2 {
		t.Fatalf("demo printer has %d pages after the app's print, want %d", got, before+2)
	}

	entries, err := stack.Store.Audit(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range entries {
		events = append(events, e.Event)
	}
	for _, want := range []string{techpin.EventEntry, "technician_device_test"} {
		if !strings.Contains(strings.Join(events, " "), want) {
			t.Errorf("audit log %v lacks %s", events, want)
		}
	}

	if err := res.Tap(mt.T("tech.tab.exit")); err != nil {
		t.Fatal(err)
	}
	if err := res.Tap(mt.T("tech.exit.leave")); err != nil {
		t.Fatal(err)
	}
	if tech.mode.IsOpen() || !strings.Contains(uitest.Joined(win.Content()), tr.T("app.title")) {
		t.Fatal("leaving technician mode did not bring the resident screen back")
	}
}

// TestTechApplier: a saved configuration takes effect at once where it
// can (language, devices) and says which parts wait for a restart.
func TestTechApplier(t *testing.T) {
	ctx := context.Background()
	base := config.Default()
	base.Devices.IDCard.Enabled, base.Devices.Printer.Enabled, base.Devices.Scanner.Enabled = false, false, false
	devs, err := devices.Open(ctx, base, devices.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer devs.Close()
	q := &queue{}
	tr := i18n.New()
	ap := &techApplier{t: &technician{devs: devs, tr: tr, post: q.post, log: quietLog}, last: base}

	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		restart bool
	}{
		{"language now", func(c *config.Config) { c.Kiosk.Language = i18n.EN }, false},
		{"site name now", func(c *config.Config) { c.Kiosk.Name = "东城街道便民服务站" }, false},
		{"platform at restart", func(c *config.Config) { c.Platform.URL = "https://platform.example.cn" }, true},
		{"idle timeout at restart", func(c *config.Config) { c.Session.IdleTimeout = 90 * time.Second }, true},
		{"kiosk id at restart", func(c *config.Config) { c.Kiosk.ID = "DG0042" }, true},
	}
	c := base
	for _, tc := range tests {
		tc.mutate(&c)
		err := ap.Apply(ctx, c)
		q.drain()
		if got := errors.Is(err, techui.ErrNeedsRestart); got != tc.restart {
			t.Errorf("%s: Apply = %v, want restart-needed %v", tc.name, err, tc.restart)
		}
		if !tc.restart && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if tr.Lang() != i18n.EN {
		t.Errorf("default language not applied: %s", tr.Lang())
	}
}
