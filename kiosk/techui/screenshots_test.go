package techui_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"onedoor/kiosk/i18n"
	"onedoor/kiosk/techui"
	"onedoor/kiosk/ui/uitest"
)

// TestScreenshots writes a PNG of every technician page to the directory
// in TECHUI_SCREENSHOTS (skipped without it), for reviewing the layout.
func TestScreenshots(t *testing.T) {
	out := os.Getenv("TECHUI_SCREENSHOTS")
	if out == "" {
		t.Skip("set TECHUI_SCREENSHOTS=DIR to write screenshots")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prn := filepath.Join(dir, "ttyUSB0")
	simPrinter(t, prn)
	cfg := baseConfig(dir)
	cfg.Devices.Printer.Port = prn
	// A platform that refuses connections, for the connection test's report.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Platform.URL = "http://" + ln.Addr().String()
	ln.Close()
	devs := openDevices(t, cfg)
	for _, lang := range i18n.Languages() {
		r := newRig(t, rigOptions{dir: t.TempDir(), cfg: &cfg, deps: func(d *techui.Deps) {
			d.Devices, d.Applier, d.Ports, d.Lang = devs, devs, listPorts(prn, filepath.Join(dir, "ttyUSB1")), lang
		}})
		r.longPress()
		shot := func(name string) {
			if err := uitest.SavePNG(r.win, filepath.Join(out, lang+"-"+name+".png")); err != nil {
				t.Fatal(err)
			}
		}
		shot("00-pin")
		r.enterPIN(rightPIN)
		shot("01-devices")
		r.tap(r.tr("tech.dev.change_port") + "\n" + r.tr("tech.dev.printer"))
		shot("02-devices-port")
		r.tap(r.tr("tech.tab.network"))
		r.tap(r.tr("tech.net.test"))
		r.settle()
		shot("03-network")
		r.tap(r.tr("tech.net.edit_url"))
		shot("04-network-edit")
		r.tap(r.tr("tech.tab.queue"))
		r.settle()
		shot("05-queue")
		r.tap(r.tr("tech.tab.kiosk"))
		shot("06-kiosk")
		r.tap(r.tr("tech.kiosk.edit_site"))
		shot("07-kiosk-edit")
		r.tap(r.tr("tech.tab.logs"))
		shot("08-logs")
		r.tap(r.tr("tech.tab.exit"))
		shot("09-exit")
	}
}
