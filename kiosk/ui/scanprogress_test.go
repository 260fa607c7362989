package ui_test

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

func scanBars(o fyne.CanvasObject) []*widget.ProgressBar { return uitest.All[*widget.ProgressBar](o) }

// TestScanProgressBar: the materials card of a page being scanned shows a
// bar that SetScanProgress moves (clamped to [0,1]) and that survives a
// redraw; it goes with the answer, and a late report after that draws
// nothing and does not leak into the next scan.
func TestScanProgressBar(t *testing.T) {
	for _, elder := range []bool{false, true} {
		h := newHarness(t, i18n.ZhCN, elder)
		var scan flow.ScanPage
		h.Effects = func(e flow.Effect) []flow.Event {
			if s, ok := e.(flow.ScanPage); ok {
				scan = s // held: the scan stays outstanding
			}
			return nil
		}
		for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{},
			flow.CardRead{Identity: uitest.Fictional()}} {
			h.Dispatch(e)
		}
		uitest.PassEligibility(h)
		for _, e := range []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"},
			flow.SetField{Name: "address", Value: "东莞市示例镇演示路100号"},
			flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}} {
			h.Dispatch(e)
		}
		if h.Machine.State().Step != flow.StepMaterials {
			t.Fatalf("at %s, want materials", h.Machine.State().Step)
		}
		if n := len(scanBars(h.Win.Content())); n != 0 {
			t.Fatalf("elder=%v: %d bars before scanning", elder, n)
		}
		h.Kiosk.SetScanProgress(0.5) // not scanning: ignored
		h.Dispatch(flow.Scan{MaterialID: "photo"})
		bars := scanBars(h.Win.Content())
		if len(bars) != 1 || bars[0].Value != 0 {
			t.Fatalf("elder=%v: scanning shows %d bars (want one at 0)", elder, len(bars))
		}
		for _, c := range []struct{ in, want float64 }{{0.25, 0.25}, {0.6, 0.6}, {-1, 0}, {7, 1}} {
			h.Kiosk.SetScanProgress(c.in)
			if v, shown := h.Kiosk.ScanProgress(); !shown || v != c.want || bars[0].Value != c.want {
				t.Errorf("elder=%v: SetScanProgress(%v): view %v shown=%v, bar %v; want %v", elder, c.in, v, shown, bars[0].Value, c.want)
			}
		}
		h.Kiosk.SetScanProgress(0.7)
		h.Kiosk.Refresh() // a redraw (language switch, countdown) keeps the value
		if bars = scanBars(h.Win.Content()); len(bars) != 1 || bars[0].Value != 0.7 {
			t.Errorf("elder=%v: after a redraw: %d bars", elder, len(bars))
		} else if elder {
			uitest.WalkAll(bars[0], func(o fyne.CanvasObject) bool {
				if tx, ok := o.(*canvas.Text); ok && tx.Text != "" && tx.TextSize < ui.ElderMinText {
					t.Errorf("bar text %q at %.0f dp in elder mode", tx.Text, tx.TextSize)
				}
				return true
			})
		}
		h.Dispatch(flow.ScanDone{MaterialID: scan.MaterialID, Page: scan.Page, Seq: scan.Seq, Ref: "p1", BlankScore: 0.1, BlurScore: 0.1})
		if n := len(scanBars(h.Win.Content())); n != 0 {
			t.Errorf("elder=%v: %d bars after the page arrived", elder, n)
		}
		h.Kiosk.SetScanProgress(0.9) // late report of the finished scan
		if _, shown := h.Kiosk.ScanProgress(); shown {
			t.Errorf("elder=%v: a late report drew a bar", elder)
		}
		h.Dispatch(flow.Scan{MaterialID: "photo", Retake: true})
		if bars = scanBars(h.Win.Content()); len(bars) != 1 || bars[0].Value != 0 {
			t.Errorf("elder=%v: the next scan shows %d bars, want one at 0; state %s", elder, len(bars), h.Machine)
		}
	}
}
