package ui_test

import (
	"strings"
	"testing"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
	"onedoor/pii"
)

// TestCardOnHomeOpensLookup is the tap-through of a card placed on Home:
// the lookup by card opens and shows the resident's applications, and
// Back returns to a Home that shows nothing of them.
func TestCardOnHomeOpensLookup(t *testing.T) {
	h := newHarness(t, i18n.ZhCN, false)
	zh := func(key string, args ...any) string { return h.Tr.In(i18n.ZhCN, key, args...) }
	who := uitest.Fictional()
	h.Effects = func(e flow.Effect) []flow.Event {
		if q, ok := e.(flow.LookupProgress); ok && q.IDNumber == who.IDNumber {
			return []flow.Event{flow.LookupDone{Seq: q.Seq, Results: []flow.LookupResult{
				{ReceiptNo: "DG0001-20260301-0012", ItemID: "hh-residence-permit", Status: "in_review"}}}}
		}
		return nil
	}
	if !strings.Contains(uitest.Joined(h.Win.Content()), zh("home.card_hint")) {
		t.Error("Home does not say that a card opens the lookup")
	}
	h.Dispatch(flow.CardRead{Identity: who}) // as kiosk/app does when the reader reads a card
	if st := h.Kiosk.State().Step; st != flow.StepLookup {
		t.Fatalf("card on Home: at %s, want lookup", st)
	}
	screen := uitest.Joined(h.Win.Content())
	for _, want := range []string{zh("lookup.by_id", pii.MaskID(who.IDNumber)), "DG0001-20260301-0012", "居住证申领", zh("status.in_review")} {
		if !strings.Contains(screen, want) {
			t.Errorf("lookup screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, who.IDNumber) {
		t.Error("the full ID number is on screen")
	}
	if err := h.R.Tap(zh("btn.back")); err != nil {
		t.Fatal(err)
	}
	if st := h.Kiosk.State().Step; st != flow.StepHome {
		t.Fatalf("after Back: at %s", st)
	}
	home := uitest.JoinedAll(h.Win.Content())
	for _, gone := range []string{pii.MaskID(who.IDNumber), "DG0001-20260301-0012"} {
		if strings.Contains(home, gone) {
			t.Errorf("Home still shows %q", gone)
		}
	}
}
