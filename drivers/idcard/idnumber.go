package idcard

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"onedoor/drivers/idcard/pii"
)

// ErrInvalidID means an ID number fails GB 11643: shape, check digit,
// birth date or region.
var ErrInvalidID = errors.New("idcard: invalid ID number")

// CheckDigit computes the GB 11643 (ISO 7064 MOD 11-2) check character of
// the first 17 digits of an 18-character number.
func CheckDigit(first17 string) (byte, error) {
	c, err := pii.CheckChar(first17)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	return c, nil
}

// ValidateIDNumber checks an 18-character citizen-style number: 17 digits
// plus a check character, the check digit, and a real birth date in
// positions 7–14. The region prefix and sex are checked against the card by
// Identity.Validate, which knows which prefixes a card type may carry.
func ValidateIDNumber(num string) error {
	if len(num) != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrInvalidID, utf8.RuneCountInString(num))
	}
	want, err := CheckDigit(num[:17])
	if err != nil {
		return err
	}
	if got := num[17]; got != want {
		return fmt.Errorf("%w: check character %q, computed %q", ErrInvalidID, got, want)
	}
	if _, err := ParseDate(num[6:14]); err != nil {
		return fmt.Errorf("%w: birth date in number: %w", ErrInvalidID, err)
	}
	return nil
}

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

// MaskID shows an ID number the way receipts and screens may: the first
// and last four characters with asterisks between, e.g.
// 4419**********123X. Strings of eight characters or fewer are masked
// entirely, since showing four plus four would reveal them whole.
func MaskID(s string) string { return pii.MaskID(s) }
