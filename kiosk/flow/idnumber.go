package flow

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"onedoor/pii"
)

// ErrIDNumber marks an ID number that fails the GB 11643 checks.
var ErrIDNumber = errors.New("invalid ID number")

// ValidateIDNumber normalises a typed ID number (spaces trimmed, lowercase
// x accepted) and checks it with pii.ValidateIDNumber, the one rule the card
// driver and the platform use too. It returns the normalised number
// (uppercase X).
func ValidateIDNumber(s string, now time.Time) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if err := pii.ValidateIDNumber(s, now); err != nil {
		return "", fmt.Errorf("%w: %w", ErrIDNumber, err)
	}
	return s, nil
}

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
