package ui_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// renderedContrast checks every text drawn in w against what is really
// behind it in a capture of the window: TestContrast checks the palette's
// intended pairs, but a label's colour on a rectangle of another colour
// (blue text on the dark green "staff are coming" line) is a pair nobody
// declared. The background of a text is the commonest colour in its box
// that is not the text's own; disabled texts are exempt (WCAG 1.4.3).
func renderedContrast(w fyne.Window) []string {
	img := nrgba(w.Canvas().Capture())
	scale := float32(img.Bounds().Dx()) / w.Canvas().Size().Width
	disabled := fyne.CurrentApp().Settings().Theme().Color(theme.ColorNameDisabled, theme.VariantLight)
	var problems []string
	eachText(w.Content(), fyne.Position{}, func(t *canvas.Text, pos fyne.Position) {
		if strings.TrimSpace(t.Text) == "" || sameColor(t.Color, disabled) {
			return
		}
		size := t.Size()
		box := image.Rect(int(pos.X*scale), int(pos.Y*scale), int((pos.X+size.Width)*scale), int((pos.Y+size.Height)*scale)).Intersect(img.Bounds())
		bg, found := backgroundOf(img, box, t.Color)
		if !found {
			return
		}
		if c := ui.Contrast(t.Color, bg); c < ui.MinContrast {
			problems = append(problems, fmt.Sprintf("%q: text %v on %v, contrast %.2f", t.Text, t.Color, bg, c))
		}
	})
	return problems
}

// eachText calls f with every visible text under o and its position on
// the canvas, o being at "at" plus its own position. (The driver's
// AbsolutePositionForObject searches the whole tree for each object, which
// made the tour take a minute under the race detector.)
func eachText(o fyne.CanvasObject, at fyne.Position, f func(*canvas.Text, fyne.Position)) {
	if o == nil || !o.Visible() {
		return
	}
	pos := at.Add(o.Position())
	switch x := o.(type) {
	case *canvas.Text:
		f(x, pos)
	case *fyne.Container:
		for _, c := range x.Objects {
			eachText(c, pos, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			eachText(c, pos, f)
		}
	}
}

// nrgba is img as NRGBA pixels, read directly below (img.At per pixel
// made the tour take a minute under the race detector).
func nrgba(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return n
}

// backgroundOf is the commonest colour in box of img that is not near fg.
func backgroundOf(img *image.NRGBA, box image.Rectangle, fg color.Color) (color.NRGBA, bool) {
	// Every third pixel each way: the background fills most of a text's
	// box, so a sample finds it as surely at a ninth of the cost.
	counts := map[color.NRGBA]int{}
	for y := box.Min.Y; y < box.Max.Y; y += 3 {
		for x := box.Min.X; x < box.Max.X; x += 3 {
			i := img.PixOffset(x, y)
			c := color.NRGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3]}
			if near(c, fg) {
				continue // the glyphs themselves; their anti-aliased edges are
				// blends of many shades, none of them as common as the
				// background
			}
			counts[c]++
		}
	}
	var best color.NRGBA
	n := 0
	for c, k := range counts {
		if k > n {
			best, n = c, k
		}
	}
	return best, n > 0
}

// near reports whether a and b differ by less than 16 in every channel
// (by luminance alone a blue and a dark green can be the same).
func near(a color.NRGBA, b color.Color) bool {
	n := color.NRGBAModel.Convert(b).(color.NRGBA)
	d := func(x, y uint8) bool { return max(x, y)-min(x, y) < 16 }
	return d(a.R, n.R) && d(a.G, n.G) && d(a.B, n.B)
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// TestRenderedTextContrast: on every screen of a session, in both
// palettes, every text meets WCAG AA against what is drawn behind it.
func TestRenderedTextContrast(t *testing.T) {
	for _, elder := range []bool{false, true} {
		t.Run(fmt.Sprintf("elder=%v", elder), func(t *testing.T) {
			h := newHarness(t, i18n.ZhCN, elder)
			err := uitest.Tour(h, func(name string) error {
				if p := renderedContrast(h.Win); len(p) > 0 {
					return fmt.Errorf("%s:\n  %s", name, strings.Join(p, "\n  "))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHelpLineReadable: the line under the bar saying what became of a
// call for staff (sending, staff are coming, offline) is readable in both
// palettes. The "staff are coming" line drew blue text on dark green.
func TestHelpLineReadable(t *testing.T) {
	for _, elder := range []bool{false, true} {
		for _, outcome := range []error{nil, errors.New("link down"), errSending} {
			a := test.NewTempApp(t)
			a.Settings().SetTheme(ui.NewTheme(elder))
			var done func(error)
			box := container.NewVBox()
			state := flow.State{Step: flow.StepHome}
			var bar *ui.VoiceBar
			bar = ui.NewVoiceBar(i18n.New(), nil, func(_ string, d func(error)) { done = d }, func() {}, func() {
				box.Objects = bar.Objects(state, nil)
				box.Refresh()
			})
			bar.Show(state)
			w := test.NewWindow(box)
			w.Resize(uitest.Screen())
			bar.PressHelp()
			if outcome != errSending {
				done(outcome)
			}
			w.Content().Refresh()
			if bar.HelpState() == "" {
				t.Fatal("no help line after pressing help")
			}
			if p := renderedContrast(w); len(p) > 0 {
				t.Errorf("elder=%v, %s:\n  %s", elder, bar.HelpState(), strings.Join(p, "\n  "))
			}
			w.Close()
		}
	}
}

// errSending stands for "no answer yet" in TestHelpLineReadable.
var errSending = errors.New("still sending")
