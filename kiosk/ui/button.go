package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Style is the look of a Button.
type Style int

// Button styles.
const (
	StyleNormal  Style = iota // white face, dark text
	StylePrimary              // the one action a screen leads to
	StyleDanger               // cancel, discard
	StyleChosen               // the selected option of a group
)

// Button is the kiosk's touch button. Fyne's widget.Button is not used
// because its minimum size follows the text, not the touch target, and in
// 2.7.2 tapping it takes focus from the field a keypad writes into. Button
// never implements DoubleTappable, so taps are not delayed by 300 ms.
// Text may hold several lines separated by "\n"; the first is drawn larger
// when Big is set.
type Button struct {
	widget.BaseWidget
	Text     string
	Style    Style
	Big      bool
	Disabled bool
	OnTapped func()
	// MinWidth and MinHeight enlarge the button beyond its text and the
	// theme's touch target, e.g. for keypad keys.
	MinWidth, MinHeight float32
}

// NewButton returns a normal-style button.
func NewButton(text string, tapped func()) *Button {
	b := &Button{Text: text, OnTapped: tapped}
	b.ExtendBaseWidget(b)
	return b
}

// NewStyledButton returns a button with the given style.
func NewStyledButton(text string, style Style, tapped func()) *Button {
	b := &Button{Text: text, Style: style, OnTapped: tapped}
	b.ExtendBaseWidget(b)
	return b
}

// Tapped implements fyne.Tappable.
func (b *Button) Tapped(*fyne.PointEvent) {
	if b.Disabled || b.OnTapped == nil {
		return
	}
	b.OnTapped()
}

// SetText changes the label.
func (b *Button) SetText(s string) {
	b.Text = s
	b.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (b *Button) CreateRenderer() fyne.WidgetRenderer {
	r := &buttonRenderer{b: b, bg: canvas.NewRectangle(color.Transparent)}
	r.update()
	return r
}

type buttonRenderer struct {
	b     *Button
	bg    *canvas.Rectangle
	lines []*canvas.Text
}

func currentTarget() float32 {
	if t, ok := fyne.CurrentApp().Settings().Theme().(*Theme); ok {
		return t.TargetSize()
	}
	return normalTarget
}

func (r *buttonRenderer) colors() (bg, fg, border color.Color) {
	switch {
	case r.b.Disabled:
		return theme.Color(theme.ColorNameDisabledButton), theme.Color(theme.ColorNameDisabled), theme.Color(theme.ColorNameDisabled)
	case r.b.Style == StylePrimary:
		p := theme.Color(theme.ColorNamePrimary)
		return p, theme.Color(theme.ColorNameForegroundOnPrimary), p
	case r.b.Style == StyleDanger:
		e := theme.Color(theme.ColorNameError)
		return e, theme.Color(theme.ColorNameForegroundOnError), e
	case r.b.Style == StyleChosen:
		return theme.Color(theme.ColorNameHeaderBackground), theme.Color(theme.ColorNameForeground), theme.Color(theme.ColorNamePrimary)
	}
	return theme.Color(theme.ColorNameButton), theme.Color(theme.ColorNameForeground), theme.Color(theme.ColorNameInputBorder)
}

func (r *buttonRenderer) update() {
	parts := strings.Split(r.b.Text, "\n")
	for len(r.lines) < len(parts) {
		r.lines = append(r.lines, canvas.NewText("", color.Black))
	}
	r.lines = r.lines[:len(parts)]
	bg, fg, border := r.colors()
	r.bg.FillColor = bg
	r.bg.StrokeColor = border
	r.bg.StrokeWidth = 2
	if r.b.Style == StyleChosen {
		r.bg.StrokeWidth = 4
	}
	r.bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	size := theme.Size(theme.SizeNameText)
	for i, p := range parts {
		t := r.lines[i]
		t.Text = p
		t.Color = fg
		t.TextSize = size
		t.Alignment = fyne.TextAlignCenter
		if i == 0 && r.b.Big {
			t.TextSize = theme.Size(theme.SizeNameSubHeadingText)
		}
		if i > 0 {
			t.TextSize = theme.Size(theme.SizeNameCaptionText)
		}
	}
}

func (r *buttonRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	r.bg.Move(fyne.NewPos(0, 0))
	r.fit(s.Width)
	var h float32
	for _, t := range r.lines {
		h += t.MinSize().Height
	}
	y := (s.Height - h) / 2
	for _, t := range r.lines {
		th := t.MinSize().Height
		t.Move(fyne.NewPos(0, y))
		t.Resize(fyne.NewSize(s.Width, th))
		y += th
	}
}

// fit shrinks lines wider than the button, down to a floor that keeps elder
// mode's type above normal body text: a long English item name in a grid
// cell is drawn a little smaller rather than clipped.
func (r *buttonRenderer) fit(width float32) {
	avail := width - 2*theme.Size(theme.SizeNameInnerPadding)
	if avail <= 0 {
		return
	}
	floor := float32(12)
	if t, ok := fyne.CurrentApp().Settings().Theme().(*Theme); ok && t.Elder() {
		floor = normalText + 1
	}
	r.update() // natural sizes first
	for _, t := range r.lines {
		if w := t.MinSize().Width; w > avail {
			t.TextSize = max(floor, t.TextSize*avail/w*0.98)
		}
	}
}

func (r *buttonRenderer) MinSize() fyne.Size {
	pad := theme.Size(theme.SizeNameInnerPadding)
	var w, h float32
	for _, t := range r.natural() {
		w = max(w, t.Width)
		h += t.Height
	}
	target := currentTarget()
	return fyne.NewSize(max(w+2*pad, target, r.b.MinWidth), max(h+pad, target, r.b.MinHeight))
}

// natural measures the lines at their unshrunk sizes.
func (r *buttonRenderer) natural() []fyne.Size {
	out := make([]fyne.Size, len(r.lines))
	for i, t := range r.lines {
		out[i] = fyne.MeasureText(t.Text, r.naturalSize(i), t.TextStyle)
	}
	return out
}

func (r *buttonRenderer) naturalSize(i int) float32 {
	switch {
	case i == 0 && r.b.Big:
		return theme.Size(theme.SizeNameSubHeadingText)
	case i > 0:
		return theme.Size(theme.SizeNameCaptionText)
	}
	return theme.Size(theme.SizeNameText)
}

func (r *buttonRenderer) Refresh() {
	r.update()
	r.Layout(r.b.Size())
	r.bg.Refresh()
	for _, t := range r.lines {
		t.Refresh()
	}
}

func (r *buttonRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.bg}
	for _, t := range r.lines {
		objs = append(objs, t)
	}
	return objs
}

func (r *buttonRenderer) Destroy() {}
