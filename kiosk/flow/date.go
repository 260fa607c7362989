package flow

import (
	"fmt"
	"strings"
	"time"
)

// Date is a calendar day with no time or zone: a birth date, a card's
// validity dates. Dates on the ID path are parsed once, where they enter
// (kiosk/app from the card reader, the flow from a typed ID number), and
// compared and formatted as dates from then on.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYYMMDD (the card's and the ID number's form),
// YYYY-MM-DD, YYYY.MM.DD or YYYY/MM/DD. It refuses dates that do not exist.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{"20060102", "2006-01-02", "2006.01.02", "2006/01/02"} {
		if t, err := time.Parse(l, s); err == nil {
			return DateOf(t), nil
		}
	}
	return Date{}, fmt.Errorf("flow: %q is not a date", s)
}

// DateOf is the day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String is YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Compact is YYYYMMDD, the wire protocol's form, or "".
func (d Date) Compact() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// AgeOn is the age in whole years of someone born on d, on day on: the
// birthday counts from its own day; someone born on 29 February turns a
// year older on 1 March in common years.
func (d Date) AgeOn(on Date) int {
	age := on.Year - d.Year
	if on.Month < d.Month || (on.Month == d.Month && on.Day < d.Day) {
		age--
	}
	return age
}
