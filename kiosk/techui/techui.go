// Package techui is the kiosk's technician mode: a hidden long press on the
// resident screen, then a PIN on the on-screen keypad, opens pages to find
// and test the serial devices (Devices), watch and unblock the outbox
// (Queue), set and test the platform link (Network), change the kiosk's
// settings (Kiosk), read recent log lines (Logs) and leave or restart
// (Exit).
//
// Every change is validated by kiosk/config, saved atomically through a
// ConfigStore and handed to an Applier that puts it into effect without a
// restart (kiosk/techui/livedev reopens a device on its new port). The
// package declares the small interfaces it consumes and never imports
// kiosk/app; the app implements them and wraps its window content with
// Mode.Wrap.
//
// Threading: all Mode methods run on Fyne's goroutine. Slow work (PIN hash,
// probing, device tests, the connection test, saving) runs on goroutines
// that hand their results back through Deps.Post (fyne.Do in the app; a
// queue the test drains in tests), so widgets are only touched on one
// goroutine.
package techui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"onedoor/drivers/probe"
	"onedoor/drivers/serialport"
	"onedoor/kiosk/config"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/nettest"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/ui"
	"onedoor/sync/outbox"
)

// Pages of technician mode.
const (
	PageDevices = "devices"
	PageQueue   = "queue"
	PageNetwork = "network"
	PageKiosk   = "kiosk"
	PageLogs    = "logs"
	PageExit    = "exit"
)

// Pages lists the pages in tab order.
func Pages() []string {
	return []string{PageDevices, PageQueue, PageNetwork, PageKiosk, PageLogs, PageExit}
}

// Audit event names of technician actions (techpin audits entry and PIN
// failures itself).
const (
	EventSetting    = "technician_setting"
	EventAutodetect = "technician_autodetect"
	EventDeviceTest = "technician_device_test"
	EventRetry      = "technician_retry"
	EventExit       = "technician_exit"
	EventRestart    = "technician_restart"
)

// Deps are what technician mode works with. Gate, Store and Post are
// required; without the others their pages say what is missing.
type Deps struct {
	// Lang is the language to open in (the resident screen's); zh-CN when
	// empty. The technician may switch it without touching the resident
	// screen.
	Lang     string
	Gate     PINGate
	Store    ConfigStore
	Applier  Applier
	Devices  Devices
	Queue    Queue
	Syncer   Syncer
	Audit    AuditLog
	Logs     *LogRing
	Probe    ProbeFunc
	Ports    PortLister
	ConnTest ConnTest
	// Post runs f on Fyne's goroutine: fyne.Do in the app.
	Post func(f func())
	Now  func() time.Time
	// Refresh is how often open pages redraw live values (device state,
	// queue progress, byte trace); 1 s when zero, never when negative.
	Refresh time.Duration
	// IdleExit closes technician mode (PIN pad included) after this long
	// without a tap, so a technician who walks away does not leave the
	// settings open to the next visitor; 5 minutes when zero.
	IdleExit time.Duration
	// OnOpen and OnClose run when technician mode opens (after the PIN)
	// and closes, e.g. to hold card events from the resident flow.
	OnOpen, OnClose func()
	// Restart restarts the app; nil hides the button.
	Restart func()
	Logger  *slog.Logger
}

type gateState int

const (
	closed gateState = iota
	gating           // the PIN pad is showing
	opened           // the pages are showing
)

// Mode is technician mode. Create it with New, put Wrap's object in the
// window, and call Open from the hidden long press.
type Mode struct {
	d      Deps
	tr     *i18n.Translator
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	root  *fyne.Container
	kiosk fyne.CanvasObject
	state gateState
	page  string
	cfg   config.Config

	msg    string
	msgErr bool
	busy   int // background tasks running

	pin     *pinTarget
	pinPad  *ui.Keypad
	gateMsg string

	edit *editor
	pinc *pinChange
	dict *ui.PinyinDict

	// Devices page.
	portFor    string // kind whose port is being chosen
	candidates []serialport.Candidate
	found      map[string]probe.Result
	traceKind  string

	// Queue page.
	stats        *outbox.Stats
	statsErr     error
	statsLoading bool
	queuePage    int

	// Network page.
	report *nettest.Report

	logPage        int
	chooserPage    int
	confirmRestart bool
	stopTicker     func()
	lastTouch      time.Time
	quiet          bool // redraws from the ticker or finished background work are not the technician's
}

// Parts are the app's parts that open after the window shows (the app
// opens its stack in the background); see Attach.
type Parts struct {
	Devices Devices
	Applier Applier
	Queue   Queue
	Syncer  Syncer
	Audit   AuditLog
}

// Attach supplies parts that were not ready at New; nil fields keep what
// is there. Call it on Fyne's goroutine.
func (m *Mode) Attach(p Parts) {
	if p.Devices != nil {
		m.d.Devices = p.Devices
	}
	if p.Applier != nil {
		m.d.Applier = p.Applier
	}
	if p.Queue != nil {
		m.d.Queue = p.Queue
	}
	if p.Syncer != nil {
		m.d.Syncer = p.Syncer
	}
	if p.Audit != nil {
		m.d.Audit = p.Audit
	}
	m.redraw()
}

// ErrNeedsRestart wraps the settings an Applier saved but can only put
// into effect at the next start (the platform link, session timing).
var ErrNeedsRestart = errors.New("takes effect after a restart")

// New builds technician mode; it shows nothing until Open.
func New(d Deps) (*Mode, error) {
	if d.Gate == nil || d.Store == nil || d.Post == nil {
		return nil, errors.New("techui: Gate, Store and Post are required")
	}
	if d.Lang == "" {
		d.Lang = i18n.ZhCN
	}
	tr, err := NewTranslator(d.Lang)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Refresh == 0 {
		d.Refresh = time.Second
	}
	if d.IdleExit <= 0 {
		d.IdleExit = 5 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Probe == nil {
		d.Probe = DefaultProbe
	}
	if d.Ports == nil {
		d.Ports = serialport.ListCandidates
	}
	if d.ConnTest == nil {
		d.ConnTest = nettest.Run
	}
	m := &Mode{d: d, tr: tr, log: d.Logger, page: PageDevices, root: container.NewStack()}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Stop cancels background work; call it when the app shuts down.
func (m *Mode) Stop() {
	m.cancel()
	if m.stopTicker != nil {
		m.stopTicker()
		m.stopTicker = nil
	}
}

// Wrap returns the window content: the resident screen, replaced by the
// technician screens while they are open.
func (m *Mode) Wrap(kiosk fyne.CanvasObject) fyne.CanvasObject {
	m.kiosk = kiosk
	m.root.Objects = []fyne.CanvasObject{kiosk}
	m.root.Refresh()
	return m.root
}

// Translator is technician mode's translator, for tests.
func (m *Mode) Translator() *i18n.Translator { return m.tr }

// IsOpen reports whether the technician pages (past the PIN) are showing.
func (m *Mode) IsOpen() bool { return m.state == opened }

// Gating reports whether the PIN pad is showing.
func (m *Mode) Gating() bool { return m.state == gating }

// Page is the page showing.
func (m *Mode) Page() string { return m.page }

// Busy reports whether background work started by the screens is running.
func (m *Mode) Busy() bool { return m.busy > 0 }

// Message is the status line's text.
func (m *Mode) Message() string { return m.msg }

// Config is the configuration as last saved from the screens.
func (m *Mode) Config() config.Config { return m.cfg }

// Open shows the PIN pad (the hidden long press calls it).
func (m *Mode) Open() {
	if m.state != closed {
		return
	}
	m.state = gating
	m.gateMsg = ""
	m.pin = &pinTarget{}
	m.pinPad = ui.NewKeypad(m.tr, nil, ui.KeypadNumeric)
	m.pinPad.SetTarget(m.pin)
	m.pinPad.OnKey = m.touch
	m.touch()
	m.startTicker()
	if locked, until := m.d.Gate.Locked(); locked {
		m.gateMsg = m.tr.T("tech.pin.locked", m.clock(until))
	} else if !m.d.Gate.HasPIN() {
		m.gateMsg = m.tr.T("tech.pin.no_pin")
	}
	m.redraw()
}

// Close leaves technician mode and shows the resident screen again.
func (m *Mode) Close() {
	wasOpen := m.state == opened
	m.state = closed
	m.pin, m.pinPad, m.edit, m.pinc = nil, nil, nil, nil
	m.portFor, m.traceKind, m.confirmRestart = "", "", false
	m.msg = ""
	if m.stopTicker != nil {
		m.stopTicker()
		m.stopTicker = nil
	}
	if wasOpen {
		m.audit(EventExit, "")
		if m.d.OnClose != nil {
			m.d.OnClose()
		}
	}
	m.root.Objects = []fyne.CanvasObject{m.kiosk}
	m.root.Refresh()
}

func (m *Mode) clock(t time.Time) string { return t.Local().Format("15:04:05") }

// run does work off the UI goroutine and hands its result to done on it.
func (m *Mode) run(work func(ctx context.Context) func()) {
	m.busy++
	go func() {
		done := work(m.ctx)
		m.d.Post(func() {
			m.busy--
			if done != nil {
				m.quiet = true
				defer func() { m.quiet = false }()
				done()
			}
		})
	}()
}

func (m *Mode) audit(event, detail string) {
	if m.d.Audit == nil {
		return
	}
	if err := m.d.Audit.Audit(m.ctx, event, detail); err != nil {
		m.log.Warn("technician audit failed", "event", event, "err", err)
	}
}

func (m *Mode) say(msg string, isErr bool) {
	m.msg, m.msgErr = msg, isErr
}

// submitPIN checks the typed PIN.
func (m *Mode) submitPIN() {
	if m.state != gating || m.busy > 0 {
		return
	}
	pin := m.pin.digits
	m.pin.Clear()
	m.gateMsg = m.tr.T("tech.pin.checking")
	m.redraw()
	m.run(func(ctx context.Context) func() {
		res, err := m.d.Gate.Check(ctx, pin)
		return func() { m.pinChecked(res, err) }
	})
}

func (m *Mode) pinChecked(res techpin.Result, err error) {
	if m.state != gating {
		return
	}
	switch {
	case err == nil:
		cfg, lerr := m.d.Store.Load()
		if lerr != nil {
			m.gateMsg = m.tr.T("tech.pin.error", lerr.Error())
			break
		}
		m.cfg = cfg
		m.state = opened
		m.page = PageDevices
		m.msg = ""
		m.pin, m.pinPad = nil, nil
		if m.d.OnOpen != nil {
			m.d.OnOpen()
		}
		m.enterPage(PageDevices)
		return
	case errors.Is(err, techpin.ErrLocked):
		m.gateMsg = m.tr.T("tech.pin.locked", m.clock(res.Until))
	case errors.Is(err, techpin.ErrWrongPIN):
		m.gateMsg = m.tr.T("tech.pin.wrong", res.Remaining)
	case errors.Is(err, techpin.ErrNoPIN):
		m.gateMsg = m.tr.T("tech.pin.no_pin")
	default:
		m.gateMsg = m.tr.T("tech.pin.error", err.Error())
	}
	m.redraw()
}

func (m *Mode) startTicker() {
	if m.d.Refresh < 0 || m.stopTicker != nil {
		return
	}
	t := time.NewTicker(m.d.Refresh)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-m.ctx.Done():
				return
			case <-t.C:
				m.d.Post(m.tick)
			}
		}
	}()
	m.stopTicker = func() {
		t.Stop()
		close(stop)
	}
}

// touch notes that the technician did something.
func (m *Mode) touch() { m.lastTouch = m.d.Now() }

// Tick is what the refresh ticker runs every Deps.Refresh: it closes
// technician mode after Deps.IdleExit without a tap, and otherwise
// redraws live values on pages that show them, unless the technician is
// typing. Exported for tests, which run without the ticker.
func (m *Mode) Tick() { m.tick() }

func (m *Mode) tick() {
	if m.state == closed {
		return
	}
	if m.d.Now().Sub(m.lastTouch) >= m.d.IdleExit {
		m.log.Info("technician mode closed after inactivity")
		m.Close()
		return
	}
	if m.state != opened || m.edit != nil || m.pinc != nil {
		return
	}
	m.quiet = true
	defer func() { m.quiet = false }()
	switch {
	case m.traceKind != "", m.page == PageDevices:
		m.redraw()
	case m.page == PageQueue:
		m.loadStats()
	}
}

// enterPage switches page and starts what the page loads.
func (m *Mode) enterPage(p string) {
	m.page = p
	m.edit, m.pinc = nil, nil
	m.portFor, m.traceKind, m.confirmRestart = "", "", false
	switch p {
	case PageDevices:
		m.candidates = m.d.Ports(m.configuredPorts())
	case PageQueue:
		m.loadStats()
	}
	m.redraw()
}

func (m *Mode) configuredPorts() []string {
	d := m.cfg.Devices
	return []string{d.IDCard.Port, d.Printer.Port, d.Scanner.Port}
}

// change applies mutate to a copy of the configuration, validates and
// saves it, then puts it into effect. On any error nothing changes and the
// reason is shown.
func (m *Mode) change(detail string, mutate func(c *config.Config) error) bool {
	next := m.cfg
	if err := mutate(&next); err != nil {
		m.say(m.tr.T("tech.save_failed", firstLine(err)), true)
		m.redraw()
		return false
	}
	if err := next.Validate(); err != nil {
		m.say(m.tr.T("tech.save_failed", firstLine(err)), true)
		m.redraw()
		return false
	}
	if err := m.d.Store.Save(next); err != nil {
		m.say(m.tr.T("tech.save_failed", err.Error()), true)
		m.redraw()
		return false
	}
	m.cfg = next
	m.audit(EventSetting, detail)
	m.say(m.tr.T("tech.saved"), false)
	m.apply()
	m.redraw()
	return true
}

// apply puts m.cfg into effect in the background.
func (m *Mode) apply() {
	if m.d.Applier == nil {
		return
	}
	cfg := m.cfg
	m.run(func(ctx context.Context) func() {
		err := m.d.Applier.Apply(ctx, cfg)
		return func() {
			switch {
			case errors.Is(err, ErrNeedsRestart):
				m.say(m.tr.T("tech.restart_needed"), false)
			case err != nil:
				m.say(m.tr.T("tech.apply_failed", err.Error()), true)
			}
			if m.state == opened {
				m.redraw()
			}
		}
	})
}

// firstLine drops the "N problem(s)" header config.Validate puts first,
// keeping the line that names the key.
func firstLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > 1 && strings.Contains(lines[0], "problem") {
		return strings.Join(lines[1:], "; ")
	}
	return strings.Join(lines, "; ")
}

// redraw rebuilds the screen from the state.
func (m *Mode) redraw() {
	if !m.quiet {
		m.touch()
	}
	switch m.state {
	case closed:
		return
	case gating:
		m.root.Objects = []fyne.CanvasObject{m.gateScreen()}
	case opened:
		m.root.Objects = []fyne.CanvasObject{m.techScreen()}
	}
	m.root.Refresh()
}

func background() fyne.CanvasObject {
	return canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
}

func (m *Mode) gateScreen() fyne.CanvasObject {
	field := ui.NewField(m.tr.T("tech.pin.prompt"))
	field.Name = "pin"
	field.Active = true
	field.SetValue(strings.Repeat("●", len(m.pin.digits)))
	m.pin.field = field
	enter := ui.NewStyledButton(m.tr.T("tech.pin.enter"), ui.StylePrimary, m.submitPIN)
	enter.Big = true
	enter.Disabled = m.busy > 0
	back := ui.NewButton(m.tr.T("tech.pin.back"), m.Close)
	msg := ui.Para(m.gateMsg)
	msg.Importance = widget.DangerImportance
	form := container.NewVBox(ui.Subheading(m.tr.T("tech.pin.title")), field, msg, m.pinPad,
		container.NewGridWithColumns(2, back, enter))
	return container.NewStack(background(), container.NewCenter(container.NewPadded(form)))
}

// pinTarget keeps the typed PIN out of the widget tree: the field only
// ever holds dots.
type pinTarget struct {
	digits string
	field  *ui.Field
}

func (p *pinTarget) show() {
	if p.field != nil {
		p.field.SetValue(strings.Repeat("●", len(p.digits)))
	}
}

// AppendRune implements ui.Target; PINs are at most 12 digits.
func (p *pinTarget) AppendRune(r rune) {
	if r >= '0' && r <= '9' && len(p.digits) < 12 {
		p.digits += string(r)
		p.show()
	}
}

// Backspace implements ui.Target.
func (p *pinTarget) Backspace() {
	if p.digits != "" {
		p.digits = p.digits[:len(p.digits)-1]
		p.show()
	}
}

// Clear implements ui.Target.
func (p *pinTarget) Clear() {
	p.digits = ""
	p.show()
}

func (m *Mode) techScreen() fyne.CanvasObject {
	var tabs []fyne.CanvasObject
	for _, p := range Pages() {
		style := ui.StyleNormal
		if p == m.page {
			style = ui.StyleChosen
		}
		tabs = append(tabs, ui.NewStyledButton(m.tr.T("tech.tab."+p), style, func() { m.enterPage(p) }))
	}
	lang := ui.NewButton(m.tr.T("tech.lang"), func() {
		next := i18n.EN
		if m.tr.Lang() == i18n.EN {
			next = i18n.ZhCN
		}
		_ = m.tr.SetLang(next) // both catalogs exist
		m.redraw()
	})
	title := ui.Subheading(m.tr.T("tech.title"))
	bar := container.NewBorder(nil, nil, container.NewPadded(title), lang, container.NewGridWithColumns(len(tabs), tabs...))
	top := []fyne.CanvasObject{bar}
	if m.msg != "" {
		l := ui.Para(m.msg)
		if m.msgErr {
			l.Importance = widget.DangerImportance
		} else {
			l.Importance = widget.SuccessImportance
		}
		top = append(top, l)
	} else if m.busy > 0 {
		top = append(top, ui.Para(m.tr.T("tech.busy")))
	}
	var body fyne.CanvasObject
	switch m.page {
	case PageDevices:
		body = m.devicesPage()
	case PageQueue:
		body = m.queuePageView()
	case PageNetwork:
		body = m.networkPage()
	case PageKiosk:
		body = m.kioskPage()
	case PageLogs:
		body = m.logsPage()
	case PageExit:
		body = m.exitPage()
	}
	if m.edit != nil {
		// The keypad needs the width; the page comes back on save or
		// cancel.
		body = container.NewCenter(m.edit.view(m))
	}
	if m.pinc != nil {
		body = container.NewCenter(m.pinc.view(m))
	}
	page := container.NewBorder(container.NewVBox(top...), nil, nil, nil, body)
	return container.NewStack(background(), container.NewPadded(page))
}

func (m *Mode) exitPage() fyne.CanvasObject {
	leave := ui.NewStyledButton(m.tr.T("tech.exit.leave"), ui.StylePrimary, m.Close)
	leave.Big = true
	objs := []fyne.CanvasObject{leave}
	if m.d.Restart != nil {
		if m.confirmRestart {
			yes := ui.NewStyledButton(m.tr.T("tech.exit.restart_yes"), ui.StyleDanger, func() {
				m.audit(EventRestart, "")
				m.say(m.tr.T("tech.exit.restarting"), false)
				m.redraw()
				m.d.Restart()
			})
			no := ui.NewButton(m.tr.T("tech.cancel"), func() { m.confirmRestart = false; m.redraw() })
			objs = append(objs, ui.Para(m.tr.T("tech.exit.restart_confirm")), container.NewHBox(no, yes))
		} else {
			objs = append(objs, ui.NewStyledButton(m.tr.T("tech.exit.restart"), ui.StyleDanger, func() {
				m.confirmRestart = true
				m.redraw()
			}))
		}
	}
	return container.NewVBox(append(objs, layout.NewSpacer())...)
}

// fmtDuration shows an age or offset to the second, or minute beyond an
// hour.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDuration(-d)
	}
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
