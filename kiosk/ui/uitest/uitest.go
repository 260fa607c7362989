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
	"onedoor/internal/testdate"
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
func Screen() fyne.Size { return fyne.NewSize(1280, 800) }

// Sizes are the window sizes the kiosk supports (kiosk/config's
// WindowSizes), the default first.
func Sizes() []fyne.Size {
	return []fyne.Size{fyne.NewSize(1280, 800), fyne.NewSize(1366, 768), fyne.NewSize(1920, 1080)}
}

// Visible returns every object of type T under o that is shown, in
// drawing order.
func Visible[T fyne.CanvasObject](o fyne.CanvasObject) []T { return all[T](o, Walk) }

// All returns every object of type T under o, hidden ones too, in drawing
// order.
func All[T fyne.CanvasObject](o fyne.CanvasObject) []T { return all[T](o, WalkAll) }

func all[T fyne.CanvasObject](o fyne.CanvasObject, walk func(fyne.CanvasObject, func(fyne.CanvasObject) bool) bool) []T {
	var out []T
	walk(o, func(c fyne.CanvasObject) bool {
		if x, ok := c.(T); ok {
			out = append(out, x)
		}
		return true
	})
	return out
}

// PagedLists returns the paged lists on screen, in drawing order.
func PagedLists(o fyne.CanvasObject) []*ui.PagedList { return Visible[*ui.PagedList](o) }

// PageNotice pages through the personal-information notice on the review
// screen with its next-page button, as a resident must before the consent
// box is enabled.
func PageNotice(h *Harness) error {
	for range 50 {
		if h.Machine.State().NoticeShown {
			return nil
		}
		lists := PagedLists(h.Win.Content())
		if len(lists) == 0 {
			return fmt.Errorf("no paged list on the review screen")
		}
		notice := lists[len(lists)-1]
		if notice.NextButton().Disabled {
			return fmt.Errorf("notice on its last page (%d of %d) but not marked shown", notice.Page()+1, notice.Pages())
		}
		h.R.TapButton(notice.NextButton())
	}
	return fmt.Errorf("notice not shown after 50 pages")
}

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
func Buttons(o fyne.CanvasObject) []*ui.Button { return Visible[*ui.Button](o) }

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
func Fields(o fyne.CanvasObject) []*ui.Field { return Visible[*ui.Field](o) }

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
	r.TapButton(b)
	return nil
}

// TapContaining taps the first button whose text contains part.
func (r *Resident) TapContaining(part string) error {
	b := FindButtonContaining(r.Win.Content(), part)
	if b == nil {
		return fmt.Errorf("no enabled button containing %q; buttons: %s", part, r.ButtonLabels())
	}
	r.TapButton(b)
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
		Clock: NewClock(testdate.Date(2026, 3, 10, 9, 30, 0, 0, time.Local))}
	h.Machine = flow.New(cat, flow.Options{Now: h.Clock.Now, Calendar: cal})
	h.Kiosk = ui.New(h.Tr, ui.Options{Dispatch: h.Dispatch, Dict: SharedDict(), SampleCatalog: cat.Sample, Voice: SilentVoice(h.Tr.Lang)})
	h.Win = test.NewWindow(h.Kiosk.Object())
	h.Win.Resize(Screen())
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

// SetSize resizes the window and fits the kiosk's sizes to it, as
// kiosk/app does with the configured window size.
func (h *Harness) SetSize(size fyne.Size) {
	h.Win.Resize(size)
	h.Kiosk.SetWindowSize(size.Width, size.Height)
}

// SetLang switches the language and redraws, as the kiosk's switch does.
func (h *Harness) SetLang(lang string) error {
	if err := h.Tr.SetLang(lang); err != nil {
		return err
	}
	h.Kiosk.Refresh()
	return nil
}

// Tick advances the clock by d and sends the flow a Tick.
func (h *Harness) Tick(d time.Duration) { h.Dispatch(flow.Tick{Now: h.Clock.Advance(d)}) }

// Close releases the window and the app.
func (h *Harness) Close() {
	h.Win.Close()
	test.NewApp() // detach the global app from this one
}

// Fictional is the applicant of tours and screenshots; invented, like the
// simulator's cards.
func Fictional() flow.Identity {
	return flow.Identity{Name: "王晓梅", Gender: "女", Nation: "汉", Birth: flow.Date{Year: 1990, Month: 6, Day: 12},
		Address: "广东省深圳市南山区演示路100号", IDNumber: "440305199006120240", FromCard: true, LongTerm: true}
}

// PassEligibility confirms every condition the kiosk cannot check and goes
// on to the form, as a resident who meets them does; it does nothing
// outside the eligibility step.
func PassEligibility(h *Harness) { ConfirmEligibility(h.Machine.State(), h.Dispatch) }

// ConfirmEligibility is PassEligibility for a flow in state st driven by
// dispatch.
func ConfirmEligibility(st flow.State, dispatch func(flow.Event)) {
	if st.Step != flow.StepEligibility {
		return
	}
	for i, r := range st.Eligibility {
		if r.Outcome == flow.RuleConfirm && !r.Confirmed {
			dispatch(flow.ConfirmCondition{Index: i, Yes: true})
		}
	}
	dispatch(flow.Next{})
}

// Tour drives h through every screen of a session (and the idle warning,
// a confirmation, paper out and a lookup) by feeding the real flow the
// events a session produces, with canned device results, and calls visit
// on each. Set the language and elder mode before calling it.
func Tour(h *Harness, visit func(name string) error) error {
	page := 0
	h.Effects = func(e flow.Effect) []flow.Event {
		if e, ok := e.(flow.ScanPage); ok {
			page++
			return []flow.Event{flow.ScanDone{MaterialID: e.MaterialID, Page: e.Page, Ref: fmt.Sprintf("page-%d", page), BlankScore: 0.1, BlurScore: 0.1}}
		}
		return nil
	}
	elder := h.Machine.State().ElderMode
	d := h.Dispatch
	receipt := "DG0001-20260310-0007"
	steps := []struct {
		name   string
		events []flow.Event
	}{
		{"home", nil},
		{"catalog", []flow.Event{flow.Start{}}},
		{"catalog-search", []flow.Event{flow.SearchCatalog{Query: "养老"}}},
		{"guide", []flow.Event{flow.SelectItem{ItemID: "hh-residence-permit"}}},
		{"identify", []flow.Event{flow.Next{}}},
		{"eligibility", []flow.Event{flow.CardRead{Identity: Fictional()}}},
		{"form", []flow.Event{flow.ConfirmCondition{Index: 1, Yes: true}, flow.Next{}}},
		{"form-error", []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "address", Value: "东莞市示例镇演示路100号"}, flow.SetField{Name: "move_in", Value: "2025"}, flow.Next{}}},
		{"materials", []flow.Event{flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}, flow.Scan{MaterialID: "photo"}}},
		{"materials-blank", []flow.Event{flow.Scan{MaterialID: "photo"}, flow.ScanDone{MaterialID: "photo", Page: 1, Ref: "blank", BlankScore: 0.99}}},
		{"materials-promise", []flow.Event{flow.UsePromise{MaterialID: "housing"}}},
		{"review", []flow.Event{flow.AcceptPromise{MaterialID: "housing"}, flow.Next{}}},
		{"confirm-cancel", []flow.Event{flow.Cancel{}}},
		{"submitting", []flow.Event{flow.ConfirmNo{}, flow.Submit{}}},
		{"receipt", []flow.Event{flow.SubmitDone{ReceiptNo: receipt, LookupCode: "7K3QDM9XTA", AcceptedAt: h.Clock.Now()}, flow.PrintDone{}}},
		{"receipt-paper-out", []flow.Event{flow.Reprint{}, flow.PrintFailed{PaperOut: true}}},
		{"rating", []flow.Event{flow.Next{}, flow.Rate{Level: flow.Dissatisfied}}},
		{"countdown", nil},
		{"thanks", []flow.Event{flow.SkipRating{}}},
		{"lookup", []flow.Event{flow.CardRemoved{}, flow.OpenLookup{}, flow.EnterReceiptNo{Number: receipt, Code: "7K3QD-M9XTA"},
			flow.LookupDone{Results: []flow.LookupResult{{ReceiptNo: receipt, ItemName: "居住证申领", Status: "approved",
				Note: "审核通过，请于 3 月 20 日后到镇行政服务中心 2 号窗口领取居住证。", UpdatedAt: h.Clock.Now()}}}}},
		{"offline", []flow.Event{flow.Back{}}},
	}
	for _, s := range steps {
		for _, e := range s.events {
			d(e)
		}
		switch s.name {
		case "countdown":
			limit := flow.DefaultIdleTimeout
			if elder {
				limit = flow.DefaultElderIdleTimeout
			}
			h.Tick(limit - 10*time.Second)
		case "lookup":
			if elder {
				// The rating ended the session, and elder mode with it.
				d(flow.SetElderMode{On: true})
			}
		case "offline":
			h.Kiosk.SetOnline(false)
		case "review":
			// The consent box is enabled only once the whole notice has
			// been on screen: page through it as a resident would.
			if err := PageNotice(h); err != nil {
				return fmt.Errorf("review: %w", err)
			}
			d(flow.SetConsent{Agreed: true})
		}
		if err := visit(s.name); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	h.Kiosk.SetOnline(true)
	return nil
}
