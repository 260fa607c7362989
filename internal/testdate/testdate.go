// Package testdate gives tests their fixed dates, movable as a whole.
//
// Tests inject a clock set to a fixed date so that they never depend on
// the day they run. A test that mixes that clock with the real one (file
// modification times, SQLite's CURRENT_TIMESTAMP, certificate validity,
// time.Now in an expectation) passes on the day it is written and breaks
// by itself later. To catch such mixing before the calendar does, every
// fixed date that stands for "now" comes from Date, and the whole set can
// be moved:
//
//	ONEDOOR_TEST_DATE=2030-01-01 go test ./...
//
// moves every such date by the number of whole weeks between the dates
// the tests were written around (Base) and the given one. Whole weeks keep
// each date's weekday, which working-day arithmetic depends on. Dates that
// are data rather than "now" (a birth date, a day of the bundled holiday
// calendar) keep using time.Date.
package testdate

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// EnvVar names the environment variable that moves the test dates.
const EnvVar = "ONEDOOR_TEST_DATE"

// Base is the day the fixed test dates were written around.
var Base = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// shiftDays reads EnvVar once per test binary. Unset means no shift; a
// malformed value stops the test binary, because a shift silently not
// applied would report a clean run that tested nothing.
var shiftDays = sync.OnceValue(func() int {
	v := os.Getenv(EnvVar)
	if v == "" {
		return 0
	}
	to, err := time.Parse(time.DateOnly, v)
	if err != nil {
		panic(fmt.Sprintf("testdate: %s=%q is not YYYY-MM-DD", EnvVar, v))
	}
	weeks := int(to.Sub(Base).Hours()/24) / 7
	return weeks * 7
})

// ShiftDays is how many days every fixed test date is moved (a multiple
// of 7; 0 unless EnvVar is set).
func ShiftDays() int { return shiftDays() }

// Date is time.Date moved by ShiftDays.
func Date(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return time.Date(year, month, day, hour, min, sec, nsec, loc).AddDate(0, 0, shiftDays())
}

// Shift moves an already built date by ShiftDays.
func Shift(t time.Time) time.Time { return t.AddDate(0, 0, shiftDays()) }
