package ui_test

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// keyboard types s the way the desktop driver delivers a USB keyboard's or
// keyboard-wedge scanner's characters: each to whatever has the canvas
// focus at that moment. A character with no focused object goes nowhere,
// which fails the test.
func keyboard(t *testing.T, c fyne.Canvas, s string) {
	t.Helper()
	for _, r := range s {
		f := c.Focused()
		if f == nil {
			t.Fatalf("typed %q with nothing focused: it went nowhere", r)
		}
		f.TypedRune(r)
	}
}

// TestHardwareKeyboardKeepsFocusAcrossRedraws: a resident types on a USB
// keyboard (or scans with a keyboard-wedge scanner) into a field, the
// screen redraws, and the next characters still land in the field on
// screen, also when the on-screen keypad was used in between.
func TestHardwareKeyboardKeepsFocusAcrossRedraws(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h *uitest.Harness)
		field string // form field name; "" for the screen's only field
		// value reads what the kiosk holds for the field.
		value func(h *uitest.Harness) string
	}{
		{"agent's principal", func(t *testing.T, h *uitest.Harness) {
			h.Dispatch(flow.Start{})
			h.Dispatch(flow.SelectItem{ItemID: "ed-senior-allowance"})
			h.Dispatch(flow.Next{})
			h.Dispatch(flow.SetAgentMode{On: true})
			h.Dispatch(flow.CardRead{Identity: uitest.Fictional()})
		}, "principal_id", nil},
		{"form", func(t *testing.T, h *uitest.Harness) {
			h.Dispatch(flow.Start{})
			h.Dispatch(flow.SelectItem{ItemID: "hh-residence-permit"})
			h.Dispatch(flow.Next{})
			h.Dispatch(flow.CardRead{Identity: uitest.Fictional()})
			uitest.PassEligibility(h)
		}, "phone", func(h *uitest.Harness) string {
			for _, f := range h.Machine.State().Fields {
				if f.Field.Name == "phone" {
					return f.Value
				}
			}
			return ""
		}},
		{"lookup", func(t *testing.T, h *uitest.Harness) { h.Dispatch(flow.OpenLookup{}) }, "", nil},
		{"catalog search", func(t *testing.T, h *uitest.Harness) {
			h.Dispatch(flow.Start{})
			test.Tap(uitest.Fields(h.Win.Content())[0]) // opens the keypad
			if err := h.R.Tap(h.Tr.T("kb.latin")); err != nil {
				t.Fatal(err)
			}
		}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, i18n.ZhCN, false)
			tc.setup(t, h)
			c := h.Win.Canvas()
			c.Focus(shownField(t, h, tc.field)) // the resident taps the box
			keyboard(t, c, "13")
			h.Kiosk.Refresh() // e.g. the language switch or a device event
			keyboard(t, c, "8")
			// The on-screen keypad writes into the field on screen…
			if err := h.R.Type("0"); err != nil {
				t.Fatal(err)
			}
			// …and the keyboard must continue from there.
			keyboard(t, c, "01")
			h.Kiosk.Refresh()
			keyboard(t, c, "38")
			const want = "13800138"
			f := shownField(t, h, tc.field)
			if f.Value != want {
				t.Errorf("field on screen shows %q, want %q", f.Value, want)
			}
			if c.Focused() != fyne.Focusable(f) {
				t.Errorf("focus is on %v, not on the field on screen", c.Focused())
			}
			if tc.value != nil {
				if v := tc.value(h); v != want {
					t.Errorf("flow holds %q, want %q", v, want)
				}
			}
		})
	}
}

// TestFocusLeavesWithTheField: once the screen has no input box, the
// keyboard no longer types into a field that is gone (it would still take
// characters, unseen).
func TestFocusLeavesWithTheField(t *testing.T) {
	h := newHarness(t, i18n.ZhCN, false)
	h.Dispatch(flow.OpenLookup{})
	c := h.Win.Canvas()
	keyboard(t, c, "DG")
	h.Dispatch(flow.Back{}) // Home: no field
	if f := c.Focused(); f != nil {
		t.Fatalf("focus stays on %v after the field left the screen", f)
	}
}

// TestEnterSubmits: a keyboard-wedge scanner or a USB keyboard ends input
// with Enter, which does what the screen's button beside the field does.
func TestEnterSubmits(t *testing.T) {
	enter := func(c fyne.Canvas) { c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }
	// (Identify has no number to enter: a typed ID number never starts an
	// application; see TestTypedIDCannotSubmit.)
	t.Run("lookup", func(t *testing.T) {
		h := newHarness(t, i18n.ZhCN, false)
		h.Dispatch(flow.OpenLookup{})
		c := h.Win.Canvas()
		keyboard(t, c, "K01-20261125-0001")
		enter(c)
		// A scanned number comes without the lookup code printed under
		// it: Enter asks for the code and the keyboard types into its box.
		if st := h.Machine.State(); st.Lookup.Pending || st.Error.Key != "err.lookup_code_invalid" {
			t.Fatalf("Enter without a lookup code: pending=%v error %q", st.Lookup.Pending, st.Error.Key)
		}
		keyboard(t, c, "7k3qd-m9xta")
		enter(c)
		if l := h.Machine.State().Lookup; !l.Pending && !l.Done {
			t.Fatalf("after Enter no lookup started: %+v", l)
		}
	})
	t.Run("catalog search", func(t *testing.T) {
		h := newHarness(t, i18n.ZhCN, false)
		h.Dispatch(flow.Start{})
		all := len(h.Machine.State().Items)
		test.Tap(uitest.Fields(h.Win.Content())[0])
		c := h.Win.Canvas()
		c.Focus(uitest.Fields(h.Win.Content())[0])
		keyboard(t, c, "居住证")
		enter(c)
		if n := len(h.Machine.State().Items); n == 0 || n >= all {
			t.Fatalf("after Enter %d of %d items listed, want the search's", n, all)
		}
	})
}
