package ui_test

import (
	"strings"
	"testing"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// TestTypedIDCannotSubmit: the identify screen offers no box for a typed ID
// number, and a number typed on a keyboard anyway never starts an
// application: only a card read does (人证合一).
func TestTypedIDCannotSubmit(t *testing.T) {
	h := newHarness(t, i18n.ZhCN, false)
	for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{}} {
		h.Dispatch(e)
	}
	if n := len(uitest.Fields(h.Win.Content())); n != 0 {
		t.Fatalf("identify shows %d input boxes; a typed number must not identify", n)
	}
	h.Dispatch(flow.EnterIDNumber{Number: uitest.Fictional().IDNumber})
	if !strings.Contains(uitest.Joined(h.Win.Content()), h.Tr.T("err.card_required")) {
		t.Fatal("a typed number is not answered with the card-required message")
	}
	for _, e := range []flow.Event{flow.Next{}, flow.NoticeShown{}, flow.SetConsent{Agreed: true}, flow.Submit{}} {
		h.Dispatch(e)
	}
	for _, fx := range h.Seen {
		if _, ok := fx.(flow.SubmitApplication); ok {
			t.Fatal("a typed ID number reached Submit")
		}
	}
	if st := h.Machine.State(); st.Step != flow.StepIdentify || st.Applicant != nil {
		t.Fatalf("at %v with applicant %+v", st.Step, st.Applicant)
	}
}

// scansClean answers every scan with a clean page, as the scanner does.
func scansClean(e flow.Effect) []flow.Event {
	if s, ok := e.(flow.ScanPage); ok {
		return []flow.Event{flow.ScanDone{MaterialID: s.MaterialID, Page: s.Page, Seq: s.Seq, Ref: "p", BlankScore: 0.1, BlurScore: 0.1}}
	}
	return nil
}

// toReview drives the residence permit to the review screen with the
// housing proof replaced by a promise.
func toReview(t *testing.T, h *uitest.Harness) {
	t.Helper()
	h.Effects = scansClean
	for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{}, flow.CardRead{Identity: uitest.Fictional()}} {
		h.Dispatch(e)
	}
	uitest.PassEligibility(h)
	for _, e := range []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "address", Value: "东莞市示例镇演示路1号"},
		flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}, flow.Scan{MaterialID: "photo"},
		flow.UsePromise{MaterialID: "housing"}} {
		h.Dispatch(e)
	}
	mat := h.Catalog.Items[5].Materials[2]
	promise := h.Tr.Pick(mat.PromiseText, mat.PromiseTextEN)
	if !strings.Contains(uitest.JoinedAll(h.Win.Content()), promise) {
		t.Fatal("the promise text is not shown in full before it is accepted")
	}
	for uitest.FindButton(h.Win.Content(), h.Tr.T("btn.accept_promise")) == nil {
		if err := h.R.Tap(h.Tr.T("btn.next_page")); err != nil {
			t.Fatalf("no accept button on any page: %v", err)
		}
	}
	if err := h.R.Tap(h.Tr.T("btn.accept_promise")); err != nil {
		t.Fatal(err)
	}
	h.Dispatch(flow.Next{})
	if st := h.Machine.State(); st.Step != flow.StepReview {
		t.Fatalf("at %v (%v), want review", st.Step, st.Error)
	}
}

// TestConsentAfterWholeNotice: in every mode the consent box stays disabled
// until the last page of the notice has been on screen; paging to it
// enables it. Then the promise is printed on the receipt, and the thank-you
// screen waits for the card to be taken.
func TestConsentAfterWholeNotice(t *testing.T) {
	for _, lang := range []string{i18n.ZhCN, i18n.EN} {
		for _, elder := range []bool{false, true} {
			h := newHarness(t, lang, elder)
			toReview(t, h)
			consent := h.Tr.T("review.consent")
			pages := 0
			for !h.Machine.State().NoticeShown {
				if b := uitest.FindButtonContaining(h.Win.Content(), consent); b != nil {
					t.Fatalf("%s elder=%v: consent enabled before the notice was read", lang, elder)
				}
				if err := h.R.Tap(h.Tr.T("btn.next_page")); err != nil {
					t.Fatalf("%s elder=%v: notice not finished and no next page: %v", lang, elder, err)
				}
				pages++
			}
			if elder && pages == 0 {
				t.Errorf("elder mode: the notice fitted on the first page; the check proved nothing")
			}
			if err := h.R.TapContaining(consent); err != nil {
				t.Fatal(err)
			}
			h.Dispatch(flow.Submit{})
			h.Dispatch(flow.SubmitDone{ReceiptNo: "DG0001-20260310-0001", AcceptedAt: h.Clock.Now()})
			var printed flow.Receipt
			for _, fx := range h.Seen {
				if p, ok := fx.(flow.PrintReceipt); ok {
					printed = p.Receipt
				}
			}
			var promise string
			for _, m := range printed.Materials {
				promise += m.Promise
			}
			if !strings.Contains(promise, "本人承诺") {
				t.Fatalf("the promise is not on the receipt: %+v", printed.Materials)
			}
			h.Dispatch(flow.PrintDone{})
			h.Dispatch(flow.Next{})
			h.Dispatch(flow.SkipRating{})
			if !strings.Contains(uitest.Joined(h.Win.Content()), h.Tr.T("thanks.take")) {
				t.Fatal("no 请取走身份证和回执 after the application")
			}
			h.Tick(5)
			if st := h.Machine.State(); st.Step != flow.StepThanks {
				t.Fatalf("left the thank-you screen with the card still in: %v", st.Step)
			}
			h.Dispatch(flow.CardRemoved{})
			if st := h.Machine.State(); st.Step != flow.StepHome {
				t.Fatalf("card taken, at %v", st.Step)
			}
		}
	}
}

// TestReviewMasksTypedIDNumbers: an ID number typed into the form (the
// spouse's, for a birth registration) is masked on the review screen, as
// the applicant's is; it was shown whole there. An optional field left
// empty says so.
func TestReviewMasksTypedIDNumbers(t *testing.T) {
	const spouseID = "441900198802031238"
	for _, lang := range []string{i18n.ZhCN, i18n.EN} {
		h := newHarness(t, lang, false)
		h.Effects = scansClean
		for _, e := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "fm-birth-reg"}, flow.Next{}, flow.CardRead{Identity: uitest.Fictional()}} {
			h.Dispatch(e)
		}
		uitest.PassEligibility(h)
		for _, e := range []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "spouse_name", Value: "李明"},
			flow.SetField{Name: "spouse_id", Value: spouseID}, flow.Next{}, flow.Scan{MaterialID: "marriage"}, flow.Next{}} {
			h.Dispatch(e)
		}
		if st := h.Machine.State(); st.Step != flow.StepReview {
			t.Fatalf("%s: at %v (%v), want review", lang, st.Step, st.Error)
		}
		shown := uitest.JoinedAll(h.Win.Content())
		if strings.Contains(shown, spouseID) {
			t.Errorf("%s: the typed spouse ID number is on the review screen whole:\n%s", lang, shown)
		}
		if !strings.Contains(shown, spouseID[:4]) || !strings.Contains(shown, spouseID[14:]) {
			t.Errorf("%s: the masked spouse ID (first 4, last 4) is not on the review screen:\n%s", lang, shown)
		}
		// The expected date was left empty (optional): said so, not a bare label.
		if !strings.Contains(shown, h.Tr.T("review.not_filled")) {
			t.Errorf("%s: the empty optional field is not marked as not filled in:\n%s", lang, shown)
		}
	}
}
