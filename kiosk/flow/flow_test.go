package flow

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/kiosk/catalog"
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

// TestTypedNumberNeverApplies: 人证合一 — a typed ID number, valid or not,
// never identifies an applicant; only a card read does.
func TestTypedNumberNeverApplies(t *testing.T) {
	good := validID("441900", time.Date(1992, 3, 4, 0, 0, 0, 0, time.UTC), 77)
	for _, in := range []string{good, "12345", ""} {
		m, _ := newTestMachine(t)
		st, fx := run(m, Start{}, SelectItem{ItemID: "fm-birth-reg"}, Next{}, EnterIDNumber{Number: in}, Next{})
		if st.Step != StepIdentify || st.Applicant != nil || st.HasPersonalData {
			t.Fatalf("typed %q: step %v applicant %+v", in, st.Step, st.Applicant)
		}
		if _, ok := findEffect[SubmitApplication](fx); ok {
			t.Fatal("a typed number reached Submit")
		}
	}
}

// TestAgentPath: 代办 where the item allows it — the agent's card, the
// principal typed, both in the application and on the receipt; nothing
// typed is locked or labelled as from the card.
func TestAgentPath(t *testing.T) {
	m, _ := newTestMachine(t)
	principal := validID("441900", time.Date(1940, 5, 6, 0, 0, 0, 0, time.UTC), 12)
	st, _ := run(m, Start{}, SelectItem{ItemID: "hh-residence-permit"}, Next{}, SetAgentMode{On: true})
	if st.AgentMode || st.Error.Key != "err.agent_not_allowed" {
		t.Fatalf("代办 on an item that does not allow it: %+v %v", st.AgentMode, st.Error)
	}
	m, _ = newTestMachine(t)
	st, _ = run(m, Start{}, SelectItem{ItemID: "ed-senior-allowance"}, Next{}, SetAgentMode{On: true},
		EnterPrincipal{Name: "李老伯", IDNumber: principal})
	if st.Error.Key != "err.agent_card_first" || st.Applicant != nil {
		t.Fatalf("principal before the agent's card: %v", st.Error)
	}
	st, _ = run(m, CardRead{Identity: card()}, EnterPrincipal{Name: "李老伯", IDNumber: principal[:17] + "0"})
	if st.Step != StepIdentify || !st.AgentRead {
		t.Fatalf("bad principal number accepted: %v %v", st.Step, st.Error)
	}
	st, _ = run(m, EnterPrincipal{Name: "李老伯", IDNumber: principal})
	if st.Step != StepForm || st.Applicant == nil || !st.Applicant.ByAgent || st.Applicant.FromCard {
		t.Fatalf("after principal: %v %+v", st.Step, st.Applicant)
	}
	for _, f := range st.Fields {
		if f.Locked {
			t.Errorf("field %s locked on the 代办 path (nothing of the principal came from a card)", f.Field.Name)
		}
	}
	st, fx := run(m, SetField{Name: "phone", Value: "13800000000"}, Next{}, Scan{MaterialID: "bankbook"})
	sc, _ := findEffect[ScanPage](fx)
	st, fx = run(m, ScanDone{MaterialID: "bankbook", Page: sc.Page, Seq: sc.Seq, Ref: "b1"}, Next{}, NoticeShown{}, SetConsent{Agreed: true}, Submit{})
	sub, ok := findEffect[SubmitApplication](fx)
	if !ok {
		t.Fatalf("no submit: %v %v", st.Step, st.Error)
	}
	a := sub.Application
	if a.Agent == nil || a.Agent.IDNumber != card().IDNumber || !a.Agent.FromCard || a.Applicant.IDNumber != principal || a.Applicant.Name != "李老伯" {
		t.Fatalf("application: applicant %+v agent %+v", a.Applicant, a.Agent)
	}
	st, _ = m.Handle(SubmitDone{ReceiptNo: "K01-20261125-0002"})
	if st.Receipt.AgentMaskedName != pii.MaskName(card().Name) || st.Receipt.MaskedName != pii.MaskName("李老伯") {
		t.Errorf("receipt: %+v", st.Receipt)
	}
}

// TestEligibility: each rule kind stops an ineligible resident right after
// identity, naming the failing condition, before anything is typed; a
// condition the kiosk cannot check is confirmed.
func TestEligibility(t *testing.T) {
	// Birth dates move with the test clock (testdate), so "80 today" stays
	// 80 today whatever date the tests run at.
	at := func(region string, y, mo, d int, addr string) Identity {
		id := card()
		born := testdate.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		id.Birth = DateOf(born)
		id.IDNumber = validID(region, born, 31)
		id.Address = addr
		return id
	}
	dg, sz := "广东省东莞市示例镇示例路8号", "广东省深圳市南山区示例路8号"
	tests := []struct {
		name, item string
		id         Identity
		problem    CardProblem
		failing    catalog.RuleKind // "" when eligible
	}{
		{"80 today is old enough", "ed-senior-allowance", at("441900", 1946, 11, 25, dg), "", ""},
		{"80 tomorrow is not", "ed-senior-allowance", at("441900", 1946, 11, 26, dg), "", catalog.RuleMinAge},
		{"hukou elsewhere", "ed-senior-allowance", at("440305", 1930, 1, 1, sz), "", catalog.RuleHukou},
		{"residence permit for a local", "hh-residence-permit", at("441900", 1990, 1, 1, dg), "", catalog.RuleHukou},
		{"residence permit for a newcomer", "hh-residence-permit", at("440305", 1990, 1, 1, sz), "", ""},
		{"too young for the pension", "ss-pension-enrol", at("441900", 2011, 1, 1, dg), "", catalog.RuleMinAge},
		{"card valid long term", "ed-disability-subsidy", func() Identity { i := card(); i.LongTerm = true; return i }(), "", ""},
		{"card validity ended", "ed-disability-subsidy", func() Identity {
			i := card()
			i.ValidTo = DateOf(testdate.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
			return i
		}(), "", catalog.RuleCardValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newRulesMachine(t)
			st, _ := run(m, Start{}, SelectItem{ItemID: tc.item}, Next{}, CardRead{Identity: tc.id, Problem: tc.problem})
			if tc.failing == "" {
				if st.Ineligible {
					t.Fatalf("eligible resident stopped: %+v", st.Eligibility)
				}
				for i, r := range st.Eligibility {
					if r.Outcome == RuleConfirm {
						st, _ = m.Handle(ConfirmCondition{Index: i, Yes: true})
					}
				}
				if st.Step == StepEligibility {
					st, _ = m.Handle(Next{})
				}
				if st.Step != StepForm {
					t.Fatalf("eligible resident at %v (%v)", st.Step, st.Error)
				}
				return
			}
			if st.Step != StepEligibility || !st.Ineligible {
				t.Fatalf("ineligible resident at %v", st.Step)
			}
			named := false
			for _, r := range st.Eligibility {
				if r.Outcome == RuleFailed {
					named = named || r.Rule.Kind == tc.failing
					if r.Rule.Text == "" {
						t.Error("failing rule without its text")
					}
				}
			}
			if !named {
				t.Fatalf("failing %s not named: %+v", tc.failing, st.Eligibility)
			}
			st, _ = m.Handle(Next{})
			if st.Step != StepEligibility || st.Error.Key != "err.ineligible" {
				t.Fatalf("went on past a failed rule: %v %v", st.Step, st.Error)
			}
			for _, f := range st.Fields {
				if f.Value != "" && !f.Locked {
					t.Errorf("something typed before eligibility: %s", f.Field.Name)
				}
			}
		})
	}
	// A condition the kiosk cannot check must be confirmed.
	m, _ := newRulesMachine(t)
	st, _ := run(m, Start{}, SelectItem{ItemID: "ed-senior-allowance"}, Next{}, CardRead{Identity: at("441900", 1930, 1, 1, dg)}, Next{})
	if st.Step != StepEligibility || st.Error.Key != "err.confirm_conditions" {
		t.Fatalf("unconfirmed condition passed: %v %v", st.Step, st.Error)
	}
}

func TestFormValidation(t *testing.T) {
	tests := []struct {
		field, value string
		wantErr      string
		wantValue    string
	}{
		{"phone", "13812345678", "", "13812345678"},
		{"phone", " 13812345678 ", "", "13812345678"},
		{"phone", "1381234567", "err.phone_invalid", ""},
		{"phone", "23812345678", "err.phone_invalid", ""},
		{"phone", "12812345678", "err.phone_invalid", ""},
		{"phone", "1381234567a", "err.phone_invalid", ""},
		{"phone", "", "err.field_required", ""},
		{"spouse_name", "", "err.field_required", ""},
		{"spouse_name", strings.Repeat("王", 31), "err.field_too_long", ""},
		{"spouse_name", "王芳", "", "王芳"},
		{"spouse_id", "440000000000000000", "err.id_invalid", ""},
		{"spouse_id", strings.ToLower(validID("441900", time.Date(1991, 5, 6, 0, 0, 0, 0, time.UTC), 0)), "", validID("441900", time.Date(1991, 5, 6, 0, 0, 0, 0, time.UTC), 0)},
		{"expected", "", "", ""}, // optional
		{"expected", "20270315", "", "2027-03-15"},
		{"expected", "2027-02-30", "err.date_invalid", ""},
		{"expected", "明年三月", "err.date_invalid", ""},
	}
	for _, tc := range tests {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			m, _ := newTestMachine(t)
			run(m, Start{}, SelectItem{ItemID: "fm-birth-reg"}, Next{}, CardRead{Identity: card()},
				SetField{Name: "phone", Value: "13900000000"},
				SetField{Name: "spouse_name", Value: "李四"},
				SetField{Name: "spouse_id", Value: validID("441900", time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC), 2)})
			st, _ := run(m, SetField{Name: tc.field, Value: tc.value}, Next{})
			f, _ := fieldValue(st, tc.field)
			if f.Error.Key != tc.wantErr {
				t.Fatalf("error %q, want %q", f.Error.Key, tc.wantErr)
			}
			if tc.wantErr == "" {
				if st.Step != StepMaterials {
					t.Fatalf("valid form not accepted: %v %v", st.Step, st.Error)
				}
				if f.Value != tc.wantValue {
					t.Errorf("normalised value %q, want %q", f.Value, tc.wantValue)
				}
			} else if st.Step != StepForm || st.Error.Key != "err.form_incomplete" {
				t.Errorf("invalid form passed: %v %v", st.Step, st.Error)
			}
		})
	}
}

func TestFormSelectNumberAndLocked(t *testing.T) {
	m, _ := newTestMachine(t)
	st, _ := run(m, Start{}, SelectItem{ItemID: "ca-dibao"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "name", Value: "别人"})
	if f, _ := fieldValue(st, "name"); f.Value != "陈小明" || f.Error.Key != "err.field_locked" {
		t.Errorf("locked field changed: %+v", f)
	}
	st, _ = run(m, SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "members", Value: "3人"}, Next{})
	if f, _ := fieldValue(st, "members"); f.Error.Key != "err.number_invalid" {
		t.Errorf("members error %q", f.Error.Key)
	}
	st, _ = run(m, SetField{Name: "nope", Value: "x"})
	if st.Error.Key != "err.unknown_field" {
		t.Errorf("unknown field error %q", st.Error.Key)
	}
	m2, _ := newTestMachine(t)
	st, _ = run(m2, Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "grade", Value: "999"}, Next{})
	if f, _ := fieldValue(st, "grade"); f.Error.Key != "err.option_invalid" {
		t.Errorf("select error %q", f.Error.Key)
	}
}

// toMaterials brings a residence-permit application to the Materials step.
func toMaterials(t *testing.T) (*Machine, *fakeClock) {
	t.Helper()
	m, clk := newTestMachine(t)
	st, _ := run(m, Start{}, SelectItem{ItemID: "hh-residence-permit"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "move_in", Value: "20250101"}, Next{})
	if st.Step != StepMaterials {
		t.Fatalf("setup: step %v %v", st.Step, st.Error)
	}
	return m, clk
}

func TestMaterials(t *testing.T) {
	type check func(t *testing.T, st State, fx []Effect)
	errIs := func(mat, key string) check {
		return func(t *testing.T, st State, _ []Effect) {
			if ms, _ := materialState(st, mat); ms.Error.Key != key {
				t.Errorf("%s error %q, want %q", mat, ms.Error.Key, key)
			}
		}
	}
	pages := func(mat string, refs ...string) check {
		return func(t *testing.T, st State, _ []Effect) {
			ms, _ := materialState(st, mat)
			var got []string
			for _, p := range ms.Pages {
				got = append(got, p.Ref)
			}
			if !slices.Equal(got, refs) {
				t.Errorf("%s pages %v, want %v", mat, got, refs)
			}
		}
	}
	discarded := func(refs ...string) check {
		return func(t *testing.T, _ State, fx []Effect) {
			var got []string
			for _, e := range fx {
				if d, ok := e.(DiscardScans); ok {
					got = append(got, d.Refs...)
				}
			}
			if !slices.Equal(got, refs) {
				t.Errorf("discarded %v, want %v", got, refs)
			}
		}
	}
	step := func(want Step, errKey string) check {
		return func(t *testing.T, st State, _ []Effect) {
			if st.Step != want || st.Error.Key != errKey {
				t.Errorf("step %v error %q, want %v %q", st.Step, st.Error.Key, want, errKey)
			}
		}
	}
	tests := []struct {
		name   string
		events []Event
		checks []check
	}{
		{"scan asks the scanner",
			[]Event{Scan{MaterialID: "photo"}},
			[]check{func(t *testing.T, st State, fx []Effect) {
				sp, ok := findEffect[ScanPage](fx)
				if !ok || sp != (ScanPage{MaterialID: "photo", Page: 0, Seq: 1}) {
					t.Errorf("effect %+v", fx)
				}
				if ms, _ := materialState(st, "photo"); !ms.Scanning {
					t.Error("not marked scanning")
				}
			}}},
		{"good page kept",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1", BlankScore: 0.1, BlurScore: 0.1}},
			[]check{pages("photo", "p1"), errIs("photo", ""), discarded()}},
		{"blank page rejected and deleted",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1", BlankScore: 0.99}},
			[]check{pages("photo"), errIs("photo", "err.page_blank"), discarded("p1")}},
		{"blurred page rejected and deleted",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1", BlurScore: 0.8}},
			[]check{pages("photo"), errIs("photo", "err.page_blurred"), discarded("p1")}},
		{"no paper",
			[]Event{Scan{MaterialID: "photo"}, ScanFailed{MaterialID: "photo", NoPaper: true}},
			[]check{pages("photo"), errIs("photo", "err.scan_no_paper")}},
		{"scanner error",
			[]Event{Scan{MaterialID: "photo"}, ScanFailed{MaterialID: "photo", Reason: "jam"}},
			[]check{errIs("photo", "err.scan_failed")}},
		{"page limit",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1"}, Scan{MaterialID: "photo"}},
			[]check{pages("photo", "p1"), errIs("photo", "err.too_many_pages")}},
		{"retake replaces the page",
			[]Event{Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Ref: "h1"},
				Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Page: 1, Ref: "h2"},
				Scan{MaterialID: "housing", Retake: true, Page: 0}, ScanDone{MaterialID: "housing", Page: 0, Ref: "h3"}},
			[]check{pages("housing", "h3", "h2"), discarded("h1")}},
		{"remove page",
			[]Event{Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Ref: "h1"},
				Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Page: 1, Ref: "h2"},
				RemovePage{MaterialID: "housing", Page: 0}},
			[]check{pages("housing", "h2"), discarded("h1")}},
		{"result for a material not being scanned is discarded",
			[]Event{ScanDone{MaterialID: "housing", Ref: "stray"}},
			[]check{pages("housing"), discarded("stray")}},
		{"result for another page is discarded",
			[]Event{Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Page: 3, Ref: "late"}},
			[]check{pages("housing"), discarded("late"), func(t *testing.T, st State, _ []Effect) {
				if ms, _ := materialState(st, "housing"); !ms.Scanning {
					t.Error("the outstanding scan was forgotten")
				}
			}}},
		{"page index of a new scan does not overwrite",
			[]Event{Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Ref: "h1"},
				Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Page: 0, Ref: "h2"}},
			[]check{pages("housing", "h1"), discarded("h2")}},
		{"promise where allowed drops pages",
			[]Event{Scan{MaterialID: "housing"}, ScanDone{MaterialID: "housing", Ref: "h1"}, UsePromise{MaterialID: "housing"}, AcceptPromise{MaterialID: "housing"}},
			[]check{pages("housing"), discarded("h1"), func(t *testing.T, st State, _ []Effect) {
				if ms, _ := materialState(st, "housing"); ms.How != ProvidedPromise || !ms.Satisfied() {
					t.Errorf("housing %+v", ms.How)
				}
			}}},
		{"promise where not allowed",
			[]Event{UsePromise{MaterialID: "photo"}},
			[]check{errIs("photo", "err.promise_not_allowed")}},
		{"e-certificate where not allowed",
			[]Event{UseECert{MaterialID: "photo"}},
			[]check{errIs("photo", "err.ecert_not_allowed")}},
		{"next with missing materials",
			[]Event{Next{}},
			[]check{step(StepMaterials, "err.materials_incomplete"), errIs("photo", "err.material_missing"), errIs("housing", "err.material_missing"),
				func(t *testing.T, st State, _ []Effect) {
					if len(st.Error.Args) != 1 || st.Error.Args[0] != 2 {
						t.Errorf("args %v, want [2]", st.Error.Args)
					}
				}}},
		{"next when complete",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1"}, UsePromise{MaterialID: "housing"}, AcceptPromise{MaterialID: "housing"}, Next{}},
			[]check{step(StepReview, "")}},
		{"back keeps materials",
			[]Event{Scan{MaterialID: "photo"}, ScanDone{MaterialID: "photo", Ref: "p1"}, Back{}, Next{}},
			[]check{step(StepMaterials, ""), pages("photo", "p1")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := toMaterials(t)
			var st State
			var fx []Effect
			for _, ev := range tc.events {
				var f []Effect
				st, f = m.Handle(ev)
				fx = append(fx, f...)
			}
			for _, c := range tc.checks {
				c(t, st, fx)
			}
		})
	}
}

// TestScanOfEndedSessionNeverReachesTheNext: a page being scanned when a
// session ends belongs to that resident; it must not be taken for the next
// resident's page, whether or not the app echoes ScanPage.Seq.
func TestScanOfEndedSessionNeverReachesTheNext(t *testing.T) {
	for _, echo := range []bool{false, true} {
		name := "without Seq"
		if echo {
			name = "with Seq"
		}
		t.Run(name, func(t *testing.T) {
			m, _ := toMaterials(t)
			_, fx := run(m, Scan{MaterialID: "photo"}, Cancel{}, ConfirmYes{})
			old, _ := findEffect[ScanPage](fx)
			// The next resident gets to the same material and scans.
			st, fx := run(m, Start{}, SelectItem{ItemID: "hh-residence-permit"}, Next{}, CardRead{Identity: card()},
				SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "move_in", Value: "20250101"}, Next{},
				Scan{MaterialID: "photo"})
			cur, _ := findEffect[ScanPage](fx)
			if st.Step != StepMaterials || cur.Seq == old.Seq {
				t.Fatalf("setup: %v seq %d/%d", st.Step, old.Seq, cur.Seq)
			}
			late := ScanDone{MaterialID: "photo", Page: 0, Ref: "previous-resident"}
			mine := ScanDone{MaterialID: "photo", Page: 0, Ref: "mine"}
			if echo {
				late.Seq, mine.Seq = old.Seq, cur.Seq
			}
			st, fx = m.Handle(late)
			if d, ok := findEffect[DiscardScans](fx); !ok || d.Refs[0] != "previous-resident" {
				t.Fatalf("late page not discarded: %v", fx)
			}
			if ms, _ := materialState(st, "photo"); len(ms.Pages) != 0 || !ms.Scanning {
				t.Fatalf("late page taken: %+v", ms.Pages)
			}
			st, _ = m.Handle(mine)
			if ms, _ := materialState(st, "photo"); len(ms.Pages) != 1 || ms.Pages[0].Ref != "mine" {
				t.Fatalf("own page not taken: %+v", ms.Pages)
			}
		})
	}
}

func TestECertMaterial(t *testing.T) {
	m, _ := newTestMachine(t)
	_, fx := run(m, Start{}, SelectItem{ItemID: "fm-birth-reg"}, Next{}, CardRead{Identity: card()})
	q, ok := findEffect[QueryECerts](fx)
	if !ok || q.IDNumber != card().IDNumber || q.ItemID != "fm-birth-reg" {
		t.Fatalf("no e-certificate query after the card read: %+v", fx)
	}
	m.Handle(ECertsFound{Seq: q.Seq, Offers: []ECertOffer{{MaterialID: "marriage", Number: "JH-0001", NumberMasked: "JH-**01"}}})
	st, _ := run(m,
		SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "spouse_name", Value: "李四"},
		SetField{Name: "spouse_id", Value: validID("441900", time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC), 2)},
		Next{}, UseECert{MaterialID: "marriage"}, Next{}, NoticeShown{}, SetConsent{Agreed: true})
	if st.Step != StepReview {
		t.Fatalf("step %v %v", st.Step, st.Error)
	}
	_, fx = m.Handle(Submit{})
	sub, ok := findEffect[SubmitApplication](fx)
	if !ok {
		t.Fatal("no submission")
	}
	var how []Provision
	for _, ms := range sub.Application.Materials {
		how = append(how, ms.How)
		if ms.How == ProvidedECert && ms.CertNumber != "JH-0001" {
			t.Errorf("e-certificate material names %q", ms.CertNumber)
		}
	}
	if !slices.Equal(how, []Provision{ProvidedShared, ProvidedECert}) {
		t.Errorf("provisions %v", how)
	}
}

func TestGuideOnlyItem(t *testing.T) {
	m, _ := newTestMachine(t)
	st, _ := run(m, Start{}, SelectItem{ItemID: "hh-household-proof"})
	if st.CanApply {
		t.Fatal("guide-only item offered for application")
	}
	st, _ = m.Handle(Next{})
	if st.Step != StepGuide || st.Error.Key != "err.not_at_kiosk" {
		t.Errorf("step %v err %q", st.Step, st.Error.Key)
	}
	st, _ = run(m, Back{})
	if st.Step != StepCatalog || st.Item != nil {
		t.Errorf("back from guide: %v", st.Step)
	}
}

func TestCatalogBrowsing(t *testing.T) {
	m, _ := newTestMachine(t)
	st, _ := run(m, Start{}, ChooseTheme{Theme: "family"})
	if len(st.Items) == 0 {
		t.Fatal("no family items")
	}
	for _, it := range st.Items {
		if !slices.Contains(it.Themes, "family") {
			t.Errorf("%s listed under family", it.ID)
		}
	}
	st, _ = run(m, ChooseTheme{Theme: "nope"})
	if st.Error.Key != "err.unknown_theme" {
		t.Errorf("unknown theme err %q", st.Error.Key)
	}
	st, _ = run(m, SearchCatalog{Query: "医保"})
	if st.Theme != "" || len(st.Items) == 0 || st.Error.Key != "" {
		t.Errorf("search: theme %q, %d items, err %q", st.Theme, len(st.Items), st.Error.Key)
	}
	st, _ = run(m, SelectItem{ItemID: "nope"})
	if st.Step != StepCatalog || st.Error.Key != "err.unknown_item" {
		t.Errorf("unknown item: %v %q", st.Step, st.Error.Key)
	}
	st, _ = run(m, Back{})
	if st.Step != StepHome || st.Query != "" {
		t.Errorf("back to home: %v %q", st.Step, st.Query)
	}
}

func TestIdleTimeout(t *testing.T) {
	tests := []struct {
		name      string
		elder     bool
		steps     []time.Duration // advances, each followed by a Tick
		wantStep  Step
		wantCount int
	}{
		{"quiet at 44 s", false, []time.Duration{44 * time.Second}, StepForm, 0},
		{"countdown at 45 s", false, []time.Duration{45 * time.Second}, StepForm, 15},
		{"countdown rounds up", false, []time.Duration{50*time.Second + 500*time.Millisecond}, StepForm, 10},
		{"timeout at 60 s", false, []time.Duration{30 * time.Second, 30 * time.Second}, StepHome, 0},
		{"elder quiet at 100 s", true, []time.Duration{100 * time.Second}, StepForm, 0},
		{"elder countdown at 110 s", true, []time.Duration{110 * time.Second}, StepForm, 10},
		{"elder timeout at 120 s", true, []time.Duration{120 * time.Second}, StepHome, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, clk := newTestMachine(t)
			st, _ := run(m, SetElderMode{On: tc.elder}, Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()})
			var fx []Effect
			for _, d := range tc.steps {
				st, fx = m.Handle(clk.advance(d))
			}
			if st.Step != tc.wantStep || st.Countdown != tc.wantCount {
				t.Fatalf("step %v countdown %d, want %v %d", st.Step, st.Countdown, tc.wantStep, tc.wantCount)
			}
			if tc.wantStep == StepHome {
				if e, ok := findEffect[SessionEnded](fx); !ok || e.Reason != EndTimeout {
					t.Errorf("no timeout end: %v", fx)
				}
				if st.HasPersonalData || st.ElderMode {
					t.Error("timeout left personal data or elder mode")
				}
			}
		})
	}
}

func TestElderDefault(t *testing.T) {
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	m := New(sampleCatalog(t), Options{Now: clk.now, ElderDefault: true})
	if !m.State().ElderMode {
		t.Fatal("first session not in elder mode")
	}
	// A resident switches to standard mode; their session then times out
	// after the standard 60 s, and the next one starts in elder mode again.
	run(m, SetElderMode{On: false}, Start{})
	st, fx := m.Handle(clk.advance(60 * time.Second))
	if _, ok := findEffect[SessionEnded](fx); !ok || st.Step != StepHome || !st.ElderMode {
		t.Fatalf("after timeout: step %v elder %t", st.Step, st.ElderMode)
	}
}

func TestContinueResetsCountdown(t *testing.T) {
	m, clk := newTestMachine(t)
	run(m, Start{})
	st, fx := m.Handle(clk.advance(50 * time.Second))
	if st.Countdown != 10 {
		t.Fatalf("countdown %d", st.Countdown)
	}
	if b, ok := findEffect[Beep](fx); !ok || b.Kind != BeepWarn {
		t.Error("no warning beep when the countdown starts")
	}
	st, _ = m.Handle(Continue{})
	if st.Countdown != 0 {
		t.Fatalf("continue left countdown %d", st.Countdown)
	}
	st, _ = m.Handle(clk.advance(50 * time.Second))
	if st.Step != StepCatalog || st.Countdown != 10 {
		t.Fatalf("after continue: %v %d", st.Step, st.Countdown)
	}
	st, _ = m.Handle(clk.advance(10 * time.Second))
	if st.Step != StepHome {
		t.Fatalf("no timeout: %v", st.Step)
	}
	// A pristine Home never times out.
	_, fx = m.Handle(clk.advance(time.Hour))
	if len(fx) != 0 {
		t.Errorf("pristine home produced %v", fx)
	}
}

func TestDeviceResultsDoNotHoldOffTimeout(t *testing.T) {
	m, clk := newTestMachine(t)
	run(m, Start{}, OpenLookup{})
	run(m, Back{}, OpenLookup{}, EnterReceiptNo{Number: "K01-20261125-0001", Code: "7K3QD-M9XTA"})
	st, _ := m.Handle(clk.advance(50 * time.Second))
	if st.Countdown != 10 {
		t.Fatalf("countdown %d", st.Countdown)
	}
	st, _ = m.Handle(LookupDone{Results: []LookupResult{{ReceiptNo: "K01-20261125-0001", Status: "sent"}}})
	if st.Countdown != 10 || !st.Lookup.Done {
		t.Fatalf("a lookup answer reset the countdown: %d", st.Countdown)
	}
	st, fx := m.Handle(clk.advance(10 * time.Second))
	if _, ok := findEffect[SessionEnded](fx); !ok || st.Step != StepHome {
		t.Errorf("abandoned lookup did not time out: %v", st.Step)
	}
}

func TestCancelAndBackConfirmation(t *testing.T) {
	tests := []struct {
		name        string
		events      []Event
		wantStep    Step
		wantConfirm Confirm
		wantEnd     bool
	}{
		{"cancel without data ends at once", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Cancel{}}, StepHome, ConfirmNone, true},
		{"cancel with data asks", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Cancel{}}, StepForm, ConfirmCancel, false},
		{"confirmed cancel ends", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Cancel{}, ConfirmYes{}}, StepHome, ConfirmNone, true},
		{"declined cancel keeps", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Cancel{}, ConfirmNo{}}, StepForm, ConfirmNone, false},
		{"a stray tap dismisses without acting", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Cancel{}, Next{}}, StepForm, ConfirmNone, false},
		{"back from form asks", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Back{}}, StepForm, ConfirmDiscard, false},
		{"confirmed back discards applicant", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Back{}, ConfirmYes{}}, StepIdentify, ConfirmNone, false},
		{"back from identify", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, Back{}}, StepGuide, ConfirmNone, false},
		{"back from guide to home shortcut", []Event{SelectItem{ItemID: "ss-pension-enrol"}, Back{}}, StepHome, ConfirmNone, false},
		{"timeout during confirmation ends", []Event{Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, Cancel{}, Tick{Now: testdate.Date(2026, 11, 25, 10, 5, 0, 0, cst)}}, StepHome, ConfirmNone, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			st, fx := run(m, tc.events...)
			if st.Step != tc.wantStep || st.Confirm != tc.wantConfirm {
				t.Fatalf("step %v confirm %q, want %v %q", st.Step, st.Confirm, tc.wantStep, tc.wantConfirm)
			}
			_, ended := findEffect[SessionEnded](fx)
			if ended != tc.wantEnd {
				t.Errorf("session ended = %t, want %t", ended, tc.wantEnd)
			}
			if tc.wantStep == StepIdentify && st.Applicant != nil {
				t.Error("applicant kept after going back")
			}
		})
	}
}

// toReceipt completes the pension enrolment up to the printed receipt.
func toReceipt(t *testing.T) *Machine {
	t.Helper()
	m, _ := newTestMachine(t)
	st, _ := run(m, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "phone", Value: "13812345678"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "grade", Value: "180"}, Next{}, Next{},
		NoticeShown{}, SetConsent{Agreed: true}, Submit{}, SubmitDone{ReceiptNo: "K01-20261125-0001"})
	if st.Step != StepReceipt {
		t.Fatalf("setup: %v %v", st.Step, st.Error)
	}
	return m
}

func TestPaperOutKeepsReceiptOnScreen(t *testing.T) {
	m := toReceipt(t)
	st, fx := m.Handle(PrintFailed{PaperOut: true})
	if st.Step != StepReceipt || st.Receipt == nil || st.Receipt.Number != "K01-20261125-0001" || st.Receipt.QR == "" {
		t.Fatalf("receipt gone after paper out: %+v", st)
	}
	if !st.PaperOut || !st.CanReprint || st.Error.Key != "err.paper_out" || st.Busy {
		t.Errorf("paper-out state %+v", st)
	}
	if _, ok := findEffect[Beep](fx); !ok {
		t.Error("no beep on paper out")
	}
	st, _ = m.Handle(Next{}) // rating still possible, reprint still offered
	if st.Step != StepRating || !st.CanReprint {
		t.Fatalf("rating after paper out: %v %t", st.Step, st.CanReprint)
	}
	st, fx = m.Handle(Reprint{})
	if pr, ok := findEffect[PrintReceipt](fx); !ok || pr.Receipt.Number != "K01-20261125-0001" || !st.Busy {
		t.Fatalf("reprint: %v", fx)
	}
	if _, fx = m.Handle(Reprint{}); len(fx) != 0 {
		t.Error("second reprint while the first is printing")
	}
	st, _ = m.Handle(PrintDone{})
	if !st.Printed || st.PaperOut || st.CanReprint || st.Error.Key != "" {
		t.Errorf("after reprint: %+v", st)
	}
	st, _ = m.Handle(PrintFailed{})
	if st.Error.Key != "err.print_failed" {
		t.Errorf("print failure key %q", st.Error.Key)
	}
}

func TestSubmitFailedKeepsEverything(t *testing.T) {
	for _, diskFull := range []bool{false, true} {
		m, _ := newTestMachine(t)
		st, _ := run(m, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()},
			SetField{Name: "phone", Value: "13812345678"}, SetField{Name: "address", Value: "东莞市示例路1号"}, SetField{Name: "grade", Value: "180"}, Next{}, Next{},
			NoticeShown{}, SetConsent{Agreed: true}, Submit{}, SubmitFailed{DiskFull: diskFull})
		want := "err.submit_failed"
		if diskFull {
			want = "err.submit_disk_full"
		}
		if st.Step != StepReview || st.Error.Key != want || st.Busy || !st.Consent {
			t.Fatalf("diskFull=%t: %v %q", diskFull, st.Step, st.Error.Key)
		}
		if f, _ := fieldValue(st, "phone"); f.Value != "13812345678" {
			t.Error("phone lost after a failed submit")
		}
		_, fx := m.Handle(Submit{})
		if _, ok := findEffect[SubmitApplication](fx); !ok {
			t.Error("cannot retry the submission")
		}
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

func TestCardIgnoredOutsideIdentify(t *testing.T) {
	m, _ := newTestMachine(t)
	other := card()
	other.Name = "别人"
	other.IDNumber = validID("441900", time.Date(1970, 6, 1, 0, 0, 0, 0, time.UTC), 5)
	st, _ := run(m, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()}, CardRead{Identity: other})
	if st.Applicant.MaskedName != "陈*明" {
		t.Errorf("a second card replaced the applicant: %+v", st.Applicant)
	}
	st, _ = run(m, Back{}, ConfirmYes{}, CardRead{Identity: Identity{Name: "x", IDNumber: "123"}})
	if st.Step != StepIdentify || st.Error.Key != "err.card_not_supported" {
		t.Errorf("bad card data: %v %q", st.Step, st.Error.Key)
	}
}

func TestCardChecks(t *testing.T) {
	with := func(f func(*Identity)) Identity {
		id := card()
		f(&id)
		return id
	}
	tests := []struct {
		name     string
		id       Identity
		problem  CardProblem
		wantStep Step
		wantErr  string
	}{
		{"valid, long-term", with(func(id *Identity) { id.LongTerm = true }), CardOK, StepForm, ""},
		{"valid until next year", with(func(id *Identity) { id.ValidTo = DateOf(testdate.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) }), CardOK, StepForm, ""},
		// Expiry is the driver's verdict (idcard.ErrExpired), not the flow's.
		{"expired (the reader says)", card(), CardExpired, StepIdentify, "err.card_expired"},
		{"unreadable (the reader says)", card(), CardUnreadable, StepIdentify, "err.card_unreadable"},
		{"misread, no number", with(func(id *Identity) { id.IDNumber = "" }), CardOK, StepIdentify, "err.card_unreadable"},
		{"foreigner card, 15 characters", with(func(id *Identity) { id.IDNumber = "USA441900123456" }), CardOK, StepIdentify, "err.card_not_supported"},
		{"no Chinese name: typed in the form", with(func(id *Identity) { id.Name = "" }), CardOK, StepForm, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			st, _ := run(m, SelectItem{ItemID: "mi-resident-enrol"}, Next{}, CardRead{Identity: tc.id, Problem: tc.problem})
			if st.Step != tc.wantStep || st.Error.Key != tc.wantErr {
				t.Fatalf("step %v err %q, want %v %q", st.Step, st.Error.Key, tc.wantStep, tc.wantErr)
			}
			if tc.wantStep == StepForm && tc.id.Name == "" {
				if f, _ := fieldValue(st, "name"); f.Locked || f.Value != "" {
					t.Errorf("name field %+v, want empty and editable", f)
				}
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

func TestMasking(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"id", "44190019800101123X", "4419**********123X"},
		{"id", "1234", "****"},
		{"name", "陈小明", "陈*明"},
		{"name", "王芳", "王*"},
		{"name", "欧阳小华", "欧**华"},
		{"name", "", ""},
		{"phone", "13812345678", "138****5678"},
		{"phone", "123", "***"},
	}
	for _, tc := range tests {
		var got string
		switch tc.fn {
		case "id":
			got = pii.MaskID(tc.in)
		case "name":
			got = pii.MaskName(tc.in)
		case "phone":
			got = pii.MaskPhone(tc.in)
		}
		if got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
}

func TestValidateIDNumberKnownValues(t *testing.T) {
	now := testdate.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"11010519491231002X", true, "11010519491231002X"}, // the GB 11643 textbook example
		{"11010519491231002x", true, "11010519491231002X"},
		{"110105194912310021", false, ""},
		{"44052418800101001", false, ""},
		{"", false, ""},
	}
	for _, tc := range tests {
		got, err := ValidateIDNumber(tc.in, now)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ValidateIDNumber(%q) = %q, %v", tc.in, got, err)
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
