package pii

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotDigits is returned by CheckChar for input that is not 17 ASCII
	// digits.
	ErrNotDigits = errors.New("pii: want the first 17 digits of an ID number")
	// ErrInvalidID is wrapped by every error of ValidateIDNumber.
	ErrInvalidID = errors.New("invalid ID number")
)

// MinBirthYear is the earliest birth year an ID number may carry. Numbers of
// GB 11643 were issued from 1999 (and the 15-digit ones before) to everyone
// then alive, including people born in the 1880s, so records may hold them;
// 1850 leaves no living or recorded person out.
const MinBirthYear = 1850

// weights are GB 11643's 2^(17-i) mod 11 for the first 17 digits. This is the
// only copy of the table in the project: every ID check goes through
// CheckChar.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckChar computes the GB 11643-1999 (ISO 7064 MOD 11-2) check character
// of the first 17 digits of an 18-character ID number.
func CheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: got %d characters", ErrNotDigits, len(first17))
	}
	sum := 0
	for i := range 17 {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: character %d is %q", ErrNotDigits, i+1, c)
		}
		sum += int(c-'0') * weights[i]
	}
	return "10X98765432"[sum%11], nil
}

// ValidateIDNumber is the one rule for an 18-character ID number (resident
// card, residence permit, 2023 foreigner card): 17 digits and a check
// character (uppercase X, as cards carry it) that matches, and a birth date
// in positions 7–14 that exists, is not before MinBirthYear and not after
// now's date. The card driver, the kiosk flow (typed numbers, after
// normalising) and the sync API all call it. Region and sex digits depend on
// the card type and are checked by drivers/idcard. Errors wrap ErrInvalidID
// and never contain the number.
func ValidateIDNumber(num string, now time.Time) error {
	if len(num) != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrInvalidID, len(num))
	}
	want, err := CheckChar(num[:17])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	if got := num[17]; got != want {
		return fmt.Errorf("%w: check character does not match", ErrInvalidID)
	}
	birth, err := time.Parse("20060102", num[6:14])
	if err != nil {
		return fmt.Errorf("%w: birth date is not a date", ErrInvalidID)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if birth.Year() < MinBirthYear || birth.After(today) {
		return fmt.Errorf("%w: birth date out of range", ErrInvalidID)
	}
	return nil
}
