package flow

import (
	"onedoor/internal/testdate"
	"strings"
	"testing"
	"time"

	"onedoor/pii"
)

// FuzzValidateIDNumber: typed ID numbers come from the keypad. Whatever is
// accepted is 18 characters, upper case, with a matching check character,
// and masks to first 4 + 10 asterisks + last 4.
func FuzzValidateIDNumber(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("11010519491231002x")
	f.Add("44190019800101123")
	f.Add("441900198002301234")
	f.Add("４４１９")
	now := testdate.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ValidateIDNumber(s, now)
		if err != nil {
			return
		}
		if len(got) != 18 || got != strings.ToUpper(got) {
			t.Fatalf("accepted %q as %q", s, got)
		}
		c, err := pii.CheckChar(got[:17])
		if err != nil || c != got[17] {
			t.Fatalf("accepted %q with a wrong check character", got)
		}
		if m := pii.MaskID(got); m != got[:4]+"**********"+got[14:] {
			t.Fatalf("mask %q", m)
		}
	})
}

// FuzzEnterIDNumber: typed input in the Identify step never identifies an
// applicant (人证合一): it leaves the machine where it was, asking for the
// card, with nothing personal kept.
func FuzzEnterIDNumber(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("")
	f.Add("not a number")
	f.Fuzz(func(t *testing.T, s string) {
		m, _ := newTestMachine(t)
		run(m, Start{}, SelectItem{ItemID: "ss-pension-enrol"}, Next{})
		st, _ := m.Handle(EnterIDNumber{Number: s})
		if st.Step != StepIdentify || st.Error.Key != "err.card_required" || st.HasPersonalData || st.Applicant != nil {
			t.Fatalf("typed number: step %v error %q personal=%t", st.Step, st.Error.Key, st.HasPersonalData)
		}
	})
}
