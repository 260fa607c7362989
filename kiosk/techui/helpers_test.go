package techui_test

import (
	"context"
	"io"
	"log/slog"
	"onedoor/internal/testdate"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"onedoor/assets"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/config"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/techui"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

const rightPIN = "246810"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// poster is Deps.Post for tests: background work queues its UI updates,
// and the test goroutine runs them, so widgets stay on one goroutine.
type poster struct{ ch chan func() }

func newPoster() *poster { return &poster{ch: make(chan func(), 256)} }

func (p *poster) Post(f func()) { p.ch <- f }

// until runs posted updates until cond holds, failing after limit.
func (p *poster) until(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(limit)
	for !cond() {
		select {
		case f := <-p.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
	}
}

// fakeTimer is ui.Timer without sleeping: the test fires the hold.
type fakeTimer struct {
	mu      sync.Mutex
	pending func()
	held    time.Duration
}

func (f *fakeTimer) Start(d time.Duration, fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending, f.held = fn, d
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pending = nil
	}
}

// Fire runs the pending long press, if the finger is still down.
func (f *fakeTimer) Fire() bool {
	f.mu.Lock()
	fn := f.pending
	f.pending = nil
	f.mu.Unlock()
	if fn == nil {
		return false
	}
	fn()
	return true
}

// rig is technician mode over a real resident screen in a test window.
type rig struct {
	t      *testing.T
	mode   *techui.Mode
	kiosk  *ui.Kiosk
	win    fyne.Window
	post   *poster
	timer  *fakeTimer
	r      *uitest.Resident
	gate   *techpin.Guard
	store  techui.FileStore
	clock  *uitest.Clock
	audits *auditLog
}

type auditLog struct {
	mu      sync.Mutex
	entries []string
}

func (a *auditLog) Audit(_ context.Context, event, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, event+" "+detail)
	return nil
}

func (a *auditLog) joined() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.entries, "\n")
}

type rigOptions struct {
	dir   string // config, PIN state; a temp dir when empty
	cfg   *config.Config
	clock *uitest.Clock
	deps  func(d *techui.Deps)
}

// baseConfig is a valid configuration with data paths under dir and no
// device ports.
func baseConfig(dir string) config.Config {
	c := config.Default()
	c.Storage.DataDir = filepath.Join(dir, "data")
	c.Storage.KeyFile = filepath.Join(dir, "keys", "data.key")
	return c
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.clock == nil {
		o.clock = newClock()
	}
	store := techui.FileStore{Path: filepath.Join(o.dir, "config.toml")}
	// Cheap hashing parameters: the tests check behaviour, not the cost.
	cheap := techpin.Params{Time: 1, Memory: 64, Threads: 1}
	hash, err := techpin.Hash(rightPIN, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg != nil {
		c := *o.cfg
		c.Technician.PINHash = hash
		if err := store.Save(c); err != nil {
			t.Fatal(err)
		}
	} else if _, err := store.Load(); err != nil {
		t.Fatal(err)
	}
	audits := &auditLog{}
	gate, err := techpin.Open(context.Background(), techpin.Options{
		StatePath: filepath.Join(o.dir, "techpin.json"), Hash: hash, Auditor: audits, Clock: o.clock.Now, Logger: quiet, Params: cheap,
	})
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))
	p := newPoster()
	deps := techui.Deps{Gate: gate, Store: store, Post: p.Post, Now: o.clock.Now, Refresh: -1, Audit: audits, Logger: quiet}
	if o.deps != nil {
		o.deps(&deps)
	}
	mode, err := techui.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mode.Stop)

	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	machine := flow.New(cat, flow.Options{Now: o.clock.Now})
	timer := &fakeTimer{}
	var kiosk *ui.Kiosk
	kiosk = ui.New(i18n.New(), ui.Options{
		Dispatch:     func(ev flow.Event) { st, _ := machine.Handle(ev); kiosk.Render(st) },
		OnTechnician: mode.Open, Timer: timer.Start,
	})
	st, _ := machine.Handle(flow.Touch{})
	kiosk.Render(st)
	win := test.NewTempWindow(t, mode.Wrap(kiosk.Object()))
	win.Resize(fyne.NewSize(1280, 800))
	return &rig{t: t, mode: mode, kiosk: kiosk, win: win, post: p, timer: timer, r: &uitest.Resident{Win: win},
		gate: gate, store: store, clock: o.clock, audits: audits}
}

// longPress holds the hidden corner: mouse down on the long-press area,
// then the hold time passes.
func (r *rig) longPress() {
	r.t.Helper()
	lp := r.longPressArea()
	lp.MouseDown(&desktop.MouseEvent{})
	if !r.timer.Fire() {
		r.t.Fatal("the long press did not start a timer")
	}
}

func (r *rig) longPressArea() *ui.LongPress {
	r.t.Helper()
	var lp *ui.LongPress
	uitest.Walk(r.win.Content(), func(o fyne.CanvasObject) bool {
		if l, ok := o.(*ui.LongPress); ok {
			lp = l
			return false
		}
		return true
	})
	if lp == nil {
		r.t.Fatal("no long-press area on the resident screen")
	}
	return lp
}

func (r *rig) tr(key string, args ...any) string { return r.mode.Translator().T(key, args...) }

// tap taps the button labelled text (its first line, or all of it).
func (r *rig) tap(text string) {
	r.t.Helper()
	if err := r.r.Tap(text); err != nil {
		r.t.Fatal(err)
	}
}

// enterPIN types pin on the keypad and taps Enter, then waits for the
// answer.
func (r *rig) enterPIN(pin string) {
	r.t.Helper()
	if err := r.r.Type(pin); err != nil {
		r.t.Fatal(err)
	}
	r.tap(r.tr("tech.pin.enter"))
	r.settle()
}

// settle runs posted updates until no background work is left.
func (r *rig) settle() {
	r.t.Helper()
	r.post.until(r.t, 45*time.Second, "background work", func() bool { return !r.mode.Busy() })
}

func (r *rig) screen() string { return uitest.JoinedAll(r.win.Content()) }

// open goes through the gesture and the PIN.
func (r *rig) open() {
	r.t.Helper()
	r.longPress()
	r.enterPIN(rightPIN)
	if !r.mode.IsOpen() {
		r.t.Fatalf("technician mode did not open; screen:\n%s", r.screen())
	}
}

// openPTY opens a pseudo-terminal with a stable link.
func openPTY(t *testing.T, link string) *sim.PTY { return simtest.PTY(t, link) }

func simPrinter(t *testing.T, link string) *sim.Printer {
	t.Helper()
	sp, _, _ := simtest.Printer(t, link, simtest.Profile(t, "generic-80"), sim.WithLogger(quiet))
	return sp
}

// listPorts is the PortLister over the test's pty links, as
// serialport.ListCandidates is over /dev.
func listPorts(links ...string) techui.PortLister {
	return func(configured []string) []serialport.Candidate {
		var out []serialport.Candidate
		for _, l := range links {
			target, _ := filepath.EvalSymlinks(l)
			out = append(out, serialport.Candidate{Path: l, Target: target, Exists: true})
		}
		return out
	}
}

func newClock() *uitest.Clock {
	return uitest.NewClock(testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.Local))
}

// kioskPage opens technician mode on a fresh configuration in a temporary
// folder and goes to its Kiosk page.
func kioskPage(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	cfg := baseConfig(dir)
	r := newRig(t, rigOptions{dir: dir, cfg: &cfg})
	r.open()
	r.tap(r.tr("tech.tab.kiosk"))
	return r
}
