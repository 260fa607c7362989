package pii

import (
	"errors"
	"onedoor/internal/testdate"
	"testing"
	"time"
)

var testNow = testdate.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestIDNumberVectors(t *testing.T) {
	// Known-good numbers from the reference (GB 11643 summaries).
	for _, num := range []string{"11010519491231002X", "440524188001010014", "810000199408230021", "830000199201300022", "441900199001011231"} {
		t.Run(num, func(t *testing.T) {
			c, err := CheckChar(num[:17])
			if err != nil || c != num[17] {
				t.Fatalf("CheckChar = %q, %v; want %q", c, err, num[17])
			}
			if err := ValidateIDNumber(num, testNow); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateIDNumberRejects(t *testing.T) {
	tests := []struct{ name, num string }{
		{"wrong check digit", "110105194912310021"},
		{"lower-case x", "11010519491231002x"},
		{"17 characters", "11010519491231002"},
		{"19 characters", "4419001990010112311"},
		{"letter inside", "1101051949A231002X"},
		{"letter at the end", "44190019900101123A"},
		{"30 February", "110105194902300028"},
		{"month 13", "110105194913310025"},
		{"born before 1850", "110105184912310039"},
		{"born tomorrow", withCheck("110105" + testNow.AddDate(0, 0, 1).Format("20060102") + "001")},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateIDNumber(tc.num, testNow)
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("err = %v, want ErrInvalidID", err)
			}
		})
	}
	// The bounds themselves are valid: born in 1850, born today.
	for _, first17 := range []string{"11010518500101001", "110105" + testNow.Format("20060102") + "001"} {
		if err := ValidateIDNumber(withCheck(first17), testNow); err != nil {
			t.Errorf("%s: %v", first17, err)
		}
	}
}

func withCheck(first17 string) string {
	c, err := CheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func TestMaskIDOtherShapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"44190019900101123X", "4419**********123X"},
		{"USA110075123456", "USA1*******3456"},
		{"H8765432", "********"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := MaskID(tc.in); got != tc.want {
			t.Errorf("MaskID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
