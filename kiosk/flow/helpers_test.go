package flow

import (
	"fmt"
	"onedoor/internal/testdate"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/pii"
)

// fakeClock is the injected clock; tests move it by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) advance(d time.Duration) Tick {
	c.t = c.t.Add(d)
	return Tick{Now: c.t}
}

var cst = time.FixedZone("CST", 8*3600)

func sampleCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleCalendar(t testing.TB) *catalog.Calendar {
	t.Helper()
	c, err := catalog.ParseCalendar(assets.Holidays)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestMachine starts a machine on the sample catalog at 10:00 on a
// working Wednesday in 2026.
func newTestMachine(t testing.TB) (*Machine, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	m := New(withoutRules(sampleCatalog(t)), Options{
		Now:       clk.now,
		Calendar:  sampleCalendar(t),
		ReceiptQR: func(no string) string { return "https://platform.example/q/" + no },
	})
	return m, clk
}

// validID builds a valid fictional ID number for a region, birth date and
// sequence.
func validID(region string, birth time.Time, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	c, err := pii.CheckChar(s)
	if err != nil {
		panic(err)
	}
	return s + string(c)
}

// card is the fictional resident used by the example-based tests.
func card() Identity {
	return Identity{
		Name:     "陈小明",
		Gender:   "男",
		Nation:   "汉",
		Birth:    Date{1980, 1, 1},
		Address:  "广东省东莞市示例镇示例路8号",
		IDNumber: validID("441900", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), 123),
	}
}

// run feeds events in order and returns the final state and every effect.
func run(m *Machine, evs ...Event) (State, []Effect) {
	var all []Effect
	var st State
	for _, ev := range evs {
		var fx []Effect
		st, fx = m.Handle(ev)
		all = append(all, fx...)
	}
	return st, all
}

func findEffect[T Effect](fx []Effect) (T, bool) {
	for _, e := range fx {
		if v, ok := e.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func fieldValue(st State, name string) (FieldState, bool) {
	for _, f := range st.Fields {
		if f.Field.Name == name {
			return f, true
		}
	}
	return FieldState{}, false
}

func materialState(st State, id string) (MaterialState, bool) {
	for _, m := range st.Materials {
		if m.Material.ID == id {
			return m, true
		}
	}
	return MaterialState{}, false
}

// withoutRules drops the items' eligibility rules, for the tests of the
// steps after them; TestEligibility and the 代办 tests run on the sample
// catalog as it is.
func withoutRules(c *catalog.Catalog) *catalog.Catalog {
	for i := range c.Items {
		c.Items[i].Eligibility = nil
	}
	return c
}

// newRulesMachine is newTestMachine on the sample catalog with its rules.
func newRulesMachine(t testing.TB) (*Machine, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 10, 0, 0, 0, cst)}
	return New(sampleCatalog(t), Options{Now: clk.now, Calendar: sampleCalendar(t)}), clk
}
