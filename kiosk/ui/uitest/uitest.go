// Package uitest drives kiosk/ui headless with Fyne's test driver: it finds
// buttons and fields by their text in the window tree, taps them the way a
// resident would (counting taps and typed characters), and collects every
// string on screen. kiosk/ui's and kiosk/app's tests and the screenshot tool
// use it; it is not linked into the kiosk binary.
package uitest

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
)

// Screen is 1280×800, the kiosk's panel.
var Screen = fyne.NewSize(1280, 800)

// Counter counts what a resident did: taps on buttons and fields, and
// characters typed on a keypad (each one a key tap, counted apart).
type Counter struct {
	Taps  int
	Typed int
}

// Walk calls f for every visible object in the tree under o, widgets'
// rendered children included, until f returns false.
func Walk(o fyne.CanvasObject, f func(fyne.CanvasObject) bool) bool {
	return walk(o, f, false)
}

// WalkAll is Walk including hidden objects.
func WalkAll(o fyne.CanvasObject, f func(fyne.CanvasObject) bool) bool {
	return walk(o, f, true)
}

func walk(o fyne.CanvasObject, f func(fyne.CanvasObject) bool, hidden bool) bool {
	if o == nil || (!hidden && !o.Visible()) {
		return true
	}
	if !f(o) {
		return false
	}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			if !walk(c, f, hidden) {
				return false
			}
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		for _, c := range r.Objects() {
			if !walk(c, f, hidden) {
				return false
			}
		}
	}
	return true
}

// Texts returns every string drawn under o: canvas texts, labels, rich
// text, buttons and field values.
func Texts(o fyne.CanvasObject) []string { return texts(o, Walk) }

// TextsAll is Texts including hidden objects and button labels.
func TextsAll(o fyne.CanvasObject) []string { return texts(o, WalkAll) }

// JoinedAll is TextsAll joined with newlines.
func JoinedAll(o fyne.CanvasObject) string { return strings.Join(TextsAll(o), "\n") }

func texts(o fyne.CanvasObject, walk func(fyne.CanvasObject, func(fyne.CanvasObject) bool) bool) []string {
	var out []string
	walk(o, func(c fyne.CanvasObject) bool {
		switch x := c.(type) {
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.RichText:
			out = append(out, x.String())
		case *ui.Field:
			out = append(out, x.Value, x.Placeholder)
		case *ui.Button:
			out = append(out, x.Text)
		}
		return true
	})
	return out
}

// Joined is Texts joined with newlines, for substring checks.
func Joined(o fyne.CanvasObject) string { return strings.Join(Texts(o), "\n") }

// Buttons returns every kiosk button under o.
func Buttons(o fyne.CanvasObject) []*ui.Button {
	var out []*ui.Button
	Walk(o, func(c fyne.CanvasObject) bool {
		if b, ok := c.(*ui.Button); ok {
			out = append(out, b)
		}
		return true
	})
	return out
}

// FindButton returns the first enabled button whose text (first line) is
// label, or whose text starts with label when prefix is set.
func FindButton(o fyne.CanvasObject, label string) *ui.Button {
	for _, b := range Buttons(o) {
		first, _, _ := strings.Cut(b.Text, "\n")
		if (first == label || b.Text == label) && !b.Disabled {
			return b
		}
	}
	return nil
}

// FindButtonContaining is FindButton by substring.
func FindButtonContaining(o fyne.CanvasObject, part string) *ui.Button {
	for _, b := range Buttons(o) {
		if strings.Contains(b.Text, part) && !b.Disabled {
			return b
		}
	}
	return nil
}

// Fields returns every kiosk input field under o.
func Fields(o fyne.CanvasObject) []*ui.Field {
	var out []*ui.Field
	Walk(o, func(c fyne.CanvasObject) bool {
		if f, ok := c.(*ui.Field); ok {
			out = append(out, f)
		}
		return true
	})
	return out
}

// Resident taps through a kiosk window and counts it.
type Resident struct {
	Win   fyne.Window
	Count Counter
}

// Tap taps the button labelled label, failing with the labels on screen
// when there is none.
func (r *Resident) Tap(label string) error {
	b := FindButton(r.Win.Content(), label)
	if b == nil {
		return fmt.Errorf("no enabled button %q on screen; buttons: %s", label, r.ButtonLabels())
	}
	r.Count.Taps++
	test.Tap(b)
	return nil
}

// TapContaining taps the first button whose text contains part.
func (r *Resident) TapContaining(part string) error {
	b := FindButtonContaining(r.Win.Content(), part)
	if b == nil {
		return fmt.Errorf("no enabled button containing %q; buttons: %s", part, r.ButtonLabels())
	}
	r.Count.Taps++
	test.Tap(b)
	return nil
}

// TapButton taps b.
func (r *Resident) TapButton(b fyne.Tappable) {
	r.Count.Taps++
	test.Tap(b)
}

// Type taps the keypad keys for s, one typed character each.
// Keys are found by their label, so this only types what the keypad on
// screen offers.
func (r *Resident) Type(s string) error {
	for _, c := range s {
		b := FindButton(r.Win.Content(), string(c))
		if b == nil {
			return fmt.Errorf("no keypad key %q on screen; buttons: %s", string(c), r.ButtonLabels())
		}
		r.Count.Typed++
		test.Tap(b)
	}
	return nil
}

// ButtonLabels lists the enabled buttons, for error messages.
func (r *Resident) ButtonLabels() string {
	var ls []string
	for _, b := range Buttons(r.Win.Content()) {
		if !b.Disabled {
			ls = append(ls, fmt.Sprintf("%q", strings.ReplaceAll(b.Text, "\n", " / ")))
		}
	}
	return strings.Join(ls, ", ")
}

// SavePNG captures the window and writes it to path.
func SavePNG(w fyne.Window, path string) error {
	img := w.Canvas().Capture()
	return writePNG(img, path)
}

func writePNG(img image.Image, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Clock is a manual clock for the flow's idle timer.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Harness is a kiosk on a test window driven by a real flow.Machine, with
// effects answered by Effects (nil answers nothing). It has no devices:
// kiosk/app's tests wire the real ones.
type Harness struct {
	App     fyne.App
	Win     fyne.Window
	Tr      *i18n.Translator
	Kiosk   *ui.Kiosk
	Machine *flow.Machine
	Catalog *catalog.Catalog
	Clock   *Clock
	// Effects answers an effect with the events the devices would send.
	Effects func(flow.Effect) []flow.Event
	// Seen records every effect.
	Seen []flow.Effect
	R    *Resident
}

// NewHarness builds the harness on a fresh test app with the sample
// catalog. The caller should defer h.Close.
func NewHarness() (*Harness, error) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		return nil, err
	}
	cal, err := catalog.ParseCalendar(assets.Holidays)
	if err != nil {
		return nil, err
	}
	a := test.NewApp()
	a.Settings().SetTheme(ui.NewTheme(false))
	h := &Harness{App: a, Tr: i18n.New(), Catalog: cat,
		Clock: NewClock(time.Date(2026, 3, 10, 9, 30, 0, 0, time.Local))}
	h.Machine = flow.New(cat, flow.Options{Now: h.Clock.Now, Calendar: cal})
	h.Kiosk = ui.New(h.Tr, ui.Options{Dispatch: h.Dispatch, Dict: SharedDict(), SampleCatalog: cat.Sample})
	h.Win = test.NewWindow(h.Kiosk.Object())
	h.Win.Resize(Screen)
	h.R = &Resident{Win: h.Win}
	st, _ := h.Machine.Handle(flow.Touch{})
	h.Kiosk.Render(st)
	return h, nil
}

var dictOnce = sync.OnceValue(ui.NewPinyinDict)

// SharedDict is one pinyin dictionary for all tests in a process; building
// it takes a few milliseconds that add up over many windows.
func SharedDict() *ui.PinyinDict { return dictOnce() }

// Dispatch runs ev through the machine, renders, and answers effects.
func (h *Harness) Dispatch(ev flow.Event) {
	queue := []flow.Event{ev}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		st, fx := h.Machine.Handle(e)
		h.Kiosk.Render(st)
		for _, f := range fx {
			h.Seen = append(h.Seen, f)
			if h.Effects != nil {
				queue = append(queue, h.Effects(f)...)
			}
		}
	}
}

// Tick advances the clock by d and sends the flow a Tick.
func (h *Harness) Tick(d time.Duration) { h.Dispatch(flow.Tick{Now: h.Clock.Advance(d)}) }

// Close releases the window and the app.
func (h *Harness) Close() {
	h.Win.Close()
	test.NewApp() // detach the global app from this one
}
