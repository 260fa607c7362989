package flow

import (
	"slices"
	"strings"
	"testing"
	"time"
)

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
