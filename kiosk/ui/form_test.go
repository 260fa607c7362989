package ui_test

import (
	"fmt"
	"testing"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// shownFields are the names of the form fields on the page on screen.
func shownFields(h *uitest.Harness) map[string]*ui.Field {
	out := map[string]*ui.Field{}
	for _, f := range uitest.Fields(h.Win.Content()) {
		out[f.Name] = f
	}
	return out
}

// TestFormErrorShowsFirstWrongField: in every mode, at every window size,
// when "next" finds wrong fields the page holding the first of them is
// shown, whatever page the resident was on, with the keypad writing into
// it; and on entering the form the field the keypad writes into is on
// screen.
func TestFormErrorShowsFirstWrongField(t *testing.T) {
	for _, size := range tourSizes() {
		for _, m := range modes {
			t.Run(fmt.Sprintf("%.0fx%.0f/%s/elder=%v", size.Width, size.Height, m.lang, m.elder), func(t *testing.T) {
				h := newHarness(t, m.lang, m.elder)
				h.SetSize(size)
				for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{},
					flow.CardRead{Identity: uitest.Fictional()}} {
					h.Dispatch(e)
				}
				uitest.PassEligibility(h)
				if st := h.Machine.State(); st.Step != flow.StepForm {
					t.Fatalf("at %v", st.Step)
				}
				// The keypad's field is on screen from the start.
				f, ok := shownFields(h)["phone"]
				if !ok || !f.Active {
					t.Fatalf("entering the form: the phone field (where the keypad writes) is not on screen: %v", keys(shownFields(h)))
				}
				// A wrong phone number and a wrong date; the resident is
				// on the last page (the date's) when tapping next.
				h.Dispatch(flow.SetField{Name: "phone", Value: "1380013"})
				h.Dispatch(flow.SetField{Name: "address", Value: "东莞市示例镇演示路1号"})
				h.Dispatch(flow.SetField{Name: "move_in", Value: "2025"})
				lists := uitest.PagedLists(h.Win.Content())
				if len(lists) == 0 {
					t.Fatal("no paged list on the form")
				}
				for l := lists[0]; l.Page() < l.Pages()-1; l = uitest.PagedLists(h.Win.Content())[0] {
					h.R.TapButton(l.NextButton())
				}
				h.Dispatch(flow.Next{})
				st := h.Machine.State()
				if st.Step != flow.StepForm || st.Error.IsZero() {
					t.Fatalf("wrong fields passed: %v %v", st.Step, st.Error)
				}
				f, ok = shownFields(h)["phone"]
				if !ok {
					t.Fatalf("after the error the first wrong field (phone) is not on screen: %v", keys(shownFields(h)))
				}
				if !f.Invalid || !f.Active {
					t.Errorf("phone shown but invalid=%v active=%v", f.Invalid, f.Active)
				}
				// Corrected, the next error brings the date's page.
				h.Dispatch(flow.SetField{Name: "phone", Value: "13800138000"})
				h.Dispatch(flow.Next{})
				if f, ok := shownFields(h)["move_in"]; !ok || !f.Invalid {
					t.Fatalf("after the second error the wrong date is not on screen: %v", keys(shownFields(h)))
				}
			})
		}
	}
}

func keys(m map[string]*ui.Field) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestMaterialsShowFirstToProvide: in elder mode (one material a page) the
// materials screen opens on the first material still to provide, not on
// the ID card that needs nothing.
func TestMaterialsShowFirstToProvide(t *testing.T) {
	h := newHarness(t, "zh-CN", true)
	for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{},
		flow.CardRead{Identity: uitest.Fictional()}} {
		h.Dispatch(e)
	}
	uitest.PassEligibility(h)
	for _, e := range []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "address", Value: "东莞市示例镇演示路1号"},
		flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}} {
		h.Dispatch(e)
	}
	if st := h.Machine.State(); st.Step != flow.StepMaterials {
		t.Fatalf("at %v", st.Step)
	}
	if uitest.FindButton(h.Win.Content(), h.Tr.T("btn.scan")) == nil {
		t.Fatalf("the materials screen opens without a material to scan on screen:\n%s", uitest.Joined(h.Win.Content()))
	}
}
