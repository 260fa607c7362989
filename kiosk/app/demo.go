package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
	"onedoor/kiosk/config"
)

// ErrNoDemo is what demo mode says when it was not given a platform to
// run: the production onedoor is built without one (see DemoPlatform).
var ErrNoDemo = errors.New("this onedoor has no demo mode: run ./build/demo, or build with -tags demo")

// DemoPlatform is the reference platform demo mode runs in-process, behind
// a link the demo panel can cut; kiosk/demoplatform has it. Only the demo
// build (tag demo) and tests link that package, so the production onedoor
// contains neither sync/platform nor sync/faultproxy.
type DemoPlatform interface {
	URL() string   // where the kiosk reaches it, through the cuttable link
	Token() string // the demo kiosk's token
	BackOfficeURL() string
	// SupervisorUser is a second staff login, with the staff login's
	// password, whose role opens the supervision pages.
	SupervisorUser() string
	SetNetwork(up bool)
	Close() error
}

// StartDemoPlatform starts a DemoPlatform with its data under dir, kioskID
// enrolled and one staff login.
type StartDemoPlatform func(ctx context.Context, dir, kioskID, staffUser, staffPassword string, log *slog.Logger) (DemoPlatform, error)

// Demo is everything demo mode runs in-process around the kiosk: the three
// device simulators on pseudo-terminals and the platform.
type Demo struct {
	Dir      string // everything lives here: ptys' links, outbox, platform, receipts
	Card     *sim.IDCard
	Printer  *sim.Printer
	Scanner  *sim.Scanner
	Platform DemoPlatform
	Settings Settings
	// Devices are the simulators' ports, for kiosk/devices.
	Devices config.Devices

	cancel context.CancelFunc
	wg     sync.WaitGroup
	ptys   []*sim.PTY
	errMu  sync.Mutex
	errs   []error
}

// Demo staff login for the back office.
const (
	DemoStaffUser     = "demo"
	DemoStaffPassword = "demo-demo"
	demoKioskID       = "DG0001"
)

// StartDemo starts the simulators and, with start, the platform under dir
// (created if missing) and returns the Settings that point the stack at
// them.
func StartDemo(ctx context.Context, dir string, start StartDemoPlatform, log *slog.Logger) (_ *Demo, err error) {
	if start == nil {
		return nil, ErrNoDemo
	}
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

	// Assigned only on success: a failed start may return a typed nil,
	// which Close would take for a platform to stop.
	plat, err := start(ctx, filepath.Join(dir, "platform"), demoKioskID, DemoStaffUser, DemoStaffPassword, log)
	if err != nil {
		return nil, err
	}
	d.Platform = plat
	d.Settings = Settings{
		DataDir:     filepath.Join(dir, "kiosk"),
		KeyFile:     filepath.Join(dir, "keys", "data.key"),
		KioskID:     demoKioskID,
		PlatformURL: d.Platform.URL(),
		Token:       d.Platform.Token(),
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
func (d *Demo) SetNetwork(up bool) { d.Platform.SetNetwork(up) }

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
func (d *Demo) BackOfficeURL() string { return d.Platform.BackOfficeURL() }

// Where tells, for the terminal, where to look once the demo runs: the
// kiosk window and the demo panel on display, the back office and its
// demo login, and the demo's data.
func (d *Demo) Where(display string, width, height int) string {
	if display == "" {
		display = "(none: set DISPLAY, or run under Xvfb)"
	}
	return fmt.Sprintf(`
OneDoor demo is running.
  kiosk screen:  window "OneDoor 一门通", %dx%d, on display %s
  demo panel:    window "OneDoor demo panel 演示面板" beside it (place a card, feed a page, paper out, cut the network)
  back office:   %s  (log in as %q to handle cases, or %q to supervise; password %q)
  demo data:     %s
Stop with Ctrl+C.
`, width, height, display, d.BackOfficeURL(), DemoStaffUser, d.Platform.SupervisorUser(), DemoStaffPassword, d.Dir)
}

// Close stops everything the demo started and reports simulator failures.
func (d *Demo) Close() error {
	var perr error
	if d.Platform != nil {
		perr = d.Platform.Close()
	}
	d.cancel()
	// A simulator blocked reading its pty master returns when the pty
	// closes, not on cancel.
	for _, p := range d.ptys {
		p.Close()
	}
	d.wg.Wait()
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return errors.Join(append(d.errs, perr)...)
}
