package catalog

import (
	"errors"
	"testing"
	"time"

	"onedoor/assets"

	"pgregory.net/rapid"
)

func mustCalendar(t testing.TB) *Calendar {
	t.Helper()
	c, err := ParseCalendar(assets.Holidays)
	if err != nil {
		t.Fatalf("embedded holiday calendar: %v", err)
	}
	return c
}

func day(s string) time.Time {
	d, err := time.ParseInLocation(dateLayout, s, time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	return d
}

func TestIsWorkday2026(t *testing.T) {
	c := mustCalendar(t)
	tests := []struct {
		date string
		want bool
	}{
		{"2026-01-01", false}, // 元旦
		{"2026-01-04", true},  // Sunday, make-up working day
		{"2026-01-05", true},
		{"2026-02-14", true},  // Saturday, make-up for 春节
		{"2026-02-16", false}, // 除夕
		{"2026-02-23", false}, // last day of 春节
		{"2026-02-24", true},
		{"2026-02-28", true}, // Saturday, make-up
		{"2026-03-07", false},
		{"2026-04-06", false}, // 清明 Monday
		{"2026-05-05", false},
		{"2026-05-09", true}, // Saturday, make-up
		{"2026-06-19", false},
		{"2026-09-20", true}, // Sunday, make-up for 国庆
		{"2026-09-25", false},
		{"2026-10-07", false},
		{"2026-10-10", true}, // Saturday, make-up
		{"2026-11-25", true},
		{"2026-11-28", false},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			got, err := c.IsWorkday(day(tc.date))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("IsWorkday(%s) = %t, want %t", tc.date, got, tc.want)
			}
		})
	}
}

func TestDueDate(t *testing.T) {
	c := mustCalendar(t)
	tests := []struct {
		name     string
		accepted string
		limit    Limit
		want     string
		err      error
	}{
		{"over Spring Festival with make-up Saturday", "2026-02-12", Limit{Value: 3, Unit: "workday"}, "2026-02-24", nil},
		{"over National Day", "2026-09-30", Limit{Value: 5, Unit: "workday"}, "2026-10-13", nil},
		{"over Qingming", "2026-04-03", Limit{Value: 1, Unit: "workday"}, "2026-04-07", nil},
		{"over Labour Day", "2026-04-30", Limit{Value: 1, Unit: "workday"}, "2026-05-06", nil},
		{"from a holiday onto a make-up Sunday", "2026-01-01", Limit{Value: 1, Unit: "workday"}, "2026-01-04", nil},
		{"plain weekend", "2026-11-20", Limit{Value: 1, Unit: "workday"}, "2026-11-23", nil},
		{"instant", "2026-11-25", Limit{Value: 0, Unit: "workday"}, "2026-11-25", nil},
		{"natural days ending in a holiday", "2026-09-28", Limit{Value: 3, Unit: "day"}, "2026-10-08", nil},
		{"natural days", "2026-11-02", Limit{Value: 10, Unit: "day"}, "2026-11-12", nil},
		{"past the covered year", "2026-12-30", Limit{Value: 5, Unit: "workday"}, "", ErrNotCovered},
		{"before the covered year", "2025-12-30", Limit{Value: 1, Unit: "workday"}, "", ErrNotCovered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.DueDate(day(tc.accepted).Add(10*time.Hour+30*time.Minute), tc.limit)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(dateLayout); s != tc.want {
				t.Errorf("DueDate = %s, want %s", s, tc.want)
			}
		})
	}
	if _, err := c.DueDate(day("2026-03-02"), Limit{Value: 1, Unit: "fortnight"}); err == nil {
		t.Error("unknown unit accepted")
	}
	if _, err := c.AddWorkdays(day("2026-03-02"), -1); err == nil {
		t.Error("negative working days accepted")
	}
}

// TestAddWorkdaysProperty: the result is a working day and exactly n working
// days lie in (from, result].
func TestAddWorkdaysProperty(t *testing.T) {
	c := mustCalendar(t)
	rapid.Check(t, func(t *rapid.T) {
		from := day("2026-01-01").AddDate(0, 0, rapid.IntRange(0, 300).Draw(t, "offset"))
		n := rapid.IntRange(0, 30).Draw(t, "n")
		got, err := c.AddWorkdays(from, n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			if ok, _ := c.IsWorkday(got); !ok {
				t.Fatalf("%s + %d = %s, not a working day", from.Format(dateLayout), n, got.Format(dateLayout))
			}
		}
		count := 0
		for d := from.AddDate(0, 0, 1); !d.After(got); d = d.AddDate(0, 0, 1) {
			if ok, _ := c.IsWorkday(d); ok {
				count++
			}
		}
		if count != n {
			t.Fatalf("%s + %d = %s spans %d working days", from.Format(dateLayout), n, got.Format(dateLayout), count)
		}
	})
}

func TestParseCalendarRejects(t *testing.T) {
	tests := []struct{ name, src string }{
		{"empty", ``},
		{"no years", `{"years":[]}`},
		{"bad date", `{"years":[2026],"holidays":[{"name":"x","from":"2026-13-01","to":"2026-13-02"}]}`},
		{"reversed", `{"years":[2026],"holidays":[{"name":"x","from":"2026-05-05","to":"2026-05-01"}]}`},
		{"outside years", `{"years":[2026],"holidays":[{"name":"x","from":"2027-01-01","to":"2027-01-01"}]}`},
		{"make-up on a weekday", `{"years":[2026],"workdays":[{"date":"2026-03-04","for":"x"}]}`},
		{"make-up that is a holiday", `{"years":[2026],"holidays":[{"name":"x","from":"2026-03-07","to":"2026-03-07"}],"workdays":[{"date":"2026-03-07","for":"x"}]}`},
		{"unknown field", `{"years":[2026],"holiday":[]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseCalendar([]byte(tc.src)); !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseCalendar = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCalendarMetadata(t *testing.T) {
	c := mustCalendar(t)
	if got := c.Years(); len(got) != 1 || got[0] != 2026 {
		t.Errorf("Years = %v", got)
	}
	if n, ok := c.HolidayName(day("2026-10-03")); !ok || n != "国庆节" {
		t.Errorf("HolidayName(2026-10-03) = %q, %t", n, ok)
	}
	if c.Source == "" {
		t.Error("the calendar must cite its source")
	}
}

// TestMergeCalendars: the platform's calendar for a later year extends the
// bundled one; for a year both declare the platform's days win whole; a
// year neither covers still cannot be promised.
func TestMergeCalendars(t *testing.T) {
	bundled := mustCalendar(t)
	published, err := ParseCalendar([]byte(`{"source":"platform","years":[2026,2031],
		"holidays":[{"name":"元旦","from":"2031-01-01","to":"2031-01-03"}],
		"workdays":[{"date":"2026-11-28","for":"test"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := bundled.Merge(published)
	tests := []struct {
		day  string
		want bool
		err  error
	}{
		{"2031-01-02", false, nil},           // the platform's holiday
		{"2031-01-06", true, nil},            // an ordinary Monday of the new year
		{"2026-11-28", true, nil},            // the platform's make-up Saturday
		{"2026-10-01", true, nil},            // 2026 taken whole from the platform: its 国庆 list is empty
		{"2032-01-05", false, ErrNotCovered}, // covered by neither
	}
	for _, tc := range tests {
		got, err := c.IsWorkday(day(tc.day))
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("%s: %v %v, want %v %v", tc.day, got, err, tc.want, tc.err)
		}
	}
	if got := c.Years(); len(got) != 2 || got[0] != 2026 || got[1] != 2031 {
		t.Errorf("years %v", got)
	}
	// The bundled calendar itself is unchanged.
	if ok, _ := bundled.IsWorkday(day("2026-10-01")); ok {
		t.Error("Merge changed the bundled calendar")
	}
	if _, err := bundled.IsWorkday(day("2031-01-06")); !errors.Is(err, ErrNotCovered) {
		t.Errorf("bundled covers 2031: %v", err)
	}
}
