package flow

import "testing"

// applicationEvents is a complete application of the most common item.
func applicationEvents() []Event {
	return []Event{
		SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()},
		SetField{Name: "phone", Value: "13812345678"}, SetField{Name: "grade", Value: "360"}, Next{}, Next{},
		NoticeShown{}, SetConsent{Agreed: true}, Submit{}, SubmitDone{ReceiptNo: "K01-20261125-0001"}, PrintDone{}, Next{},
		Rate{Level: VerySatisfied}, SendRating{},
	}
}

// BenchmarkSession runs one complete application, Home to Home.
func BenchmarkSession(b *testing.B) {
	m, _ := newTestMachine(b)
	evs := applicationEvents()
	b.ReportAllocs()
	for b.Loop() {
		for _, ev := range evs {
			m.Handle(ev)
		}
	}
	if st := m.State(); st.Step != StepHome {
		b.Fatalf("session did not complete: %v", st.Step)
	}
}

// BenchmarkStateOnly is the baseline: taking the same number of State
// snapshots without handling anything, i.e. the part of Handle that is
// the copy handed to the UI.
func BenchmarkStateOnly(b *testing.B) {
	m, _ := newTestMachine(b)
	run(m, SelectItem{ItemID: "ss-pension-enrol"}, Next{}, CardRead{Identity: card()})
	n := len(applicationEvents())
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < n; i++ {
			_ = m.State()
		}
	}
}
