package flow

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"onedoor/pii"
)

// ecertPeople are two fictional residents whose cards the e-certificate
// tests read.
func ecertPeople() []Identity {
	a := card()
	b := card()
	b.Name, b.IDNumber = "王小红", validID("441900", time.Date(1975, 6, 1, 0, 0, 0, 0, time.UTC), 456)
	return []Identity{a, b}
}

// ecertToMaterials takes a machine from Home to the materials step of
// mi-resident-enrol (医保参保: its 居住证 may be an e-certificate) with the
// given card, and returns the e-certificate query it asked for.
func ecertToMaterials(t *testing.T, m *Machine, who Identity) (State, QueryECerts) {
	t.Helper()
	_, fx := run(m, Start{}, SelectItem{ItemID: "mi-resident-enrol"}, Next{}, CardRead{Identity: who})
	q, ok := findEffect[QueryECerts](fx)
	if !ok {
		t.Fatalf("no e-certificate query after the card read: %+v", fx)
	}
	st, _ := run(m, SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "address", Value: "示例路1号"}, Next{})
	if st.Step != StepMaterials {
		t.Fatalf("step %v %v", st.Step, st.Error)
	}
	return st, q
}

func permitOffer() ECertOffer {
	return ECertOffer{MaterialID: "residence_permit", Number: "JZZ-2026-0001", NumberMasked: "JZZ-****-0001", TypeName: "广东省居住证", Agency: "东莞市公安局", IssuedOn: "2026-11-20"}
}

func TestECertOffered(t *testing.T) {
	who := ecertPeople()[0]
	cases := []struct {
		name    string
		answer  func(q QueryECerts) Event
		status  ECertStatus
		useErr  string // the error of UseECert, "" when accepted
		wantNum string
	}{
		{"offered and used", func(q QueryECerts) Event { return ECertsFound{Seq: q.Seq, Offers: []ECertOffer{permitOffer()}} }, ECertReady, "", "JZZ-2026-0001"},
		{"none held", func(q QueryECerts) Event { return ECertsFound{Seq: q.Seq} }, ECertReady, "err.ecert_none", ""},
		{"offline", func(q QueryECerts) Event { return ECertsUnavailable{Seq: q.Seq, Offline: true} }, ECertOffline, "err.ecert_offline", ""},
		{"refused", func(q QueryECerts) Event { return ECertsUnavailable{Seq: q.Seq, Reason: "holder_proof"} }, ECertRefused, "err.ecert_offline", ""},
		{"no answer yet", func(q QueryECerts) Event { return Touch{} }, ECertPending, "err.ecert_pending", ""},
		{"answer to another query", func(q QueryECerts) Event {
			return ECertsFound{Seq: q.Seq + 1, Offers: []ECertOffer{permitOffer()}}
		}, ECertPending, "err.ecert_pending", ""},
		{"offer for a material that cannot be one", func(q QueryECerts) Event {
			o := permitOffer()
			o.MaterialID = "id_card"
			return ECertsFound{Seq: q.Seq, Offers: []ECertOffer{o}}
		}, ECertReady, "err.ecert_none", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			_, q := ecertToMaterials(t, m, who)
			if q.IDNumber != who.IDNumber || q.ItemID != "mi-resident-enrol" || q.CardReadAt.IsZero() {
				t.Fatalf("query %+v", q)
			}
			st, _ := m.Handle(tc.answer(q))
			if st.ECerts.Status != tc.status {
				t.Fatalf("status %q, want %q", st.ECerts.Status, tc.status)
			}
			st, _ = m.Handle(UseECert{MaterialID: "residence_permit"})
			ms, _ := materialState(st, "residence_permit")
			if tc.useErr != "" {
				if ms.Error.Key != tc.useErr || ms.How == ProvidedECert || ms.Cert != nil {
					t.Fatalf("UseECert taken: how %q err %q", ms.How, ms.Error.Key)
				}
				return
			}
			if ms.How != ProvidedECert || !ms.Satisfied() || ms.Cert.NumberMasked != "JZZ-****-0001" {
				t.Fatalf("not used: %+v", ms)
			}
			st, _ = run(m, Next{}, NoticeShown{}, SetConsent{Agreed: true})
			_, fx := m.Handle(Submit{})
			sub, ok := findEffect[SubmitApplication](fx)
			if !ok {
				t.Fatalf("no submission: %v %v", st.Step, st.Error)
			}
			var got string
			for _, ms := range sub.Application.Materials {
				if ms.MaterialID == "residence_permit" {
					got = ms.CertNumber
				}
			}
			if got != tc.wantNum {
				t.Fatalf("submission names %q, want %q", got, tc.wantNum)
			}
			st, _ = m.Handle(SubmitDone{ReceiptNo: "K1-20261125-0001", LookupCode: "ABCDEFGHJK"})
			var line *ReceiptMaterial
			for i := range st.Receipt.Materials {
				if st.Receipt.Materials[i].How == ProvidedECert {
					line = &st.Receipt.Materials[i]
				}
			}
			if line == nil || line.CertMasked != "JZZ-****-0001" || line.CertAgency != "东莞市公安局" {
				t.Fatalf("receipt does not list the e-certificate: %+v", st.Receipt.Materials)
			}
		})
	}
}

// TestECertNotForAgent: on the 代办 path the card read is the agent's,
// which proves nothing about the principal: no query, no e-certificate.
func TestECertNotForAgent(t *testing.T) {
	m, _ := newTestMachine(t)
	p := ecertPeople()
	_, fx := run(m, Start{}, SelectItem{ItemID: "fm-one-child-award"}, Next{}, SetAgentMode{On: true}, CardRead{Identity: p[0]},
		EnterPrincipal{Name: p[1].Name, IDNumber: p[1].IDNumber})
	if q, ok := findEffect[QueryECerts](fx); ok {
		t.Fatalf("queried on the 代办 path: %+v", q)
	}
}

// TestECertLateAnswerDropped: an answer for an earlier resident's query
// never reaches the next resident's session.
func TestECertLateAnswerDropped(t *testing.T) {
	m, _ := newTestMachine(t)
	p := ecertPeople()
	_, q1 := ecertToMaterials(t, m, p[0])
	m.Handle(Cancel{})
	m.Handle(ConfirmYes{})
	_, q2 := ecertToMaterials(t, m, p[1])
	if q1.Seq == q2.Seq {
		t.Fatal("two queries share a Seq")
	}
	st, _ := run(m, ECertsFound{Seq: q1.Seq, Offers: []ECertOffer{permitOffer()}}, UseECert{MaterialID: "residence_permit"})
	if ms, _ := materialState(st, "residence_permit"); ms.How == ProvidedECert || len(st.ECerts.Offers) != 0 {
		t.Fatalf("the earlier resident's certificate was offered: %+v", st.ECerts)
	}
}

// TestECertProperty: whatever the resident, the devices and the platform
// do, in any order, a material counts as provided by an e-certificate only
// when that certificate was returned by the platform for this holder in
// this session — both on screen and in the submission.
func TestECertProperty(t *testing.T) {
	people := ecertPeople()
	items := []string{"mi-resident-enrol", "fm-birth-reg", "hh-household-proof", "fm-one-child-award", "ss-pension-enrol"}
	rapid.Check(t, func(rt *rapid.T) {
		m, clk := newTestMachine(t)
		// The model: every query the machine asked in the current session
		// (Seq -> holder) and every certificate the platform returned for
		// each (Seq -> material -> numbers).
		asked := map[uint64]string{}
		returned := map[uint64]map[string][]string{}
		var lastSeq uint64
		var current QueryECerts // the latest query of this session
		steps := rapid.IntRange(1, 150).Draw(rt, "steps")
		st := m.State()
		for range steps {
			// Mostly what the current screen invites, so that sessions
			// reach the materials step; sometimes anything at all.
			kind := rapid.IntRange(0, 16).Draw(rt, "kind")
			if rapid.IntRange(0, 3).Draw(rt, "directed") > 0 {
				switch st.Step {
				case StepHome:
					kind = 0
				case StepCatalog:
					kind = 1
				case StepGuide, StepEligibility:
					kind = 2
				case StepIdentify:
					kind = rapid.SampledFrom([]int{4, 4, 4, 5, 6, 12, 14}).Draw(rt, "identify")
				case StepForm:
					kind = rapid.SampledFrom([]int{8, 8, 8, 2, 7, 12}).Draw(rt, "form")
				case StepMaterials:
					kind = rapid.SampledFrom([]int{9, 9, 10, 11, 12, 13, 14, 2, 7, 16}).Draw(rt, "materials")
				case StepReview:
					kind = rapid.SampledFrom([]int{15, 15, 15, 7, 9}).Draw(rt, "review")
				}
			}
			var ev Event
			switch kind {
			case 0:
				ev = Start{}
			case 1:
				ev = SelectItem{ItemID: rapid.SampledFrom(items).Draw(rt, "item")}
			case 2, 3:
				ev = Next{}
			case 4:
				ev = CardRead{Identity: rapid.SampledFrom(people).Draw(rt, "who")}
			case 5:
				ev = SetAgentMode{On: rapid.Bool().Draw(rt, "agent")}
			case 6:
				who := rapid.SampledFrom(people).Draw(rt, "principal")
				ev = EnterPrincipal{Name: who.Name, IDNumber: who.IDNumber}
			case 7:
				ev = rapid.SampledFrom([]Event{Back{}, Cancel{}, ConfirmYes{}, ConfirmNo{}}).Draw(rt, "nav")
			case 8:
				ev = rapid.SampledFrom([]Event{SetField{Name: "phone", Value: "13800000000"}, SetField{Name: "address", Value: "示例路1号"},
					SetField{Name: "spouse_name", Value: "李四"}, SetField{Name: "bank_account", Value: "6222020200000000000"}}).Draw(rt, "field")
			case 9, 10:
				ev = UseECert{MaterialID: rapid.SampledFrom([]string{"residence_permit", "marriage", "hukou", "id_card", "photo"}).Draw(rt, "mat")}
			case 11:
				ev = UseScan{MaterialID: rapid.SampledFrom([]string{"residence_permit", "marriage", "hukou"}).Draw(rt, "mat")}
			case 12, 13:
				seq := rapid.SampledFrom([]uint64{lastSeq, lastSeq, lastSeq - 1, 0, lastSeq + 1}).Draw(rt, "seq")
				var offers []ECertOffer
				for i := range rapid.IntRange(0, 3).Draw(rt, "offers") {
					mat := rapid.SampledFrom([]string{"residence_permit", "marriage", "hukou", "id_card", "photo"}).Draw(rt, "omat")
					offers = append(offers, ECertOffer{MaterialID: mat, Number: fmt.Sprintf("N%d-%d-%d", seq, i, rapid.IntRange(0, 3).Draw(rt, "n")), NumberMasked: "N*"})
				}
				if _, ok := asked[seq]; ok {
					if returned[seq] == nil {
						returned[seq] = map[string][]string{}
					}
					for _, o := range offers {
						returned[seq][o.MaterialID] = append(returned[seq][o.MaterialID], o.Number)
					}
				}
				ev = ECertsFound{Seq: seq, Offers: offers}
			case 14:
				ev = ECertsUnavailable{Seq: lastSeq, Offline: rapid.Bool().Draw(rt, "offline")}
			case 15:
				ev = rapid.SampledFrom([]Event{NoticeShown{}, SetConsent{Agreed: true}, Submit{}}).Draw(rt, "review")
			case 16:
				ev = clk.advance(rapid.SampledFrom([]time.Duration{time.Second, 61 * time.Second, 130 * time.Second}).Draw(rt, "tick"))
			}
			var fx []Effect
			st, fx = m.Handle(ev)
			for _, f := range fx {
				switch f := f.(type) {
				case QueryECerts:
					asked[f.Seq], lastSeq, current = f.IDNumber, f.Seq, f
				case SessionEnded:
					asked, returned, current = map[uint64]string{}, map[uint64]map[string][]string{}, QueryECerts{}
				case SubmitApplication:
					for _, ms := range f.Application.Materials {
						if ms.How != ProvidedECert {
							continue
						}
						if f.Application.Agent != nil || current.Seq == 0 || f.Application.Applicant.IDNumber != current.IDNumber ||
							!contains(returned[current.Seq][ms.MaterialID], ms.CertNumber) {
							rt.Fatalf("submitted %s as e-certificate %q not returned for this holder in this session", ms.MaterialID, ms.CertNumber)
						}
					}
				}
			}
			for _, ms := range st.Materials {
				if ms.How != ProvidedECert || !ms.Satisfied() {
					continue
				}
				if st.Applicant == nil || st.Applicant.ByAgent || current.Seq == 0 || st.Applicant.MaskedID != pii.MaskID(current.IDNumber) ||
					!contains(returned[current.Seq][ms.Material.ID], ms.Cert.Number) {
					rt.Fatalf("%s counted as provided by e-certificate %q not returned for this holder in this session (after %T)", ms.Material.ID, ms.Cert.Number, ev)
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestECertPrefillsForm: a 居住证 offered for the applicant fills the
// form's empty address (the catalog's 居住证申领 made the certificate's
// 居住地址 from its form field "address"); what the resident typed is
// never overwritten, and card data stays as read.
func TestECertPrefillsForm(t *testing.T) {
	o := permitOffer()
	o.TypeCode = "11440000MB2D00001L002"
	o.Fields = []ECertField{{Name: "姓名", Value: "别人"}, {Name: "居住地址", Value: "东莞市示例镇示例路1号"}}
	for _, typed := range []string{"", "自己输入的地址"} {
		m, _ := newTestMachine(t)
		who := ecertPeople()[0]
		_, fx := run(m, Start{}, SelectItem{ItemID: "mi-resident-enrol"}, Next{}, CardRead{Identity: who})
		q, _ := findEffect[QueryECerts](fx)
		if typed != "" {
			m.Handle(SetField{Name: "address", Value: typed})
		}
		st, _ := m.Handle(ECertsFound{Seq: q.Seq, Offers: []ECertOffer{o}})
		want := typed
		if want == "" {
			want = "东莞市示例镇示例路1号"
		}
		if f, _ := fieldValue(st, "address"); f.Value != want {
			t.Errorf("typed %q: address %q, want %q", typed, f.Value, want)
		}
		if f, _ := fieldValue(st, "name"); f.Value != who.Name {
			t.Errorf("name %q: card data changed", f.Value)
		}
	}
}
