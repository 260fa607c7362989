package ui

import (
	"image/color"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Field is a one-line input box the on-screen keypads write into. It has no
// text cursor: residents append and delete at the end, which is all a touch
// keypad needs and avoids widget.Entry's focus and cursor handling. It is
// also fyne.Focusable, so a hardware keyboard or a keyboard-wedge scanner
// types into it as well.
type Field struct {
	widget.BaseWidget
	// Name identifies the field (the form field's name), for tests and logs.
	Name        string
	Value       string
	Placeholder string
	Active      bool
	Invalid     bool
	ReadOnly    bool
	MaxLen      int // in runes; 0 means no limit
	// OnChanged is called after every change of Value.
	OnChanged func(string)
	// OnTapped is called when the resident taps the box, to make it the
	// keypad's target.
	OnTapped func()
	// OnSubmit, when set, runs on Enter from a hardware keyboard: a
	// keyboard-wedge scanner ends every scan with Enter, so a scanned
	// receipt number is looked up without a tap.
	OnSubmit func()
}

// NewField returns an empty field.
func NewField(placeholder string) *Field {
	f := &Field{Placeholder: placeholder}
	f.ExtendBaseWidget(f)
	return f
}

// AppendRune adds r at the end unless the field is full or read-only.
func (f *Field) AppendRune(r rune) {
	if f.ReadOnly || (f.MaxLen > 0 && utf8.RuneCountInString(f.Value) >= f.MaxLen) {
		return
	}
	f.set(f.Value + string(r))
}

// Backspace deletes the last rune.
func (f *Field) Backspace() {
	if f.ReadOnly || f.Value == "" {
		return
	}
	_, n := utf8.DecodeLastRuneInString(f.Value)
	f.set(f.Value[:len(f.Value)-n])
}

// Clear empties the field.
func (f *Field) Clear() {
	if f.ReadOnly || f.Value == "" {
		return
	}
	f.set("")
}

// SetValue replaces the value without calling OnChanged, for redraws.
func (f *Field) SetValue(v string) {
	f.Value = v
	f.Refresh()
}

func (f *Field) set(v string) {
	f.Value = v
	f.Refresh()
	if f.OnChanged != nil {
		f.OnChanged(v)
	}
}

// Tapped implements fyne.Tappable.
func (f *Field) Tapped(*fyne.PointEvent) {
	if f.OnTapped != nil && !f.ReadOnly {
		f.OnTapped()
	}
}

// FocusGained implements fyne.Focusable.
func (f *Field) FocusGained() {}

// FocusLost implements fyne.Focusable.
func (f *Field) FocusLost() {}

// TypedRune implements fyne.Focusable.
func (f *Field) TypedRune(r rune) { f.AppendRune(r) }

// TypedKey implements fyne.Focusable.
func (f *Field) TypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyBackspace:
		f.Backspace()
	case fyne.KeyReturn, fyne.KeyEnter:
		if f.OnSubmit != nil {
			f.OnSubmit()
		}
	}
}

// CreateRenderer implements fyne.Widget.
func (f *Field) CreateRenderer() fyne.WidgetRenderer {
	r := &fieldRenderer{f: f, box: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.Black),
		caret: canvas.NewRectangle(color.Transparent)}
	r.update()
	return r
}

type fieldRenderer struct {
	f     *Field
	box   *canvas.Rectangle
	text  *canvas.Text
	caret *canvas.Rectangle
}

func (r *fieldRenderer) update() {
	r.box.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.box.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	r.box.StrokeWidth = 2
	switch {
	case r.f.Invalid:
		r.box.StrokeColor = theme.Color(theme.ColorNameError)
		r.box.StrokeWidth = 4
	case r.f.Active:
		r.box.StrokeColor = theme.Color(theme.ColorNamePrimary)
		r.box.StrokeWidth = 4
	}
	if r.f.ReadOnly {
		r.box.FillColor = theme.Color(theme.ColorNameHeaderBackground)
	}
	r.box.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	r.text.TextSize = theme.Size(theme.SizeNameText)
	if r.f.Value == "" {
		r.text.Text = r.f.Placeholder
		r.text.Color = theme.Color(theme.ColorNamePlaceHolder)
	} else {
		r.text.Text = r.f.Value
		r.text.Color = theme.Color(theme.ColorNameForeground)
	}
	r.caret.FillColor = theme.Color(theme.ColorNamePrimary)
	if r.f.Active && !r.f.ReadOnly {
		r.caret.Show()
	} else {
		r.caret.Hide()
	}
}

func (r *fieldRenderer) Layout(s fyne.Size) {
	pad := theme.Size(theme.SizeNameInnerPadding)
	r.box.Resize(s)
	r.fitHint(s.Width - 2*pad)
	ts := r.text.MinSize()
	r.text.Move(fyne.NewPos(pad, (s.Height-ts.Height)/2))
	r.text.Resize(fyne.NewSize(s.Width-2*pad, ts.Height))
	x := pad
	if r.f.Value != "" {
		x += ts.Width + 2
	}
	r.caret.Move(fyne.NewPos(x, (s.Height-ts.Height)/2))
	r.caret.Resize(fyne.NewSize(3, ts.Height))
}

func (r *fieldRenderer) MinSize() fyne.Size {
	pad := theme.Size(theme.SizeNameInnerPadding)
	ts := r.text.MinSize()
	w := ts.Width + 2*pad + 6
	if r.f.Value == "" {
		// A hint does not widen the field: it is drawn smaller to fit
		// (fitHint). English elder mode's search hint made the catalog
		// wider than the window.
		w = 0
	}
	return fyne.NewSize(max(w, 6*currentTarget()), max(ts.Height+pad, currentTarget()))
}

// fitHint shrinks the hint shown in an empty field to width, down to a
// floor that keeps elder mode's type above normal body text.
func (r *fieldRenderer) fitHint(width float32) {
	r.text.TextSize = theme.Size(theme.SizeNameText)
	if r.f.Value != "" || width <= 0 {
		return
	}
	floor := float32(12)
	if t, ok := fyne.CurrentApp().Settings().Theme().(*Theme); ok && t.Elder() {
		floor = normalText + 1
	}
	if w := r.text.MinSize().Width; w > width {
		r.text.TextSize = max(floor, r.text.TextSize*width/w*0.98)
	}
}

func (r *fieldRenderer) Refresh() {
	r.update()
	r.Layout(r.f.Size())
	r.box.Refresh()
	r.text.Refresh()
	r.caret.Refresh()
}

func (r *fieldRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.box, r.text, r.caret}
}

func (r *fieldRenderer) Destroy() {}
