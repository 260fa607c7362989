package ui_test

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// TestCatalogSearchByPinyin taps through the catalog search the way a
// resident does: open the box, type jzz on the keypad, tap Search, and find
// 居住证申领. On the pinyin keypad the letters are still in its buffer when
// Search is tapped; they must reach the query, not be dropped.
func TestCatalogSearchByPinyin(t *testing.T) {
	tests := []struct {
		name  string
		latin bool
		typed string
	}{
		{"pinyin keypad, initials", false, "jzz"},
		{"pinyin keypad, full pinyin", false, "juzhu"},
		{"latin keypad, initials", true, "jzz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, i18n.ZhCN, false)
			zh := func(key string) string { return h.Tr.In(i18n.ZhCN, key) }
			if err := h.R.Tap(zh("btn.start")); err != nil {
				t.Fatal(err)
			}
			fields := uitest.Fields(h.Win.Content())
			if len(fields) != 1 {
				t.Fatalf("%d fields on the catalog screen", len(fields))
			}
			test.Tap(fields[0])
			if tc.latin {
				if err := h.R.Tap(zh("kb.latin")); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.R.Type(tc.typed); err != nil {
				t.Fatal(err)
			}
			if err := h.R.Tap(zh("btn.search")); err != nil {
				t.Fatal(err)
			}
			st := h.Kiosk.State()
			if st.Query != tc.typed {
				t.Errorf("query %q, want %q", st.Query, tc.typed)
			}
			var ids []string
			for _, it := range st.Items {
				ids = append(ids, it.ID)
			}
			if !slices.Contains(ids, "hh-residence-permit") {
				t.Fatalf("search %q lists %v, not the residence permit", tc.typed, ids)
			}
			if b := uitest.FindButtonContaining(h.Win.Content(), "居住证申领"); b == nil {
				t.Fatalf("居住证申领 not on screen:\n%s", uitest.Joined(h.Win.Content()))
			}
			if st.Step != flow.StepCatalog {
				t.Errorf("at %s", st.Step)
			}
		})
	}
}

// shownField is the field of that name on screen ("" for the only one).
func shownField(t *testing.T, h *uitest.Harness, name string) *ui.Field {
	t.Helper()
	for _, f := range uitest.Fields(h.Win.Content()) {
		if name == "" || f.Name == name {
			return f
		}
	}
	t.Fatalf("no field %q on screen", name)
	return nil
}

// situationField opens the temporary relief form in Chinese and taps its
// free-text field, which offers the pinyin keypad.
func situationField(t *testing.T) *uitest.Harness {
	t.Helper()
	h := newHarness(t, i18n.ZhCN, false)
	h.Dispatch(flow.Start{})
	h.Dispatch(flow.SelectItem{ItemID: "ca-temp-relief"})
	h.Dispatch(flow.Next{})
	h.Dispatch(flow.CardRead{Identity: uitest.Fictional()})
	test.Tap(shownField(t, h, "situation"))
	return h
}

// TestPinyinSurvivesRedraws: every key tap redraws the screen (it restarts
// the idle timer through the flow), so the keypad of the next drawing must
// carry on with the letters typed so far and with the layout chosen.
func TestPinyinSurvivesRedraws(t *testing.T) {
	h := situationField(t)
	if err := h.R.Type("huo"); err != nil {
		t.Fatal(err)
	}
	if b := h.Kiosk.Keypad().Buffer(); b != "huo" {
		t.Fatalf("pinyin buffer %q after typing huo, want huo", b)
	}
	first := string(h.Kiosk.Keypad().Candidates()[0])
	if err := h.R.Tap(first); err != nil {
		t.Fatal(err)
	}
	if err := h.R.Tap(h.Tr.T("kb.latin")); err != nil {
		t.Fatal(err)
	}
	if err := h.R.Type("a1"); err != nil {
		t.Fatal(err)
	}
	if k := h.Kiosk.Keypad().Kind(); k != ui.KeypadLatin {
		t.Errorf("keypad kind %v after choosing Latin and typing", k)
	}
	if v := shownField(t, h, "situation").Value; v != first+"a1" {
		t.Errorf("field shows %q, want %s", v, first+"a1")
	}
}

// TestPinyinTwoCharacters types a two-character name the way a resident
// does: li, tap 李, ming, tap 明. Choosing a character redraws the screen
// (the field changed), so the next drawing's keypad must not take over the
// letters already turned into 李; it did, and the resident was left with
// "liming", which matches no syllable and offers no characters.
func TestPinyinTwoCharacters(t *testing.T) {
	h := situationField(t)
	want := ""
	for _, syllable := range []string{"li", "ming"} {
		if err := h.R.Type(syllable); err != nil {
			t.Fatal(err)
		}
		if b := h.Kiosk.Keypad().Buffer(); b != syllable {
			t.Fatalf("pinyin buffer %q after typing %s", b, syllable)
		}
		cands := h.Kiosk.Keypad().Candidates()
		if len(cands) == 0 {
			t.Fatalf("no candidates for %s", syllable)
		}
		if err := h.R.Tap(string(cands[0])); err != nil {
			t.Fatal(err)
		}
		want += string(cands[0])
		if b := h.Kiosk.Keypad().Buffer(); b != "" {
			t.Fatalf("pinyin buffer %q after choosing %c", b, cands[0])
		}
	}
	if v := shownField(t, h, "situation").Value; v != want {
		t.Errorf("field shows %q, want %q", v, want)
	}
}
