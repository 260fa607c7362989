package flow

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/pii"
)

// TestCompleteApplication walks the most common item from Home to Home.
func TestCompleteApplication(t *testing.T) {
	m, clk := newTestMachine(t)
	id := card()

	st, _ := m.Handle(Touch{})
	if st.Step != StepHome || len(st.Popular) == 0 {
		t.Fatalf("home: step %v, %d popular", st.Step, len(st.Popular))
	}
	st, _ = m.Handle(SelectItem{ItemID: "ss-pension-enrol"})
	if st.Step != StepGuide || !st.CanApply || st.Progress != (Progress{1, 7}) {
		t.Fatalf("guide: %+v", st.Progress)
	}
	st, _ = m.Handle(Next{})
	if st.Step != StepIdentify {
		t.Fatalf("want identify, got %v", st.Step)
	}
	st, fx := m.Handle(CardRead{Identity: id})
	if st.Step != StepForm || st.Applicant == nil || st.Applicant.MaskedID != "4419**********123"+id.IDNumber[17:] {
		t.Fatalf("after card: step %v applicant %+v", st.Step, st.Applicant)
	}
	if _, ok := findEffect[Beep](fx); !ok {
		t.Error("no beep after a card read")
	}
	name, _ := fieldValue(st, "name")
	if name.Value != id.Name || !name.Locked {
		t.Errorf("name field %+v, want pre-filled and locked", name)
	}
	st, _ = m.Handle(Next{})
	if st.Step != StepForm || st.Error.Key != "err.form_incomplete" {
		t.Fatalf("empty phone accepted: %v %v", st.Step, st.Error)
	}
	phone, _ := fieldValue(st, "phone")
	if phone.Error.Key != "err.field_required" {
		t.Errorf("phone error %q", phone.Error.Key)
	}
	st, _ = run(m, SetField{Name: "phone", Value: "13812345678"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "grade", Value: "360"}, Next{})
	if st.Step != StepMaterials {
		t.Fatalf("want materials, got %v (%v)", st.Step, st.Error)
	}
	idm, _ := materialState(st, "id_card")
	if idm.How != ProvidedShared || !idm.Satisfied() {
		t.Errorf("ID card material %+v, want shared verification", idm.How)
	}
	st, _ = m.Handle(Next{})
	if st.Step != StepReview {
		t.Fatalf("want review, got %v (%v)", st.Step, st.Error)
	}
	st, _ = m.Handle(Submit{})
	if st.Step != StepReview || st.Error.Key != "err.consent_required" {
		t.Fatalf("submitted without consent: %v %v", st.Step, st.Error)
	}
	st, fx = run(m, NoticeShown{}, SetConsent{Agreed: true}, Submit{})
	sub, ok := findEffect[SubmitApplication](fx)
	if !ok || st.Step != StepSubmitting || !st.Busy || st.Progress.N != 5 {
		t.Fatalf("no submit: step %v effects %v", st.Step, fx)
	}
	app := sub.Application
	if app.Applicant.IDNumber != id.IDNumber || app.ItemCode == "" || app.ConsentAt.IsZero() {
		t.Errorf("application %+v", app)
	}
	if !slices.Contains(app.Fields, FieldValue{Name: "phone", Value: "13812345678"}) {
		t.Errorf("fields %v lack the phone", app.Fields)
	}
	// Cancel is refused while the outbox commits, and the clock is held.
	st, _ = run(m, Cancel{}, clk.advance(5*time.Minute))
	if st.Step != StepSubmitting || st.Confirm != ConfirmNone {
		t.Fatalf("cancel during submit: %v %v", st.Step, st.Confirm)
	}
	st, fx = m.Handle(SubmitDone{ReceiptNo: "K01-20261125-0007", AcceptedAt: clk.t})
	pr, ok := findEffect[PrintReceipt](fx)
	if !ok || st.Step != StepReceipt || st.Receipt == nil {
		t.Fatalf("no receipt: %v %v", st.Step, fx)
	}
	r := pr.Receipt
	if r.Number != "K01-20261125-0007" || r.MaskedName != "陈*明" || strings.Contains(r.MaskedID, id.IDNumber[4:14]) {
		t.Errorf("receipt %+v", r)
	}
	// Accepted Wednesday 2026-11-25, 5 working days: Wed 2 Dec. With the
	// test dates moved (testdate) into a year the bundled holiday calendar
	// does not cover, the kiosk promises no date rather than guess one.
	want := "2026-12-02"
	if testdate.ShiftDays() != 0 {
		want = time.Time{}.Format("2006-01-02")
	}
	if got := r.PromisedDate.Format("2006-01-02"); got != want {
		t.Errorf("promised date %s, want %s", got, want)
	}
	if r.QR != "https://platform.example/q/K01-20261125-0007" {
		t.Errorf("QR %q", r.QR)
	}
	st, _ = run(m, PrintDone{}, Next{})
	if st.Step != StepRating || !st.Printed {
		t.Fatalf("want rating after print, got %v", st.Step)
	}
	st, fx = run(m, Rate{Level: VerySatisfied}, SendRating{})
	rt, ok := findEffect[RecordRating](fx)
	if !ok || rt.Rating.Level != 5 || rt.Rating.ReceiptNo != "K01-20261125-0007" {
		t.Fatalf("rating effect %+v", rt)
	}
	end, ok := findEffect[SessionEnded](fx)
	if !ok || end.Reason != EndDone {
		t.Errorf("session end %+v", end)
	}
	if st.Step != StepThanks || st.HasPersonalData || st.Applicant != nil || st.Receipt != nil {
		t.Errorf("not wiped: %+v", st)
	}
	if st, _ = m.Handle(CardRemoved{}); st.Step != StepHome {
		t.Errorf("card taken, still at %v", st.Step)
	}
}

func TestRating(t *testing.T) {
	tests := []struct {
		name    string
		events  []Event
		wantErr string
		sent    bool
	}{
		{"no level", []Event{SendRating{}}, "err.rating_choose", false},
		{"out of range", []Event{Rate{Level: 6}}, "err.rating_choose", false},
		{"satisfied without reason", []Event{Rate{Level: Satisfied}, SendRating{}}, "", true},
		{"neutral without reason", []Event{Rate{Level: Neutral}, SendRating{}}, "", true},
		{"dissatisfied needs reason", []Event{Rate{Level: Dissatisfied}, SendRating{}}, "err.rating_reason_required", false},
		{"very dissatisfied needs reason", []Event{Rate{Level: VeryDissatisfied}, SetRatingReason{Reason: "  "}, SendRating{}}, "err.rating_reason_required", false},
		{"dissatisfied with reason", []Event{Rate{Level: Dissatisfied}, SetRatingReason{Reason: "rating.reason.slow"}, SendRating{}}, "", true},
		{"skip", []Event{SkipRating{}}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := toReceipt(t)
			run(m, PrintDone{}, Next{})
			st, fx := run(m, tc.events...)
			if st.Error.Key != tc.wantErr {
				t.Fatalf("error %q, want %q", st.Error.Key, tc.wantErr)
			}
			r, sent := findEffect[RecordRating](fx)
			if sent != tc.sent {
				t.Fatalf("sent = %t, want %t", sent, tc.sent)
			}
			if sent && (r.Rating.ReceiptNo != "K01-20261125-0001" || r.Rating.ItemCode == "") {
				t.Errorf("rating %+v", r.Rating)
			}
			// The card of the session is still on the reader: the thank-you
			// screen asks for it to be taken, then Home.
			if tc.wantErr == "" && st.Step != StepThanks {
				t.Errorf("no thank-you screen: %v", st.Step)
			}
			if tc.wantErr == "" {
				if st, _ = m.Handle(CardRemoved{}); st.Step != StepHome {
					t.Errorf("card removed, still at %v", st.Step)
				}
			}
		})
	}
	if got := len(RatingLevels()); got != 5 {
		t.Errorf("%d rating levels", got)
	}
}

func TestLookup(t *testing.T) {
	results := []LookupResult{{ReceiptNo: "K01-20261120-0003", ItemName: "生育登记", Status: "approved"}}
	tests := []struct {
		name     string
		events   []Event
		wantErr  string
		wantFx   *LookupProgress
		check    func(t *testing.T, st State)
		wantStep Step
	}{
		{"bad receipt number", []Event{OpenLookup{}, EnterReceiptNo{Number: "12", Code: "7K3QD-M9XTA"}}, "err.receipt_no_invalid", nil, nil, StepLookup},
		{"no lookup code", []Event{OpenLookup{}, EnterReceiptNo{Number: "K01-20261120-0003"}}, "err.lookup_code_invalid", nil, nil, StepLookup},
		{"short lookup code", []Event{OpenLookup{}, EnterReceiptNo{Number: "K01-20261120-0003", Code: "7K3QD"}}, "err.lookup_code_invalid", nil, nil, StepLookup},
		{"receipt number", []Event{OpenLookup{}, EnterReceiptNo{Number: " k01-20261120-0003 ", Code: "7K3QD-M9XTA"}}, "", &LookupProgress{ReceiptNo: "K01-20261120-0003", LookupCode: "7K3QDM9XTA", Seq: 1}, func(t *testing.T, st State) {
			if !st.Lookup.Pending || !st.Busy {
				t.Error("not pending")
			}
		}, StepLookup},
		{"by card", []Event{OpenLookup{}, CardRead{Identity: card()}}, "", &LookupProgress{IDNumber: card().IDNumber, Seq: 1}, func(t *testing.T, st State) {
			if st.Lookup.MaskedID != pii.MaskID(card().IDNumber) {
				t.Errorf("masked %q", st.Lookup.MaskedID)
			}
		}, StepLookup},
		{"results", []Event{OpenLookup{}, EnterReceiptNo{Number: "K01-20261120-0003", Code: "7K3QD-M9XTA"}, LookupDone{Results: results, Offline: true}}, "", nil, func(t *testing.T, st State) {
			if !st.Lookup.Done || !st.Lookup.Offline || len(st.Lookup.Results) != 1 || st.Busy {
				t.Errorf("lookup %+v", st.Lookup)
			}
			if StatusKey(st.Lookup.Results[0].Status) != "status.approved" {
				t.Error("status key")
			}
		}, StepLookup},
		{"nothing found", []Event{OpenLookup{}, EnterReceiptNo{Number: "K01-20261120-0003", Code: "7K3QD-M9XTA"}, LookupDone{}}, "err.lookup_none", nil, nil, StepLookup},
		{"failure", []Event{OpenLookup{}, EnterReceiptNo{Number: "K01-20261120-0003", Code: "7K3QD-M9XTA"}, LookupFailed{Reason: "offline"}}, "err.lookup_failed", nil, nil, StepLookup},
		{"unsolicited answer ignored", []Event{OpenLookup{}, LookupDone{Results: results}}, "", nil, func(t *testing.T, st State) {
			if len(st.Lookup.Results) != 0 {
				t.Error("unsolicited results shown")
			}
		}, StepLookup},
		{"back wipes", []Event{OpenLookup{}, CardRead{Identity: card()}, LookupDone{Results: results}, Back{}}, "", nil, func(t *testing.T, st State) {
			if st.HasPersonalData || st.Lookup.MaskedID != "" {
				t.Error("lookup data kept")
			}
		}, StepHome},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			st, fx := run(m, tc.events...)
			if st.Step != tc.wantStep || st.Error.Key != tc.wantErr {
				t.Fatalf("step %v err %q, want %v %q", st.Step, st.Error.Key, tc.wantStep, tc.wantErr)
			}
			if tc.wantFx != nil {
				got, ok := findEffect[LookupProgress](fx)
				if !ok || got != *tc.wantFx {
					t.Errorf("effect %+v, want %+v", got, *tc.wantFx)
				}
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

// TestLookupOfEndedSessionNeverShown: a lookup still running when its
// resident leaves must not answer the next resident's lookup.
func TestLookupOfEndedSessionNeverShown(t *testing.T) {
	for _, echo := range []bool{false, true} {
		t.Run(fmt.Sprintf("echo=%t", echo), func(t *testing.T) {
			m, _ := newTestMachine(t)
			_, fx := run(m, OpenLookup{}, CardRead{Identity: card()}, Cancel{}, ConfirmYes{})
			old, _ := findEffect[LookupProgress](fx)
			st, fx := run(m, OpenLookup{}, EnterReceiptNo{Number: "K01-20261125-0042", Code: "7K3QD-M9XTA"})
			cur, _ := findEffect[LookupProgress](fx)
			if !st.Lookup.Pending || cur.Seq == old.Seq {
				t.Fatalf("setup: %+v", st.Lookup)
			}
			theirs := LookupDone{Results: []LookupResult{{ReceiptNo: "K01-20261120-0001", ItemName: "最低生活保障申请", Status: "in_review"}}}
			mine := LookupDone{Results: []LookupResult{{ReceiptNo: "K01-20261125-0042", ItemName: "生育登记", Status: "sent"}}}
			if echo {
				theirs.Seq, mine.Seq = old.Seq, cur.Seq
			}
			st, _ = m.Handle(theirs)
			if len(st.Lookup.Results) != 0 || !st.Lookup.Pending {
				t.Fatalf("previous resident's applications shown: %+v", st.Lookup.Results)
			}
			st, _ = m.Handle(mine)
			if len(st.Lookup.Results) != 1 || st.Lookup.Results[0].ReceiptNo != "K01-20261125-0042" {
				t.Fatalf("own answer not shown: %+v", st.Lookup)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		step Step
		want Progress
	}{
		{StepHome, Progress{}}, {StepCatalog, Progress{}}, {StepGuide, Progress{1, 7}}, {StepIdentify, Progress{2, 7}},
		{StepForm, Progress{3, 7}}, {StepMaterials, Progress{4, 7}}, {StepReview, Progress{5, 7}},
		{StepSubmitting, Progress{5, 7}}, {StepReceipt, Progress{6, 7}}, {StepRating, Progress{7, 7}}, {StepLookup, Progress{}},
	}
	for _, tc := range tests {
		if got := progressOf(tc.step); got != tc.want {
			t.Errorf("progress(%v) = %v, want %v", tc.step, got, tc.want)
		}
		if tc.step.String() == "unknown" || tc.step.TitleKey() != "step."+tc.step.String() {
			t.Errorf("step %d has no name", tc.step)
		}
	}
}

// TestNoCountdownOnEmptyHome: on Home with nothing entered the idle warning
// ("your details will be cleared") is not shown; the session still ends at
// the limit, dropping the elder mode chosen.
func TestNoCountdownOnEmptyHome(t *testing.T) {
	m, clk := newTestMachine(t)
	run(m, Touch{}, SetElderMode{On: true})
	st, _ := m.Handle(clk.advance(DefaultElderIdleTimeout - 5*time.Second))
	if st.Countdown != 0 || st.Step != StepHome {
		t.Fatalf("countdown %d on an empty Home", st.Countdown)
	}
	st, _ = m.Handle(clk.advance(10 * time.Second))
	if st.ElderMode {
		t.Error("elder mode survived the idle limit on Home")
	}
}

// TestPromisedDateCountsFromLocalDay: the promised date counts working
// days from the day of acceptance in the kiosk's zone. Accepted at 19:00
// UTC on Tuesday 24 November, which is 03:00 on Wednesday the 25th in
// Dongguan, 5 working days end on Wednesday 2 December; counted from the
// UTC day they ended on Tuesday 1 December, and an instant item printed a
// promised date the day before its own acceptance time.
func TestPromisedDateCountsFromLocalDay(t *testing.T) {
	m, _ := newTestMachine(t)
	st, _ := run(m, Touch{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "phone", Value: "13812345678"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "grade", Value: "360"},
		Next{}, Next{}, NoticeShown{}, SetConsent{Agreed: true}, Submit{})
	if st.Step != StepSubmitting {
		t.Fatalf("at %v (%v), want submitting", st.Step, st.Error)
	}
	_, fx := m.Handle(SubmitDone{ReceiptNo: "K01-20261125-0001", AcceptedAt: testdate.Date(2026, 11, 24, 19, 0, 0, 0, time.UTC)})
	pr, ok := findEffect[PrintReceipt](fx)
	if !ok {
		t.Fatal("no receipt")
	}
	want := "2026-12-02"
	if testdate.ShiftDays() != 0 {
		want = time.Time{}.Format("2006-01-02") // a year the bundled calendar does not cover
	}
	if got := pr.Receipt.PromisedDate.Format("2006-01-02"); got != want {
		t.Errorf("promised date %s, want %s", got, want)
	}
}
