package flow

import (
	"slices"
	"testing"
	"time"

	"onedoor/internal/testdate"
)

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
