package ui_test

import (
	"fyne.io/fyne/v2"

	"onedoor/kiosk/ui/uitest"
)

// Whether every tour screen fits the window (its minimum size within it) is
// checked on TestEveryScreenListReachesItsEnd's tour, in every mode at every
// size tourSizes gives.

// tourSizes are the window sizes the tour matrices run at: all supported
// ones, or the default only under the race detector (raceBuild).
func tourSizes() []fyne.Size {
	if raceBuild {
		return uitest.Sizes()[:1]
	}
	return uitest.Sizes()
}
