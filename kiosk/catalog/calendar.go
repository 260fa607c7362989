package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrNotCovered means a date falls in a year the holiday calendar does not
// cover: the kiosk cannot promise a date and must say so instead of guessing,
// because holidays and make-up working days are only announced a year ahead.
var ErrNotCovered = errors.New("catalog: date outside the holiday calendar")

// Calendar knows which days are working days for government service centres:
// Monday to Friday, minus public holidays, plus the weekend days announced as
// make-up working days (调休上班).
type Calendar struct {
	years    map[int]bool
	holidays map[civilDate]string
	workdays map[civilDate]string
	Source   string
	Note     string
	Sample   bool
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// calendarFile is the JSON shape of the holiday file.
type calendarFile struct {
	Sample   bool   `json:"sample"`
	Source   string `json:"source"`
	Note     string `json:"note"`
	Years    []int  `json:"years"`
	Holidays []struct {
		Name string `json:"name"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"holidays"`
	Workdays []struct {
		Date string `json:"date"`
		For  string `json:"for"`
	} `json:"workdays"`
}

const dateLayout = "2006-01-02"

// ParseCalendar decodes and checks a holiday file. Every holiday and make-up
// day must fall in a declared year; a make-up working day must be a weekend
// day and a holiday range must not be reversed, which catches most typing
// mistakes in a hand-maintained file.
func ParseCalendar(data []byte) (*Calendar, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f calendarFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: holiday calendar: %w", ErrInvalid, err)
	}
	if len(f.Years) == 0 {
		return nil, fmt.Errorf("%w: holiday calendar declares no years", ErrInvalid)
	}
	c := &Calendar{
		years:    map[int]bool{},
		holidays: map[civilDate]string{},
		workdays: map[civilDate]string{},
		Source:   f.Source,
		Note:     f.Note,
		Sample:   f.Sample,
	}
	for _, y := range f.Years {
		c.years[y] = true
	}
	for i, h := range f.Holidays {
		from, err1 := time.Parse(dateLayout, h.From)
		to, err2 := time.Parse(dateLayout, h.To)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: holidays[%d]: %w", ErrInvalid, i, err)
		}
		if to.Before(from) {
			return nil, fmt.Errorf("%w: holidays[%d] %s: ends before it starts", ErrInvalid, i, h.Name)
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			if !c.years[d.Year()] {
				return nil, fmt.Errorf("%w: holidays[%d] %s: %s is outside the declared years", ErrInvalid, i, h.Name, d.Format(dateLayout))
			}
			c.holidays[dateOf(d)] = h.Name
		}
	}
	for i, w := range f.Workdays {
		d, err := time.Parse(dateLayout, w.Date)
		if err != nil {
			return nil, fmt.Errorf("%w: workdays[%d]: %w", ErrInvalid, i, err)
		}
		if !c.years[d.Year()] {
			return nil, fmt.Errorf("%w: workdays[%d]: %s is outside the declared years", ErrInvalid, i, w.Date)
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return nil, fmt.Errorf("%w: workdays[%d]: %s is a %s, not a weekend day", ErrInvalid, i, w.Date, wd)
		}
		if _, clash := c.holidays[dateOf(d)]; clash {
			return nil, fmt.Errorf("%w: workdays[%d]: %s is also listed as a holiday", ErrInvalid, i, w.Date)
		}
		c.workdays[dateOf(d)] = w.For
	}
	return c, nil
}

// Years lists the covered years in ascending order.
func (c *Calendar) Years() []int {
	out := make([]int, 0, len(c.years))
	for y := range c.years {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// IsWorkday reports whether the civil date of t (in t's location) is a
// working day.
func (c *Calendar) IsWorkday(t time.Time) (bool, error) {
	d := dateOf(t)
	if !c.years[d.y] {
		return false, fmt.Errorf("%w: %s", ErrNotCovered, t.Format(dateLayout))
	}
	if _, ok := c.workdays[d]; ok {
		return true, nil
	}
	if _, ok := c.holidays[d]; ok {
		return false, nil
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

// HolidayName returns the holiday a date belongs to, if any.
func (c *Calendar) HolidayName(t time.Time) (string, bool) {
	n, ok := c.holidays[dateOf(t)]
	return n, ok
}

// AddWorkdays returns the n-th working day after the civil date of from: the
// day of acceptance itself is not counted (时限自受理次日起算). n = 0 returns
// from's date unchanged. The result is midnight in from's location.
func (c *Calendar) AddWorkdays(from time.Time, n int) (time.Time, error) {
	if n < 0 {
		return time.Time{}, fmt.Errorf("catalog: negative working days %d", n)
	}
	y, m, d := from.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, from.Location())
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		ok, err := c.IsWorkday(day)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			n--
		}
	}
	return day, nil
}

// DueDate is the completion date promised by limit for an application
// accepted at acceptedAt. Natural-day limits still end on a working day,
// since nothing can be collected from a closed office.
func (c *Calendar) DueDate(acceptedAt time.Time, limit Limit) (time.Time, error) {
	switch limit.Unit {
	case "workday":
		return c.AddWorkdays(acceptedAt, limit.Value)
	case "day":
		y, m, d := acceptedAt.Date()
		day := time.Date(y, m, d+limit.Value, 0, 0, 0, 0, acceptedAt.Location())
		for {
			ok, err := c.IsWorkday(day)
			if err != nil {
				return time.Time{}, err
			}
			if ok {
				return day, nil
			}
			day = day.AddDate(0, 0, 1)
		}
	default:
		return time.Time{}, fmt.Errorf("catalog: unknown time-limit unit %q", limit.Unit)
	}
}

// Merge returns a calendar covering the years of both c and newer; for a
// year both declare, newer's days win. The kiosk merges the calendar the
// platform publishes (the year ahead, announced each November) over the
// one bundled with the software, so a kiosk installed years ago still
// promises dates; a year neither covers still gives ErrNotCovered.
func (c *Calendar) Merge(newer *Calendar) *Calendar {
	out := &Calendar{
		years:    map[int]bool{},
		holidays: map[civilDate]string{},
		workdays: map[civilDate]string{},
		Source:   c.Source,
		Note:     c.Note,
		Sample:   c.Sample || newer.Sample,
	}
	if newer.Source != "" && newer.Source != c.Source {
		out.Source = strings.TrimPrefix(c.Source+"; "+newer.Source, "; ")
	}
	for _, src := range []*Calendar{c, newer} {
		for y := range src.years {
			if src == c && newer.years[y] {
				continue // newer declares this year: take it whole
			}
			out.years[y] = true
			for d, name := range src.holidays {
				if d.y == y {
					out.holidays[d] = name
				}
			}
			for d, name := range src.workdays {
				if d.y == y {
					out.workdays[d] = name
				}
			}
		}
	}
	return out
}
