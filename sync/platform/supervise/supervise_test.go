package supervise

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// testCalendar is a holiday file of its own (data, not "now"): National
// Day 1-7 October 2026 off, Saturday 10 October a make-up working day.
const testCalendar = `{"years":[2026],"holidays":[{"name":"国庆节","from":"2026-10-01","to":"2026-10-07"}],
	"workdays":[{"date":"2026-10-10","for":"国庆节"}]}`

func day(t *testing.T, s string) Day {
	t.Helper()
	d, err := ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func workdays(t *testing.T) *Workdays {
	t.Helper()
	w, err := ParseWorkdays([]byte(testCalendar))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorkdays(t *testing.T) {
	w := workdays(t)
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-09-30", 0, "2026-09-30"},
		{"2026-09-30", 1, "2026-10-08"}, // the holiday week does not count
		{"2026-09-30", 2, "2026-10-09"},
		{"2026-09-30", 3, "2026-10-10"}, // make-up Saturday counts
		{"2026-09-30", 4, "2026-10-12"},
		{"2026-09-04", 1, "2026-09-07"}, // Friday -> Monday
		{"2027-01-01", 1, "2027-01-04"}, // outside the calendar: Monday to Friday
	} {
		from := day(t, c.from)
		got := w.Add(from, c.n)
		if got.String() != c.want {
			t.Errorf("Add(%s, %d) = %s, want %s", c.from, c.n, got, c.want)
		}
		if b := w.Between(from, got); b != c.n {
			t.Errorf("Between(%s, %s) = %d, want %d", c.from, got, b, c.n)
		}
	}
	if l := w.Left(day(t, "2026-09-30"), day(t, "2026-10-09")); l != 2 {
		t.Errorf("Left = %d", l)
	}
	if l := w.Left(day(t, "2026-10-12"), day(t, "2026-10-09")); l != -2 {
		t.Errorf("Left after due = %d", l)
	}
	if DayOf(time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC)).String() != "2026-10-01" {
		t.Error("days are counted in China Standard Time")
	}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompute(t *testing.T) {
	w := workdays(t)
	five := &Limit{Value: 5, Unit: "workday"}
	for _, c := range []struct {
		name    string
		hist    [][3]string // status, at, actor
		limit   *Limit
		want    Facts
		overdue string // a day on which the case is overdue, if open
	}{
		{"on time", [][3]string{{"received", "2026-09-07 09:00", "intake"}, {"accepted", "2026-09-07 10:00", "clerk1"}, {"approved", "2026-09-11 15:00", "boss"}}, five,
			Facts{Staff: "clerk1", Status: "approved", Start: day(t, "2026-09-07"), Due: day(t, "2026-09-14"), Decided: day(t, "2026-09-11"), WorkDays: 4, OnTime: true}, ""},
		{"late", [][3]string{{"received", "2026-09-07 09:00", "intake"}, {"accepted", "2026-09-08 10:00", "clerk1"}, {"rejected", "2026-09-16 15:00", "boss"}}, five,
			Facts{Staff: "clerk1", Status: "rejected", Start: day(t, "2026-09-08"), Due: day(t, "2026-09-15"), Decided: day(t, "2026-09-16"), WorkDays: 6}, ""},
		{"paused while returned", [][3]string{{"received", "2026-09-07 09:00", "intake"}, {"accepted", "2026-09-07 10:00", "clerk1"},
			{"returned", "2026-09-08 10:00", "clerk1"}, {"accepted", "2026-09-10 10:00", "clerk2"}, {"approved", "2026-09-17 10:00", "boss"}}, five,
			Facts{Staff: "clerk1", Status: "approved", Start: day(t, "2026-09-07"), Due: day(t, "2026-09-16"), Decided: day(t, "2026-09-17"), WorkDays: 6, Returned: true, ReturnReason: "缺材料"}, ""},
		{"returned ends", [][3]string{{"received", "2026-09-07 09:00", "intake"}, {"returned", "2026-09-09 10:00", "clerk3"}}, five,
			Facts{Staff: "clerk3", Status: "returned", Start: day(t, "2026-09-07"), Due: day(t, "2026-09-14"), Decided: day(t, "2026-09-09"), WorkDays: 2, OnTime: true, Returned: true, ReturnReason: "缺材料"}, ""},
		{"open", [][3]string{{"received", "2026-09-30 09:00", "intake"}, {"accepted", "2026-09-30 10:00", "clerk1"}}, five,
			Facts{Staff: "clerk1", Status: "accepted", Start: day(t, "2026-09-30"), Due: day(t, "2026-10-13"), Open: true, WorkDays: -1}, "2026-10-14"},
		{"no limit", [][3]string{{"received", "2026-09-07 09:00", "intake"}, {"approved", "2026-09-08 10:00", "boss"}}, nil,
			Facts{Staff: "boss", Status: "approved", Start: day(t, "2026-09-07"), Decided: day(t, "2026-09-08"), WorkDays: 1, OnTime: true}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := Case{SubmissionID: 1, Receipt: "R", Kiosk: "K", Town: "T", ItemID: "I", ReceivedAt: at(t, c.hist[0][1])}
			for _, h := range c.hist {
				cs.History = append(cs.History, Update{Status: h[0], At: at(t, h[1]), Actor: h[2], Note: "缺材料"})
			}
			got := Compute(cs, c.limit, w)
			want := c.want
			want.SubmissionID, want.Receipt, want.Kiosk, want.Town, want.ItemID, want.Received = 1, "R", "K", "T", "I", DayOf(cs.ReceivedAt)
			if got != want {
				t.Fatalf("Compute =\n %+v\nwant\n %+v", got, want)
			}
			if c.overdue != "" {
				od := day(t, c.overdue)
				if !got.Overdue(od) || got.Overdue(got.Due) {
					t.Fatalf("overdue on %s: %v, on the due day: %v", od, got.Overdue(od), got.Overdue(got.Due))
				}
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	for _, c := range []struct {
		days     map[int]int
		med, p90 int
	}{
		{map[int]int{}, -1, -1},
		{map[int]int{3: 1}, 3, 3},
		{map[int]int{1: 1, 2: 1, 3: 1, 4: 1}, 2, 4},
		{map[int]int{0: 5, 10: 5}, 0, 10},
		{map[int]int{1: 9, 20: 1}, 1, 1},
		{map[int]int{1: 8, 20: 2}, 1, 20},
	} {
		g := Group{Days: c.days}
		if g.Median() != c.med || g.P90() != c.p90 {
			t.Errorf("%v: median %d p90 %d, want %d %d", c.days, g.Median(), g.P90(), c.med, c.p90)
		}
	}
}

func TestCSV(t *testing.T) {
	r := Result{Query: Query{By: ByStaff}, Groups: []Group{
		{Key: "=cmd|calc", Received: 3, Decided: 2, FirstTime: 1, Returned: 1, OnTime: 2, Days: map[int]int{1: 1, 5: 1}, Ratings: [6]int{0, 1, 0, 0, 0, 2}},
		{Key: "a", Received: 1}}}
	r.Finish()
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0][:11], ",") != "staff,received,decided,accepted_first_time,returned,first_time_rate,median_days,p90_days,on_time_rate,rating_count,rating_bad" {
		t.Fatalf("header %v", recs[0])
	}
	if strings.Join(recs[1][:11], ",") != "'=cmd|calc,3,2,1,1,0.5000,1,5,1.0000,3,1" {
		t.Fatalf("row %v (a formula must not reach a spreadsheet)", recs[1])
	}
	if recs[3][0] != TotalKey || recs[3][1] != "4" {
		t.Fatalf("total %v", recs[3])
	}
}
