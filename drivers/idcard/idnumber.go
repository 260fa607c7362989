package idcard

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidID means an ID number fails GB 11643 (shape, check digit, birth
// date: the rule of pii.ValidateIDNumber) or the card type's region and sex
// digits.
var ErrInvalidID = errors.New("idcard: invalid ID number")

// provinceCode reports whether the first two digits name a mainland
// province-level division (GB/T 2260) or Taiwan (71).
func provinceCode(p string) bool {
	switch p {
	case "11", "12", "13", "14", "15",
		"21", "22", "23",
		"31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46",
		"50", "51", "52", "53", "54",
		"61", "62", "63", "64", "65",
		"71":
		return true
	}
	return false
}

// ParseDate parses a card date YYYYMMDD and rejects dates that do not
// exist (20230230) rather than normalising them.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: %w", s, err)
	}
	if t.Year() < 1850 {
		return time.Time{}, fmt.Errorf("%q is not a plausible date", s)
	}
	return t, nil
}
