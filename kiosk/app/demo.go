package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"onedoor/assets"
	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
	"onedoor/kiosk/config"
	"onedoor/sync/faultproxy"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// Demo is everything demo mode runs in-process around the kiosk: the three
// device simulators on pseudo-terminals, the reference platform on a
// loopback port, and a fault proxy between kiosk and platform whose link the
// demo panel can cut.
type Demo struct {
	Dir      string // everything lives here: ptys' links, outbox, platform, receipts
	Card     *sim.IDCard
	Printer  *sim.Printer
	Scanner  *sim.Scanner
	Platform *local.Platform
	Proxy    *faultproxy.Proxy
	// PlatformAddr is the platform's own address (back office), bypassing
	// the proxy.
	PlatformAddr string
	Settings     Settings
	// Devices are the simulators' ports, for kiosk/devices.
	Devices config.Devices

	cancel context.CancelFunc
	wg     sync.WaitGroup
	ptys   []*sim.PTY
	srv    *http.Server
	errMu  sync.Mutex
	errs   []error
}

// Demo staff login for the back office.
const (
	DemoStaffUser     = "demo"
	DemoStaffPassword = "demo-demo"
	demoKioskID       = "DG0001"
)

// StartDemo starts the simulators and the platform under dir (created if
// missing) and returns the Settings that point the stack at them.
func StartDemo(ctx context.Context, dir string, log *slog.Logger) (_ *Demo, err error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo directory: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	d := &Demo{Dir: dir, cancel: cancel}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	quiet := log.With("part", "sim")

	d.Card = sim.NewIDCard(sim.IDCardConfig{Baud: 115200, RFDelay: 300 * time.Millisecond, Logger: quiet})
	cardPTY, err := d.pty(filepath.Join(dir, "idcard"))
	if err != nil {
		return nil, err
	}
	d.serve("idcard", func() error { return d.Card.Serve(sctx, cardPTY) })

	prof, err := escpos.LoadProfile("generic-80")
	if err != nil {
		return nil, err
	}
	receipts := filepath.Join(dir, "receipts")
	if err := os.MkdirAll(receipts, 0o700); err != nil {
		return nil, fmt.Errorf("receipts directory: %w", err)
	}
	d.Printer, err = sim.NewPrinter(prof, sim.WithOutputDir(receipts), sim.WithLogger(quiet))
	if err != nil {
		return nil, err
	}
	printerPTY, err := d.pty(filepath.Join(dir, "printer"))
	if err != nil {
		return nil, err
	}
	d.serve("printer", func() error { return d.Printer.Serve(sctx, printerPTY) })

	// Unpaced: a scanned page at a real 115200 baud takes tens of seconds,
	// which a demo does not need to show.
	d.Scanner = sim.NewScanner(sim.WithScannerBaud(0), sim.WithScannerLogger(quiet))
	scannerPTY, err := d.pty(filepath.Join(dir, "scanner"))
	if err != nil {
		return nil, err
	}
	d.serve("scanner", func() error { return d.Scanner.Serve(sctx, scannerPTY) })

	d.Platform, err = local.Open(ctx, filepath.Join(dir, "platform"), platform.Config{
		CasePrefix: "DG", Catalog: assets.SampleCatalog, Logger: log.With("part", "platform"),
	})
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	token, err := d.Platform.AddKiosk(ctx, demoKioskID)
	if err != nil {
		return nil, fmt.Errorf("platform kiosk: %w", err)
	}
	if err := d.Platform.AddStaff(ctx, DemoStaffUser, DemoStaffPassword); err != nil {
		return nil, fmt.Errorf("platform staff: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("platform listener: %w", err)
	}
	d.PlatformAddr = ln.Addr().String()
	d.srv = &http.Server{Handler: d.Platform.Server, ReadHeaderTimeout: 10 * time.Second}
	d.serve("platform", func() error {
		if err := d.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	d.Proxy, err = faultproxy.New(d.PlatformAddr, log.With("part", "link"))
	if err != nil {
		return nil, fmt.Errorf("link proxy: %w", err)
	}
	d.Settings = Settings{
		DataDir:     filepath.Join(dir, "kiosk"),
		KeyFile:     filepath.Join(dir, "keys", "data.key"),
		KioskID:     demoKioskID,
		PlatformURL: d.Proxy.URL(),
		Token:       token,
		Site:        "示例镇政务服务中心（演示）",
		Version:     "demo",
		// Pull often, so a decision made in the back office and a cut
		// network show within seconds during a demo.
		SyncPoll: 3 * time.Second,
	}
	d.Devices = config.Devices{
		IDCard:  config.Device{Enabled: true, Port: filepath.Join(dir, "idcard"), Baud: 115200},
		Printer: config.Printer{Enabled: true, Port: filepath.Join(dir, "printer"), Baud: 115200, Profile: "generic-80"},
		Scanner: config.Device{Enabled: true, Port: filepath.Join(dir, "scanner"), Baud: 921600},
	}
	return d, nil
}

func (d *Demo) pty(link string) (*sim.PTY, error) {
	p, err := sim.OpenPTY(link)
	if err != nil {
		return nil, err
	}
	d.ptys = append(d.ptys, p)
	return p, nil
}

func (d *Demo) serve(name string, f func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			d.errMu.Lock()
			d.errs = append(d.errs, fmt.Errorf("%s: %w", name, err))
			d.errMu.Unlock()
		}
	}()
}

// SetNetwork takes the link between kiosk and platform down or up.
func (d *Demo) SetNetwork(up bool) { d.Proxy.SetDown(!up) }

// PaperOut makes the printer run out of paper a few lines into the next
// receipt; Refill loads a new roll.
func (d *Demo) PaperOut() { d.Printer.SetPaperLeft(3) }

// Refill loads a new paper roll.
func (d *Demo) Refill() { d.Printer.RefillPaper() }

// LastReceipt is the last piece of paper the printer produced, if any.
func (d *Demo) LastReceipt() (sim.PrintedPage, bool) {
	pages := d.Printer.Pages()
	if len(pages) == 0 {
		return sim.PrintedPage{}, false
	}
	return pages[len(pages)-1], true
}

// BackOfficeURL is where staff log in to decide cases.
func (d *Demo) BackOfficeURL() string { return "http://" + d.PlatformAddr + "/" }

// Close stops everything the demo started and reports simulator failures.
func (d *Demo) Close() error {
	if d.srv != nil {
		d.srv.Close()
	}
	if d.Proxy != nil {
		d.Proxy.Close()
	}
	d.cancel()
	// A simulator blocked reading its pty master returns when the pty
	// closes, not on cancel.
	for _, p := range d.ptys {
		p.Close()
	}
	d.wg.Wait()
	if d.Platform != nil {
		d.Platform.Close()
	}
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return errors.Join(d.errs...)
}
