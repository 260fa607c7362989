package app

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/ui/uitest"
)

// progressBars lists the determinate progress bars in the window tree.
func progressBars(o fyne.CanvasObject) []*widget.ProgressBar {
	return uitest.All[*widget.ProgressBar](o)
}

// TestScanShowsProgress: while a page comes in from the simulated scanner
// on its pty, the materials screen shows a progress bar that advances
// through values between 0 and 1 and reaches 1 before the page is taken;
// then the bar goes. Every UI update is observed (the rig's queue looks at
// the screen after each posted function), so nothing depends on timing.
func TestScanShowsProgress(t *testing.T) {
	r := newRig(t)
	r.startResidencePermit("resident")
	if n := len(progressBars(r.win.Content())); n != 0 {
		t.Fatalf("%d progress bars before any scan", n)
	}

	var seen []float64 // distinct values the bar showed, in order
	r.q.after = func() {
		bars := progressBars(r.win.Content())
		if len(bars) > 1 {
			t.Errorf("%d scan progress bars on screen", len(bars))
		}
		if len(bars) == 1 {
			v := bars[0].Value
			if len(seen) == 0 || seen[len(seen)-1] != v {
				seen = append(seen, v)
			}
		}
	}
	r.scanMaterial("photo", "form", scanWait)
	r.q.after = nil

	t.Logf("the bar showed %d distinct values", len(seen))
	var between bool
	for i, v := range seen {
		if v > 0 && v < 1 {
			between = true
		}
		if i > 0 && v < seen[i-1] {
			t.Errorf("bar went back from %v to %v", seen[i-1], v)
		}
	}
	if !between {
		t.Errorf("the bar never showed a value between 0 and 1: %v", seen)
	}
	if len(seen) == 0 || seen[len(seen)-1] != 1 {
		t.Errorf("the bar did not end complete: %v", seen)
	}
	if n := len(progressBars(r.win.Content())); n != 0 {
		t.Errorf("%d progress bars left after the scan", n)
	}
	if _, shown := r.app.View().ScanProgress(); shown {
		t.Error("the view still reports a scan bar")
	}
}
