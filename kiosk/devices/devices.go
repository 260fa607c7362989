// Package devices is the one owner of the kiosk's live serial devices
// (ID-card reader, receipt printer, scanner): the resident flow and the
// technician screens both use them through here. It keeps them open and
// lets a technician move them to other ports or bauds while the app runs: Apply closes a device whose settings
// changed and opens it again on the new ones, and the app keeps talking to
// the same front objects (Cards, Printer, Scanner) throughout, so nothing
// upstream needs rewiring and no restart is needed.
//
// One goroutine owns the card reader and polls it (idcard.Reader is not safe
// for concurrent use); its events fan out to subscribers, which is how the
// resident flow and the technician's test read share one reader. While the
// technician screens are open (Hold), the resident flow gets no card events.
package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/scanner"
	"onedoor/drivers/serialport"
	"onedoor/kiosk/config"
	"onedoor/pii"
)

// Default bauds when the configuration says 0 ("probe").
const (
	DefaultCardBaud    = 115200
	DefaultPrinterBaud = 9600
	DefaultScannerBaud = 115200
)

// Options tune a Manager.
type Options struct {
	Logger *slog.Logger
	// Watch tunes the card reader's polling.
	Watch idcard.WatchOptions
	// TraceBytes is the size of each port's byte trace (default 4096).
	TraceBytes int
	// Printer tunes printer timeouts; Baud and Profile are ignored.
	Printer printer.Options
	// Scanner tunes the scanner; Baud is ignored.
	Scanner scanner.SerialConfig
}

// Manager owns the open devices.
type Manager struct {
	opts Options
	log  *slog.Logger

	applyMu sync.Mutex // serialises Apply and Release

	mu   sync.Mutex // guards the fields below; never held while a port opens or closes
	cur  config.Devices
	card *cardDev
	prn  *printer.Printer
	scan *scanDev

	subMu   sync.Mutex
	subs    map[int]*sub
	nextSub int
	hold    bool
}

type sub struct {
	ch       chan idcard.Event
	resident bool // held back while the technician screens are open
}

type cardDev struct {
	port   *serialport.Port
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	lastErr error // last DeviceError, nil after DeviceReady
}

type scanDev struct {
	port *serialport.Port
	s    *scanner.Serial
}

// Open opens the devices of c (those enabled with a port). A device that
// cannot be opened does not stop the others: the manager is returned with
// an error naming it, so the kiosk runs and a technician can fix the port
// on the Devices page.
func Open(ctx context.Context, c config.Config, o Options) (*Manager, error) {
	m := New(o)
	return m, m.Apply(ctx, c)
}

// New returns a manager with no device open yet; Apply opens them. Its
// fronts (Cards, Printer, Scanner) can be handed out at once: they reach
// whatever device is open when they are called.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.TraceBytes <= 0 {
		o.TraceBytes = 4096
	}
	return &Manager{opts: o, log: o.Logger, subs: map[int]*sub{}}
}

func baudOr(b, def int) int {
	if b == 0 {
		return def
	}
	return b
}

// Apply reopens every device whose enablement, port, baud or (printer)
// profile differs from what is open; the others keep running untouched.
// Slow closing and opening happen outside the lock that Status and the
// fronts take, so the screens never wait on a port.
func (m *Manager) Apply(ctx context.Context, c config.Config) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	want := c.Devices
	return errors.Join(
		reopen(m, "card reader", &m.card, &m.cur.IDCard, want.IDCard, want.IDCard.Enabled, want.IDCard.Port,
			func() (*cardDev, error) {
				return m.openCard(want.IDCard.Port, baudOr(want.IDCard.Baud, DefaultCardBaud))
			},
			(*cardDev).close),
		reopen(m, "printer", &m.prn, &m.cur.Printer, want.Printer, want.Printer.Enabled, want.Printer.Port,
			func() (*printer.Printer, error) {
				return m.openPrinter(want.Printer.Port, baudOr(want.Printer.Baud, DefaultPrinterBaud), want.Printer.Profile)
			},
			func(p *printer.Printer) { p.Close() }),
		reopen(m, "scanner", &m.scan, &m.cur.Scanner, want.Scanner, want.Scanner.Enabled, want.Scanner.Port,
			func() (*scanDev, error) {
				return m.openScanner(want.Scanner.Port, baudOr(want.Scanner.Baud, DefaultScannerBaud))
			},
			(*scanDev).close),
	)
}

// reopen is Apply for one device: dev and cur are its slot in m and the
// settings it was opened with. When want differs from cur, or the device
// should be open and is not, the old one is closed and, when enabled on a
// port, a new one opened; a device that fails to open leaves its settings
// empty, so the next Apply tries again. m.mu is held only to swap the
// slot, never while a port opens or closes.
func reopen[S comparable, D comparable](m *Manager, name string, dev *D, cur *S, want S, enabled bool, port string,
	open func() (D, error), closeDev func(D)) error {
	var none D
	on := enabled && port != ""
	m.mu.Lock()
	if want == *cur && (*dev != none || !on) {
		m.mu.Unlock()
		return nil
	}
	old := *dev
	*dev, *cur = none, want
	m.mu.Unlock()
	if old != none {
		closeDev(old)
	}
	if !on {
		return nil
	}
	d, err := open()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		var zero S
		*cur = zero
		return fmt.Errorf("%s on %s: %w", name, port, err)
	}
	*dev = d
	return nil
}

// Release closes every device; the next Apply opens them again.
func (m *Manager) Release(ctx context.Context) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.mu.Lock()
	card, prn, scan := m.card, m.prn, m.scan
	m.card, m.prn, m.scan, m.cur = nil, nil, nil, config.Devices{}
	m.mu.Unlock()
	card.close()
	if prn != nil {
		prn.Close()
	}
	scan.close()
	return nil
}

// Close closes every device and ends every card subscription.
func (m *Manager) Close() error {
	m.Release(context.Background())
	m.subMu.Lock()
	defer m.subMu.Unlock()
	for id, s := range m.subs {
		close(s.ch)
		delete(m.subs, id)
	}
	return nil
}

// openCard opens the reader and starts the goroutine that owns it.
func (m *Manager) openCard(path string, baud int) (*cardDev, error) {
	p, err := serialport.Open(serialport.Config{Path: path, Baud: baud, AllowAbsent: true, TraceBytes: m.opts.TraceBytes})
	if err != nil {
		return nil, err
	}
	d := &cardDev{port: p, done: make(chan struct{})}
	r := idcard.NewReader(p, idcard.Options{Baud: baud, Logger: m.log.With("device", "idcard")})
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	events := r.Watch(ctx, m.opts.Watch)
	go func() {
		defer close(d.done)
		for ev := range events {
			d.mu.Lock()
			switch ev.Kind {
			case idcard.DeviceError:
				d.lastErr = ev.Err
			case idcard.DeviceReady:
				d.lastErr = nil
			}
			d.mu.Unlock()
			m.broadcast(ev)
		}
	}()
	m.log.Info("card reader opened", "port", path, "baud", baud)
	return d, nil
}

// close stops the reader's goroutine and closes its port; nil is a no-op.
func (d *cardDev) close() {
	if d == nil {
		return
	}
	d.cancel()
	<-d.done
	d.port.Close()
}

func (m *Manager) openPrinter(path string, baud int, profile string) (*printer.Printer, error) {
	prof, err := escpos.LoadProfile(profile)
	if err != nil {
		return nil, err
	}
	cfg := m.opts.Printer
	cfg.Baud, cfg.Profile = baud, prof
	if cfg.Logger == nil {
		cfg.Logger = m.log.With("device", "printer")
	}
	p, err := printer.Open(path, cfg)
	if err != nil {
		return nil, err
	}
	m.log.Info("printer opened", "port", path, "baud", baud, "profile", profile)
	return p, nil
}

func (m *Manager) openScanner(path string, baud int) (*scanDev, error) {
	p, err := serialport.Open(serialport.Config{Path: path, Baud: baud, AllowAbsent: true, TraceBytes: m.opts.TraceBytes})
	if err != nil {
		return nil, err
	}
	cfg := m.opts.Scanner
	cfg.Baud = baud
	if cfg.Logger == nil {
		cfg.Logger = m.log.With("device", "scanner")
	}
	m.log.Info("scanner opened", "port", path, "baud", baud)
	return &scanDev{port: p, s: scanner.NewSerial(p, cfg)}, nil
}

// close closes the scanner's port; nil is a no-op.
func (d *scanDev) close() {
	if d != nil {
		d.port.Close()
	}
}

// broadcast hands ev to every subscriber without blocking the reader's
// goroutine: a subscriber that does not keep up loses events rather than
// stalling the card reader for everyone.
func (m *Manager) broadcast(ev idcard.Event) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	for _, s := range m.subs {
		if s.resident && m.hold {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			m.log.Warn("card event dropped: subscriber busy", "event", ev.Kind.String())
		}
	}
}

func (m *Manager) subscribe(resident bool) (int, <-chan idcard.Event) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.nextSub++
	s := &sub{ch: make(chan idcard.Event, 16), resident: resident}
	m.subs[m.nextSub] = s
	return m.nextSub, s.ch
}

func (m *Manager) unsubscribe(id int) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	if s, ok := m.subs[id]; ok {
		close(s.ch)
		delete(m.subs, id)
	}
}

// Hold keeps card events from the resident flow while the technician
// screens are open, so a test card does not start a session behind them.
func (m *Manager) Hold(on bool) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.hold = on
}

// Cards is the card reader as the resident flow sees it: its Watch keeps
// delivering across reopenings. kiosk/app's CardWatcher.
func (m *Manager) Cards() *Cards { return &Cards{m: m} }

// Cards is the reader front; see Manager.Cards.
type Cards struct{ m *Manager }

// Watch delivers card events until ctx ends. The options were fixed when
// the manager was opened; o is ignored.
func (c *Cards) Watch(ctx context.Context, _ idcard.WatchOptions) <-chan idcard.Event {
	id, in := c.m.subscribe(true)
	out := make(chan idcard.Event)
	go func() {
		defer close(out)
		defer c.m.unsubscribe(id)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Printer is the receipt printer as the app sees it: Print goes to
// whichever printer is open now.
func (m *Manager) Printer() *Printer { return &Printer{m: m} }

// Printer is the printer front; see Manager.Printer.
type Printer struct{ m *Manager }

func (m *Manager) printer() *printer.Printer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.prn
}

// Print prints r on the current printer. Without one it fails with
// printer.ErrOffline, as an unplugged printer would.
func (p *Printer) Print(ctx context.Context, r printer.Receipt) (printer.Progress, error) {
	prn := p.m.printer()
	if prn == nil {
		return printer.Progress{}, fmt.Errorf("%w: %w", printer.ErrOffline, ErrNoDevice)
	}
	return prn.Print(ctx, r)
}

// Reprint prints the current printer's last job again.
func (p *Printer) Reprint(ctx context.Context) (printer.Progress, error) {
	prn := p.m.printer()
	if prn == nil {
		return printer.Progress{}, fmt.Errorf("%w: %w", printer.ErrOffline, ErrNoDevice)
	}
	return prn.Reprint(ctx)
}

// Status reads the current printer's status (paper, cover), for the
// kiosk's heartbeat. Without a printer it fails like Print.
func (p *Printer) Status(ctx context.Context) (escpos.Status, error) {
	prn := p.m.printer()
	if prn == nil {
		return escpos.Status{}, fmt.Errorf("%w: %w", printer.ErrOffline, ErrNoDevice)
	}
	return prn.Status(ctx)
}

// Scanner is the scanner as the app sees it.
func (m *Manager) Scanner() *Scanner { return &Scanner{m: m} }

// Scanner is the scanner front; see Manager.Scanner.
type Scanner struct{ m *Manager }

func (m *Manager) scanner() *scanner.Serial {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scan == nil {
		return nil
	}
	return m.scan.s
}

// Scan scans one page on the current scanner.
func (s *Scanner) Scan(ctx context.Context, opts scanner.Options, progress func(done, total int64)) (scanner.Page, error) {
	sc := s.m.scanner()
	if sc == nil {
		return scanner.Page{}, fmt.Errorf("%w: %w", scanner.ErrDevice, ErrNoDevice)
	}
	return sc.Scan(ctx, opts, progress)
}

// Status reports each device's port, baud and health.
func (m *Manager) Status() []DeviceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := "off"
	card := DeviceStatus{Kind: KindCard, Enabled: m.cur.IDCard.Enabled, Port: m.cur.IDCard.Port,
		Baud: baudOr(m.cur.IDCard.Baud, DefaultCardBaud), State: off}
	if m.card != nil {
		card.State = m.card.port.State().String()
		m.card.mu.Lock()
		if card.State == "ok" && m.card.lastErr != nil {
			card.State = "error: " + m.card.lastErr.Error()
		}
		m.card.mu.Unlock()
	}
	prn := DeviceStatus{Kind: KindPrinter, Enabled: m.cur.Printer.Enabled, Port: m.cur.Printer.Port,
		Baud: baudOr(m.cur.Printer.Baud, DefaultPrinterBaud), State: off}
	if m.prn != nil {
		prn.State = m.prn.PortState().String()
	}
	scn := DeviceStatus{Kind: KindScanner, Enabled: m.cur.Scanner.Enabled, Port: m.cur.Scanner.Port,
		Baud: baudOr(m.cur.Scanner.Baud, DefaultScannerBaud), State: off}
	if m.scan != nil {
		scn.State = m.scan.port.State().String()
	}
	return []DeviceStatus{card, prn, scn}
}

// ReadCard waits for the next card on the reader and returns what it
// holds, masked.
func (m *Manager) ReadCard(ctx context.Context) (CardResult, error) {
	m.mu.Lock()
	open := m.card != nil
	m.mu.Unlock()
	if !open {
		return CardResult{}, ErrNoDevice
	}
	id, ch := m.subscribe(false)
	defer m.unsubscribe(id)
	for {
		select {
		case <-ctx.Done():
			return CardResult{}, ctx.Err()
		case ev, ok := <-ch:
			if !ok {
				return CardResult{}, ErrNoDevice
			}
			switch ev.Kind {
			case idcard.IdentityRead:
				if ev.Identity == nil {
					continue
				}
				return CardResult{
					Type: string(ev.Identity.Type), Name: pii.MaskName(ev.Identity.Name),
					IDNumber: pii.MaskID(ev.Identity.IDNumber), Expired: errors.Is(ev.Err, idcard.ErrExpired),
				}, nil
			case idcard.ReadFailed:
				return CardResult{}, fmt.Errorf("card read failed: %w", ev.Err)
			}
		}
	}
}

// PrintTest prints the fictional sample receipt on the current printer.
func (m *Manager) PrintTest(ctx context.Context) (PrintResult, error) {
	prn := m.printer()
	if prn == nil {
		return PrintResult{}, ErrNoDevice
	}
	start := time.Now()
	prog, err := prn.Print(ctx, printer.SampleReceipt())
	if err != nil {
		return PrintResult{}, err
	}
	return PrintResult{Bytes: prog.BytesSent, Took: time.Since(start)}, nil
}

// ScanTest scans one page at the default settings.
func (m *Manager) ScanTest(ctx context.Context) (ScanResult, error) {
	sc := m.scanner()
	if sc == nil {
		return ScanResult{}, ErrNoDevice
	}
	start := time.Now()
	pg, err := sc.Scan(ctx, scanner.Options{}, nil)
	if err != nil {
		return ScanResult{}, err
	}
	return ScanResult{Width: pg.Width, Height: pg.Height, DPI: pg.DPI, Bytes: len(pg.JPEG),
		Blank: pg.Blank, Blurred: pg.Blurred, Took: time.Since(start)}, nil
}

// Trace returns the recent bytes on the card reader's or scanner's port.
// The printer driver keeps its port to itself, so it has none.
func (m *Manager) Trace(kind string) []serialport.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch kind {
	case KindCard:
		if m.card != nil {
			return m.card.port.Trace().Records()
		}
	case KindScanner:
		if m.scan != nil {
			return m.scan.port.Trace().Records()
		}
	}
	return nil
}
