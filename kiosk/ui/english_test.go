package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// catalogChinese lists the Chinese catalog texts that have an English
// version, which English mode must show instead.
func catalogChinese(c *catalog.Catalog) []string {
	var out []string
	add := func(zh, en string) {
		if strings.TrimSpace(zh) != "" && strings.TrimSpace(en) != "" {
			out = append(out, zh)
		}
	}
	for _, th := range c.Themes {
		add(th.Name, th.NameEN)
	}
	for _, it := range c.Items {
		add(it.Name, it.NameEN)
		add(it.Agency.Name, it.Agency.NameEN)
		for i, l := range it.AcceptConditions {
			if i < len(it.AcceptConditionsEN) {
				add(l, it.AcceptConditionsEN[i])
			}
		}
		for _, f := range it.Fees {
			add(f.Name, f.NameEN)
			add(f.Standard, f.StandardEN)
		}
		for _, p := range it.Places {
			add(p.Address, p.AddressEN)
			add(p.Window, p.WindowEN)
			add(p.Hours, p.HoursEN)
		}
		for _, m := range it.Materials {
			add(m.Name, m.NameEN)
			add(m.Condition, m.ConditionEN)
		}
		for _, f := range it.Form {
			add(f.Label, f.LabelEN)
			add(f.Hint, f.HintEN)
			for _, o := range f.Options {
				add(o.Label, o.LabelEN)
			}
		}
	}
	return out
}

// TestEnglishModeShowsCatalogEnglish: in English mode no catalog text that
// has an English version appears in Chinese, on the screens of a session
// and on every item's guide and form (all pages, hidden ones included).
func TestEnglishModeShowsCatalogEnglish(t *testing.T) {
	h := newHarness(t, i18n.EN, false)
	zh := catalogChinese(h.Catalog)
	if len(zh) < 50 {
		t.Fatalf("only %d Chinese texts with English in the sample catalog", len(zh))
	}
	check := func(screen string) error {
		var found []string
		for _, s := range uitest.TextsAll(h.Win.Content()) {
			for _, z := range zh {
				if strings.Contains(s, z) {
					found = append(found, fmt.Sprintf("%q in %q", z, s))
				}
			}
		}
		if len(found) > 0 {
			return fmt.Errorf("%s shows Chinese catalog text: %s", screen, strings.Join(found, "; "))
		}
		return nil
	}
	if err := uitest.Tour(h, check); err != nil {
		t.Error(err)
	}
	for _, it := range h.Catalog.Items {
		if it.Status != "active" {
			continue
		}
		h.Dispatch(flow.Start{})
		h.Dispatch(flow.SelectItem{ItemID: it.ID})
		if err := check(it.ID + " guide"); err != nil {
			t.Error(err)
		}
		// And the English is there: conditions, when a conditional
		// material is needed, fees, where and when.
		guide := uitest.JoinedAll(h.Win.Content())
		want := append([]string{it.Agency.NameEN}, it.AcceptConditionsEN...)
		for _, m := range it.Materials {
			want = append(want, m.ConditionEN)
		}
		for _, f := range it.Fees {
			want = append(want, f.NameEN+": "+f.StandardEN)
		}
		for _, p := range it.Places {
			want = append(want, p.AddressEN+", "+p.WindowEN, p.HoursEN)
		}
		for _, w := range want {
			if w != "" && !strings.Contains(guide, w) {
				t.Errorf("%s guide lacks %q", it.ID, w)
			}
		}
		if h.Machine.State().CanApply {
			h.Dispatch(flow.Next{})
			h.Dispatch(flow.CardRead{Identity: uitest.Fictional()})
			if err := check(it.ID + " form"); err != nil {
				t.Error(err)
			}
		}
		h.Dispatch(flow.Cancel{})
		if h.Machine.State().Confirm != flow.ConfirmNone {
			h.Dispatch(flow.ConfirmYes{})
		}
		if st := h.Machine.State().Step; st != flow.StepHome {
			t.Fatalf("%s: not back Home but at %s", it.ID, st)
		}
	}
}

// TestGuideMaterialNotesAreSentences: the notes after a material (an
// e-certificate may replace it, when it is needed) are sentences of their
// own in both languages; run together with spaces the English read "…can
// replace the paper When needed: …".
func TestGuideMaterialNotesAreSentences(t *testing.T) {
	tests := []struct {
		lang, want string
	}{
		{i18n.EN, "Copy). An e-certificate can replace the paper. When needed: "},
		{i18n.ZhCN, "复印件）。可用电子证照，免交纸质材料。需要提供的情形："},
	}
	for _, tc := range tests {
		h := newHarness(t, tc.lang, false)
		h.Dispatch(flow.Start{})
		h.Dispatch(flow.SelectItem{ItemID: "ss-pension-enrol"})
		if shown := uitest.JoinedAll(h.Win.Content()); !strings.Contains(shown, tc.want) {
			t.Errorf("%s guide lacks %q:\n%s", tc.lang, tc.want, shown)
		}
	}
}

// TestEnglishKeypadOpensOnLatin: a text field opens the keypad on ABC in
// English mode (someone reading English most likely types Latin letters)
// and on 拼音 in Chinese; the other layout stays a tap away.
func TestEnglishKeypadOpensOnLatin(t *testing.T) {
	for _, tc := range []struct {
		lang string
		want ui.KeypadKind
	}{{i18n.EN, ui.KeypadLatin}, {i18n.ZhCN, ui.KeypadPinyin}} {
		h := newHarness(t, tc.lang, false)
		for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "mi-resident-enrol"}, flow.Next{}, flow.CardRead{Identity: uitest.Fictional()}} {
			h.Dispatch(e)
		}
		uitest.PassEligibility(h)
		test.Tap(shownField(t, h, "address"))
		if k := h.Kiosk.Keypad().Kind(); k != tc.want {
			t.Errorf("%s: keypad opens on %v, want %v", tc.lang, k, tc.want)
		}
		other := "kb.pinyin"
		if tc.want == ui.KeypadPinyin {
			other = "kb.latin"
		}
		if uitest.FindButton(h.Win.Content(), h.Tr.T(other)) == nil {
			t.Errorf("%s: no %s tab on the keypad", tc.lang, other)
		}
	}
}
