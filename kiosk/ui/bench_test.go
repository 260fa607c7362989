package ui_test

import (
	"testing"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// BenchmarkScreenChange measures drawing each screen of a session from its
// flow state: Render (building the widget tree and laying it out at
// 1280×800) and, separately, Render plus a software-painted frame of the
// whole window (Fyne's test driver; the kiosk paints with OpenGL, so the
// paint figure is an upper bound).
//
//	go test -tags no_emoji -run '^$' -bench ScreenChange -benchtime 20x ./kiosk/ui
func BenchmarkScreenChange(b *testing.B) {
	for _, mode := range []struct {
		name  string
		elder bool
	}{{"normal", false}, {"elder", true}} {
		h, err := uitest.NewHarness()
		if err != nil {
			b.Fatal(err)
		}
		if err := h.SetLang(i18n.ZhCN); err != nil {
			b.Fatal(err)
		}
		if mode.elder {
			h.Dispatch(flow.SetElderMode{On: true})
		}
		type shot struct {
			name  string
			state flow.State
		}
		var shots []shot
		if err := uitest.Tour(h, func(name string) error {
			shots = append(shots, shot{name, h.Kiosk.State()})
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		home := shots[0].state
		for _, s := range shots {
			b.Run(mode.name+"/"+s.name+"/render", func(b *testing.B) {
				for b.Loop() {
					h.Kiosk.Render(home)
					h.Kiosk.Render(s.state)
				}
			})
			b.Run(mode.name+"/"+s.name+"/render+paint", func(b *testing.B) {
				for b.Loop() {
					h.Kiosk.Render(home)
					h.Kiosk.Render(s.state)
					h.Win.Canvas().Capture()
				}
			})
		}
		h.Close()
	}
}
