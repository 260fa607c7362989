package ui_test

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

func newApp(t *testing.T) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))
}

// tapKey taps the keypad key labelled label.
func tapKey(t *testing.T, kp *ui.Keypad, label string) {
	t.Helper()
	b := uitest.FindButton(kp, label)
	if b == nil {
		t.Fatalf("no key %q", label)
	}
	test.Tap(b)
}

func TestNumericKeypad(t *testing.T) {
	newApp(t)
	tr := i18n.New()
	tests := []struct {
		name   string
		kind   ui.KeypadKind
		maxLen int
		keys   []string
		want   string
		noX    bool
	}{
		{name: "digits", kind: ui.KeypadNumeric, keys: []string{"1", "3", "8"}, want: "138", noX: true},
		{name: "backspace", kind: ui.KeypadNumeric, keys: []string{"1", "2", "退格", "5"}, want: "15", noX: true},
		{name: "clear", kind: ui.KeypadNumeric, keys: []string{"1", "2", "清空", "9"}, want: "9", noX: true},
		{name: "id with X", kind: ui.KeypadIDNumber, keys: []string{"1", "X"}, want: "1X"},
		{name: "max length", kind: ui.KeypadNumeric, maxLen: 3, keys: []string{"1", "2", "3", "4"}, want: "123", noX: true},
		{name: "backspace on empty", kind: ui.KeypadNumeric, keys: []string{"退格"}, want: "", noX: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ui.NewField("")
			f.MaxLen = tc.maxLen
			changes := 0
			f.OnChanged = func(string) { changes++ }
			kp := ui.NewKeypad(tr, nil, tc.kind)
			keys := 0
			kp.OnKey = func() { keys++ }
			kp.SetTarget(f)
			test.NewTempWindow(t, kp)
			for _, k := range tc.keys {
				tapKey(t, kp, k)
			}
			if f.Value != tc.want {
				t.Errorf("field = %q, want %q", f.Value, tc.want)
			}
			if keys != len(tc.keys) {
				t.Errorf("OnKey called %d times for %d keys", keys, len(tc.keys))
			}
			if tc.noX && uitest.FindButton(kp, "X") != nil {
				t.Error("X key on a plain numeric keypad")
			}
		})
	}
}

func TestPinyinKeypad(t *testing.T) {
	newApp(t)
	tr := i18n.New()
	f := ui.NewField("")
	kp := ui.NewKeypad(tr, uitest.SharedDict(), ui.KeypadPinyin, ui.KeypadLatin)
	kp.SetTarget(f)
	test.NewTempWindow(t, kp)
	for _, k := range "zhong" {
		tapKey(t, kp, string(k))
	}
	if kp.Buffer() != "zhong" || f.Value != "" {
		t.Fatalf("buffer %q field %q after typing zhong", kp.Buffer(), f.Value)
	}
	tapKey(t, kp, "中")
	if f.Value != "中" || kp.Buffer() != "" {
		t.Fatalf("after choosing 中: field %q buffer %q", f.Value, kp.Buffer())
	}
	// Backspace eats the buffer first, then the field.
	for _, k := range "gu" {
		tapKey(t, kp, string(k))
	}
	tapKey(t, kp, "退格")
	if kp.Buffer() != "g" || f.Value != "中" {
		t.Fatalf("backspace with buffer: buffer %q field %q", kp.Buffer(), f.Value)
	}
	tapKey(t, kp, "u")
	tapKey(t, kp, "o")
	tapKey(t, kp, "空格") // space takes the first candidate
	if len([]rune(f.Value)) != 2 {
		t.Fatalf("space did not insert a candidate: %q", f.Value)
	}
	// Paging candidates.
	for _, k := range "shi" {
		tapKey(t, kp, string(k))
	}
	first := kp.Candidates()
	tapKey(t, kp, ">")
	if fmt.Sprint(kp.Candidates()) == fmt.Sprint(first) {
		t.Error("next candidate page shows the same characters")
	}
	tapKey(t, kp, "<")
	if fmt.Sprint(kp.Candidates()) != fmt.Sprint(first) {
		t.Error("previous candidate page differs from the first")
	}
	// Latin mode types letters directly.
	tapKey(t, kp, "英文")
	if kp.Kind() != ui.KeypadLatin || kp.Buffer() != "" {
		t.Fatalf("kind %v buffer %q after switching to Latin", kp.Kind(), kp.Buffer())
	}
	before := f.Value
	tapKey(t, kp, "a")
	tapKey(t, kp, "7")
	if f.Value != before+"a7" {
		t.Errorf("Latin typed %q, want %q", f.Value, before+"a7")
	}
}

func TestFieldHardwareKeyboard(t *testing.T) {
	newApp(t)
	f := ui.NewField("")
	w := test.NewTempWindow(t, f)
	w.Canvas().Focus(f)
	test.Type(f, "138ab")
	f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if f.Value != "138a" {
		t.Errorf("typed value %q", f.Value)
	}
	f.ReadOnly = true
	test.Type(f, "9")
	if f.Value != "138a" {
		t.Errorf("read-only field changed to %q", f.Value)
	}
}

func labels(n int) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for i := range n {
		out = append(out, widget.NewLabel(fmt.Sprintf("item %d", i)))
	}
	return out
}

func TestPagedList(t *testing.T) {
	newApp(t)
	tr := i18n.New()
	tests := []struct {
		name      string
		items     int
		perPage   int
		cols      int
		height    float32
		wantPages int
	}{
		{name: "per page limit", items: 10, perPage: 4, cols: 1, height: 2000, wantPages: 3},
		{name: "two columns", items: 10, perPage: 4, cols: 2, height: 2000, wantPages: 3},
		{name: "height limit", items: 10, perPage: 10, cols: 1, height: 300, wantPages: 0},
		{name: "one page hides nav", items: 3, perPage: 4, cols: 1, height: 2000, wantPages: 1},
		{name: "empty", items: 0, perPage: 4, cols: 1, height: 500, wantPages: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := labels(tc.items)
			p := ui.NewPagedList(tr, items, tc.perPage, tc.cols, 0)
			w := test.NewTempWindow(t, p)
			w.Resize(fyne.NewSize(600, tc.height))
			pages := p.Pages()
			if tc.wantPages > 0 && pages != tc.wantPages {
				t.Fatalf("%d pages, want %d", pages, tc.wantPages)
			}
			if tc.wantPages == 0 && pages < 2 {
				t.Fatalf("height did not split the list: %d pages", pages)
			}
			seen := 0
			for pg := range pages {
				p.SetPage(pg)
				for _, it := range p.PageItems() {
					if !it.Visible() {
						t.Errorf("page %d item hidden", pg)
					}
					if it.Position().Y+it.Size().Height > p.Size().Height {
						t.Errorf("page %d: item drawn below the list (%v + %v > %v)", pg, it.Position().Y, it.Size().Height, p.Size().Height)
					}
				}
				seen += len(p.PageItems())
			}
			if seen != tc.items {
				t.Errorf("pages show %d items in all, want %d", seen, tc.items)
			}
			if pages == 1 && p.NextButton().Visible() && tc.items > 0 {
				// The nav row is hidden as a whole on single pages.
				nav := uitest.FindButton(p, "下一页")
				if nav != nil {
					t.Error("next-page button shown on a single page")
				}
			}
		})
	}
}

func TestPagedListButtonsAndPin(t *testing.T) {
	newApp(t)
	items := labels(9)
	p := ui.NewPagedList(i18n.New(), items, 3, 1, 0)
	w := test.NewTempWindow(t, p)
	w.Resize(fyne.NewSize(400, 2000))
	var paged []int
	p.OnPage = func(n int) { paged = append(paged, n) }
	test.Tap(p.NextButton())
	test.Tap(p.NextButton())
	test.Tap(p.NextButton()) // disabled on the last page
	test.Tap(p.PrevButton())
	if fmt.Sprint(paged) != "[1 2 1]" {
		t.Errorf("pages visited %v, want [1 2 1]", paged)
	}
	p.ShowItem(items[8])
	if p.Page() != 2 {
		t.Errorf("ShowItem(last) shows page %d", p.Page())
	}
	w.Resize(fyne.NewSize(400, 2001)) // a re-cut keeps the pinned item shown
	if p.Page() != 2 {
		t.Errorf("after re-layout page %d, want 2", p.Page())
	}
}

// manualTimer is a Timer the test fires by hand.
type manualTimer struct {
	f       func()
	stopped int
}

func (m *manualTimer) start(d time.Duration, f func()) func() {
	m.f = f
	return func() { m.stopped++; m.f = nil }
}

func TestLongPress(t *testing.T) {
	newApp(t)
	tests := []struct {
		name  string
		steps func(l *ui.LongPress, m *manualTimer)
		want  int
	}{
		{"held", func(l *ui.LongPress, m *manualTimer) { l.MouseDown(&desktop.MouseEvent{}); m.f() }, 1},
		{"released early", func(l *ui.LongPress, m *manualTimer) {
			l.MouseDown(&desktop.MouseEvent{})
			l.MouseUp(&desktop.MouseEvent{})
			if m.f != nil {
				m.f()
			}
		}, 0},
		{"slid off", func(l *ui.LongPress, m *manualTimer) {
			l.MouseDown(&desktop.MouseEvent{})
			l.MouseOut()
			if m.f != nil {
				m.f()
			}
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &manualTimer{}
			n := 0
			l := ui.NewLongPress(widget.NewLabel("x"), 3*time.Second, m.start, func() { n++ })
			tc.steps(l, m)
			if n != tc.want {
				t.Errorf("long presses %d, want %d", n, tc.want)
			}
		})
	}
}
