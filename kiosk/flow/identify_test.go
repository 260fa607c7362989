package flow

import (
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/kiosk/catalog"
	"onedoor/pii"
)

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
