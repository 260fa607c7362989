package pii

import (
	"errors"
	"fmt"
)

// ErrNotDigits is returned by CheckChar for input that is not 17 ASCII digits.
var ErrNotDigits = errors.New("pii: want the first 17 digits of an ID number")

// CheckChar computes the GB 11643-1999 (ISO 7064 MOD 11-2) check character
// of the first 17 digits of an 18-character ID number. The weights are
// 2^(17-i) mod 11. Typed numbers (kiosk/flow) and card data (drivers/idcard)
// are checked with this one function.
func CheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: got %d characters", ErrNotDigits, len(first17))
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
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
