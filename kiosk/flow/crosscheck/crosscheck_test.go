// Package crosscheck holds tests that compare kiosk/flow with other
// packages. It lives apart so that kiosk/flow's own tests never depend on a
// driver package.
package crosscheck

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/kiosk/flow"

	"pgregory.net/rapid"
)

// TestIDNumberRulesAgree: kiosk/flow checks typed numbers, drivers/idcard
// checks card data; both implement GB 11643 and must agree, or a number the
// card reader accepts would be refused when typed (or the reverse).
func TestIDNumberRulesAgree(t *testing.T) {
	now := time.Now()
	rapid.Check(t, func(t *rapid.T) {
		birth := time.Date(rapid.IntRange(1900, now.Year()-1).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")), rapid.IntRange(1, 31).Draw(t, "day"), 0, 0, 0, 0, time.UTC)
		first17 := fmt.Sprintf("%06d%s%03d", rapid.IntRange(110000, 659999).Draw(t, "region"), birth.Format("20060102"), rapid.IntRange(0, 999).Draw(t, "seq"))
		check, err := flow.IDCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		num := first17 + string(check)
		switch rapid.IntRange(0, 3).Draw(t, "mutation") {
		case 1: // another check character
			num = first17 + string("0123456789X"[rapid.IntRange(0, 10).Draw(t, "c")])
		case 2: // an impossible date
			num = num[:10] + "1332" + num[14:]
		case 3: // swap two digits
			i := rapid.IntRange(0, 15).Draw(t, "i")
			b := []byte(num)
			b[i], b[i+1] = b[i+1], b[i]
			num = string(b)
		}
		_, flowErr := flow.ValidateIDNumber(num, now)
		cardErr := idcard.ValidateIDNumber(num)
		if (flowErr == nil) != (cardErr == nil) {
			t.Fatalf("%s: flow says %v, idcard says %v", num, flowErr, cardErr)
		}
		if flowErr == nil && flow.MaskID(num) != idcard.MaskID(num) {
			t.Fatalf("masks differ: %q vs %q", flow.MaskID(num), idcard.MaskID(num))
		}
		if strings.HasSuffix(num, "X") {
			if _, err := flow.ValidateIDNumber(strings.ToLower(num), now); (err == nil) != (flowErr == nil) {
				t.Fatalf("lowercase x treated differently: %v", err)
			}
		}
	})
}
