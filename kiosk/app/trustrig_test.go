package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/ui/uitest"
)

// outboxEmpty fails the test if the kiosk's real outbox holds any
// submission, or the app handed one to it.
func (r *rig) outboxEmpty(what string) {
	r.t.Helper()
	st, err := r.stack.Store.Stats(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, c := range st.Counts {
		n += c
	}
	r.stored.mu.Lock()
	handed := len(r.stored.subs)
	r.stored.mu.Unlock()
	if n != 0 || handed != 0 {
		r.t.Fatalf("%s: the outbox holds %d submissions (%d committed by the app)", what, n, handed)
	}
	if recs, err := r.stack.Store.LookupByID(r.t.Context(), residentID); err != nil || len(recs) != 0 {
		r.t.Fatalf("%s: outbox records for the typed number: %d (%v)", what, len(recs), err)
	}
}

// TestTypedIDNeverReachesOutbox: on the real flow with the real outbox, an
// ID number typed on a keyboard at the identify screen (which offers no box
// for it) and every forward event sent after it leave the kiosk on the
// identify screen with no applicant, and nothing reaches the outbox (人证合一).
func TestTypedIDNeverReachesOutbox(t *testing.T) {
	r := newRig(t)
	r.startPensionCert()
	r.waitStep(flow.StepIdentify)
	if n := len(uitest.Fields(r.win.Content())); n != 0 {
		t.Fatalf("identify shows %d input boxes; a typed number must not identify", n)
	}
	// A USB keyboard or keyboard-wedge scanner types into whatever has
	// the focus (nothing should have it here) or the canvas's own key
	// handler; then the number is handed to the flow as a typed one.
	c := r.win.Canvas()
	if f := c.Focused(); f != nil {
		test.Type(f, residentID)
		f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	if typed := c.OnTypedRune(); typed != nil {
		for _, ch := range residentID {
			typed(ch)
		}
	}
	if typed := c.OnTypedKey(); typed != nil {
		typed(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	r.q.drain()
	for _, ev := range []flow.Event{flow.EnterIDNumber{Number: residentID}, flow.Next{}, flow.NoticeShown{},
		flow.SetConsent{Agreed: true}, flow.Submit{}} {
		r.app.Dispatch(ev)
		r.q.drain()
	}
	if b := uitest.FindButton(r.win.Content(), "确认提交"); b != nil {
		t.Error("a submit button is on screen after a typed number")
	}
	if st := r.state(); st.Step != flow.StepIdentify || st.Applicant != nil {
		t.Fatalf("at %v with an applicant %v; want identify and none", st.Step, st.Applicant != nil)
	}
	// Anything the app started in the background has had time to land.
	r.settle("app idle", 5*time.Second, func() bool { return !r.app.Busy() })
	r.outboxEmpty("after a typed ID number")
}

// TestConsentWaitsForWholeNotice: on the real flow with the real outbox, in
// elder mode (where the personal-information notice takes several pages at
// the default window size), the consent box stays disabled, and consent and
// submit sent anyway commit nothing, until the notice's last page has been
// on screen; paging to it enables consent and the application goes through.
func TestConsentWaitsForWholeNotice(t *testing.T) {
	r := newRig(t)
	r.startPensionCert()
	r.placeCard("resident", flow.StepForm)
	r.typeKeys(phone)
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	// Elder mode on before the review is drawn, so the notice pages.
	r.app.Dispatch(flow.SetElderMode{On: true})
	r.q.drain()
	r.tap("下一步")
	r.waitStep(flow.StepReview)
	if !r.state().ElderMode {
		t.Fatal("elder mode not on")
	}
	const consent = "我已阅读"
	pages := 0
	for !r.state().NoticeShown {
		if b := uitest.FindButtonContaining(r.win.Content(), consent); b != nil {
			t.Fatalf("consent enabled on the notice's page %d, before its last", pages+1)
		}
		// Consent and submit sent anyway (a stale tap, a bug elsewhere).
		r.app.Dispatch(flow.SetConsent{Agreed: true})
		r.q.drain()
		r.app.Dispatch(flow.Submit{})
		r.q.drain()
		if st := r.state(); st.Step != flow.StepReview || st.Consent {
			t.Fatalf("consent taken before the whole notice was shown: at %v, consent %v", st.Step, st.Consent)
		}
		r.outboxEmpty("before the notice was read")
		lists := uitest.PagedLists(r.win.Content())
		if len(lists) == 0 {
			t.Fatal("no paged list on the review screen")
		}
		notice := lists[len(lists)-1]
		if notice.NextButton().Disabled {
			t.Fatalf("notice on its last page (%d of %d) but not marked shown", notice.Page()+1, notice.Pages())
		}
		r.res.TapButton(notice.NextButton())
		r.q.drain()
		if pages++; pages > 50 {
			t.Fatal("notice not shown after 50 pages")
		}
	}
	if pages == 0 {
		t.Fatal("the notice fitted on one page in elder mode; the check proved nothing")
	}
	r.tapContaining(consent)
	r.tap("确认提交")
	r.waitStep(flow.StepReceipt)
	if _, ok := r.stored.submission(r.state().Receipt.Number); !ok {
		t.Fatal("consent given after the whole notice, yet nothing committed")
	}
}

// TestPromisePrintedInFull: a material replaced by 告知承诺 on the real
// flow prints the whole promise text on the receipt, as the simulated
// printer's ESC/POS decoder reads it back.
func TestPromisePrintedInFull(t *testing.T) {
	r := newRig(t)
	var promise string
	for _, it := range r.cat.Items {
		if it.ID != "hh-residence-permit" {
			continue
		}
		for _, m := range it.Materials {
			if m.ID == "housing" {
				promise = m.PromiseText
			}
		}
	}
	if promise == "" {
		t.Fatal("the sample catalog's residence permit has no housing promise")
	}
	r.startResidencePermit("resident")
	r.scanMaterial("photo", "form", slow(scanWait))
	r.tap("书面承诺代替") // housing by written promise
	for uitest.FindButton(r.win.Content(), "我已阅读并承诺") == nil {
		r.tap("下一页") // the promise's whole text moved it to a later page
	}
	r.tap("我已阅读并承诺")
	no := r.submit()
	r.settle("receipt printed", 20*time.Second, func() bool { return r.state().Printed })
	page, ok := r.demo.LastReceipt()
	if !ok {
		t.Fatal("nothing printed")
	}
	// The receipt wraps lines at the paper's width.
	flat := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if !strings.Contains(page.Text, no) || !strings.Contains(flat(page.Text), flat(promise)) {
		t.Fatalf("the printed receipt lacks the receipt number or the whole promise %q:\n%s", promise, page.Text)
	}
}
