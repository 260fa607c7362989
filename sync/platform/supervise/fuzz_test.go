package supervise

import (
	"testing"
)

// FuzzParseDay: query parameters from the browser; a day that parses
// formats back to itself.
func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"2026-11-30", "2026-02-29", "0000-01-01", "9999-12-31", "2026-1-1", "", "2026-11-30T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDay(s)
		if err != nil {
			return
		}
		if d.String() != s && d != 0 {
			t.Fatalf("ParseDay(%q) = %s", s, d)
		}
	})
}

// FuzzParseLimits: the catalog is the operator's file; whatever it holds,
// limits are whole non-negative values and computing a due day ends.
func FuzzParseLimits(f *testing.F) {
	f.Add([]byte(`{"items":[{"id":"a","time_limit":{"promised":{"value":5,"unit":"workday"}}}]}`))
	f.Add([]byte(`{"items":[{"id":"a","time_limit":{"promised":{"value":-3,"unit":"day"}}},{"id":"b","time_limit":{}}]}`))
	f.Add([]byte(`{"items":[{"id":"a","time_limit":{"promised":{"value":3000,"unit":"day"}}}]}`))
	f.Add([]byte(`not json`))
	w := NewWorkdays(nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		for id, l := range ParseLimits(b) {
			if l.Value < 0 {
				t.Fatalf("item %q: negative limit %d", id, l.Value)
			}
			if l.Value > 100000 {
				continue // a due day centuries away is the operator's typo, still computed but slowly
			}
			start := Day(20000)
			if d := w.due(start, l, 0); d < start {
				t.Fatalf("item %q: due %s before start", id, d)
			}
		}
	})
}
