package ui_test

import (
	"fmt"

	"fyne.io/fyne/v2"
	"strings"
	"testing"

	"onedoor/kiosk/ui/uitest"
)

// TestScreensFitWindow: on every screen of the tour, in every mode and at
// every supported window size, the screen's minimum size fits the window.
// The test driver lays content out at the window's size whatever it needs,
// but a real window grows to its content's minimum size (the demo's catalog
// screen pushed a 1280x800 window to 1389 wide), which puts the kiosk's
// right edge off a fixed-size screen.
func TestScreensFitWindow(t *testing.T) {
	for _, size := range tourSizes() {
		for _, m := range modes {
			t.Run(fmt.Sprintf("%.0fx%.0f/%s/elder=%v", size.Width, size.Height, m.lang, m.elder), func(t *testing.T) {
				h := newHarness(t, m.lang, m.elder)
				h.SetSize(size)
				var bad []string
				err := uitest.Tour(h, func(name string) error {
					ms := h.Kiosk.Object().MinSize()
					if ms.Width > size.Width+0.5 || ms.Height > size.Height+0.5 {
						bad = append(bad, fmt.Sprintf("%s needs %.0fx%.0f", name, ms.Width, ms.Height))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(bad) > 0 {
					t.Errorf("screens larger than the window:\n  %s", strings.Join(bad, "\n  "))
				}
			})
		}
	}
}

// tourSizes are the window sizes the tour matrices run at: all supported
// ones, or the default only under the race detector (raceBuild).
func tourSizes() []fyne.Size {
	if raceBuild {
		return uitest.Sizes()[:1]
	}
	return uitest.Sizes()
}
