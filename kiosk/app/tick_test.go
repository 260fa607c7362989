package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// TestTickKeepsWidgets: an idle tick that changes nothing on screen leaves
// the widgets in place (a redraw would replace the key under a resident's
// finger and lose the tap); one that brings the countdown redraws.
func TestTickKeepsWidgets(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	clock := uitest.NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	a, err := New(Deps{Catalog: cat, Tr: i18n.New(), Store: gatedStore{newGate()}, Post: (&queue{}).post, Now: clock.Now, TickEvery: -1, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewWindow(a.View().Object())
	defer w.Close()
	a.Dispatch(flow.Start{})
	page := func() fyne.CanvasObject { return a.View().Object().(*fyne.Container).Objects[1] }
	before := page()
	a.Dispatch(flow.Tick{Now: clock.Advance(time.Second)})
	if page() != before {
		t.Error("a tick that changed nothing redrew the screen")
	}
	a.Dispatch(flow.Tick{Now: clock.Advance(flow.DefaultIdleTimeout - 5*time.Second)})
	if a.View().State().Countdown == 0 || page() == before {
		t.Error("the countdown tick did not redraw")
	}
}
