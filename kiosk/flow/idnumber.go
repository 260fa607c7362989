package flow

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"onedoor/drivers/idcard/pii"
)

// ErrIDNumber marks an ID number that fails the GB 11643 checks.
var ErrIDNumber = errors.New("invalid ID number")

// ValidateIDNumber checks an 18-character resident ID number: digits, a real
// birth date not in the future relative to now, and the check character
// (lowercase x accepted). It returns the normalised number (uppercase X).
//
// drivers/idcard validates card data with more checks (region, sex); both
// share the check character of drivers/idcard/pii.
func ValidateIDNumber(s string, now time.Time) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", fmt.Errorf("%w: %d characters, want 18", ErrIDNumber, len(s))
	}
	want, err := IDCheckChar(s[:17])
	if err != nil {
		return "", err
	}
	if s[17] != want {
		return "", fmt.Errorf("%w: check character does not match", ErrIDNumber)
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil {
		return "", fmt.Errorf("%w: birth date is not a date", ErrIDNumber)
	}
	if birth.Year() < 1900 || birth.After(now) {
		return "", fmt.Errorf("%w: birth date out of range", ErrIDNumber)
	}
	return s, nil
}

// IDCheckChar computes the check character for the first 17 digits; tests
// and simulators use it to make valid fictional numbers.
func IDCheckChar(first17 string) (byte, error) {
	c, err := pii.CheckChar(first17)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrIDNumber, err)
	}
	return c, nil
}

// MaskID shows an ID number as its first 4 and last 4 characters with
// asterisks between, e.g. 4419**********123X, the project's display rule.
// Anything 8 characters or shorter is fully masked.
func MaskID(s string) string { return pii.MaskID(s) }

// MaskName keeps the first character of a name and, for names of three or
// more characters, the last: 张* or 张*明 or 欧阳**华.
func MaskName(s string) string { return pii.MaskName(s) }

// MaskPhone shows a mobile number as 138****1234.
func MaskPhone(s string) string { return pii.MaskPhone(s) }

// validMobile checks a mainland mobile number: 11 digits starting 13–19.
func validMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normaliseDate accepts YYYY-MM-DD or the 8 digits of the numeric keypad
// (YYYYMMDD) and returns YYYY-MM-DD.
func normaliseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	layouts := []string{"2006-01-02", "20060102", "2006.01.02", "2006/01/02"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	return "", false
}

// genderFromID reads the sex digit (17th character: odd male, even female).
func genderFromID(id string) string {
	if len(id) != 18 {
		return ""
	}
	if (id[16]-'0')%2 == 1 {
		return "男"
	}
	return "女"
}
