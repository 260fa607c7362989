// Package supervise is the arithmetic of supervision (全过程监管): working
// days against the holiday calendar, each case's due date, processing time
// and first-time acceptance, the numbers of a period grouped by item, town,
// kiosk or staff member, their CSV, .xlsx and SVG forms, staff roles, and
// the follow-up loop of bad ratings (好差评整改). It knows nothing of HTTP
// or SQL: the platform's back office draws it, a Store keeps it.
package supervise

import (
	"errors"
	"fmt"
	"time"

	"onedoor/kiosk/catalog"
)

// Day is a civil date in China Standard Time as days since 1970-01-01, the
// unit every supervision figure is counted in. 0 means "none".
type Day int32

// cst is China Standard Time: no DST, so a fixed zone needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

// DayOf is the civil date of t in China Standard Time.
func DayOf(t time.Time) Day {
	y, m, d := t.In(cst).Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Date is d as midnight UTC of the same civil date, for formatting and
// weekday arithmetic.
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats d as YYYY-MM-DD, or "—" for none.
func (d Day) String() string {
	if d == 0 {
		return "—"
	}
	return d.Date().Format(time.DateOnly)
}

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("date %q: %w", s, err)
	}
	return Day(t.Unix() / 86400), nil
}

// Workdays counts working days of government service centres: the holiday
// calendar where it covers a year (holidays off, make-up Saturdays and
// Sundays on), Monday to Friday outside it, so a year whose notice is not
// yet published still gets dates rather than none (supervision must not
// stop on 1 January; publish the calendar to make them exact).
type Workdays struct {
	cal *catalog.Calendar
}

// NewWorkdays builds the counter; cal may be nil (Monday to Friday).
func NewWorkdays(cal *catalog.Calendar) *Workdays { return &Workdays{cal: cal} }

// ParseWorkdays builds the counter from holiday files (the kiosk's format,
// kiosk/catalog.ParseCalendar), later files winning for the years they
// declare; empty ones are skipped.
func ParseWorkdays(files ...[]byte) (*Workdays, error) {
	var cal *catalog.Calendar
	for _, f := range files {
		if len(f) == 0 {
			continue
		}
		c, err := catalog.ParseCalendar(f)
		if err != nil {
			return nil, fmt.Errorf("supervise: %w", err)
		}
		if cal == nil {
			cal = c
		} else {
			cal = cal.Merge(c)
		}
	}
	return NewWorkdays(cal), nil
}

// IsWorkday reports whether d is a working day.
func (w *Workdays) IsWorkday(d Day) bool {
	t := d.Date()
	if w != nil && w.cal != nil {
		ok, err := w.cal.IsWorkday(t)
		if err == nil {
			return ok
		}
		if !errors.Is(err, catalog.ErrNotCovered) {
			return false
		}
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Add returns the n-th working day after from (from itself not counted:
// 时限自受理次日起算); n <= 0 returns from.
func (w *Workdays) Add(from Day, n int) Day {
	d := from
	for n > 0 {
		d++
		if w.IsWorkday(d) {
			n--
		}
	}
	return d
}

// Between counts the working days in (a, b]: 0 when b is not after a.
func (w *Workdays) Between(a, b Day) int {
	n := 0
	for d := a + 1; d <= b; d++ {
		if w.IsWorkday(d) {
			n++
		}
	}
	return n
}

// Left is how many working days remain from today until due: positive
// before it, 0 on the due day, negative (working days late) after it.
func (w *Workdays) Left(today, due Day) int {
	if due >= today {
		return w.Between(today, due)
	}
	return -w.Between(due, today)
}
