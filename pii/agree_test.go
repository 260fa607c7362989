package pii_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"onedoor/drivers/idcard"
	"onedoor/kiosk/flow"
	"onedoor/pii"
	"onedoor/sync/api"
)

// TestIDNumberCallersAgree: the card driver (card data), the kiosk flow
// (typed numbers) and the sync API (what the platform accepts) must accept
// exactly the same ID numbers, or a card the reader accepts could be refused
// by the platform, or a number born in 1890 or 2099 would be valid to one and
// not the other. Birth years are drawn from 1850 to 2150 around a fixed
// "now", so both year bounds are crossed.
func TestIDNumberCallersAgree(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		y := rapid.IntRange(1850, 2150).Draw(t, "year")
		m := rapid.IntRange(1, 12).Draw(t, "month")
		d := rapid.IntRange(1, 31).Draw(t, "day")
		birth := fmt.Sprintf("%04d%02d%02d", y, m, d)
		first17 := "110105" + birth + fmt.Sprintf("%03d", rapid.IntRange(0, 999).Draw(t, "seq"))
		check, err := pii.CheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		num := first17 + string(check)
		mutated := true
		switch rapid.IntRange(0, 3).Draw(t, "mutation") {
		case 0:
			mutated = false
		case 1: // another check character
			num = first17 + string("0123456789X"[rapid.IntRange(0, 10).Draw(t, "c")])
			mutated = num[17] != check
		case 2: // swap two digits
			i := rapid.IntRange(0, 15).Draw(t, "i")
			b := []byte(num)
			b[i], b[i+1] = b[i+1], b[i]
			mutated = string(b) != num
			num = string(b)
		case 3: // lowercase x, which only typing produces
			num = strings.Replace(num, "X", "x", 1)
			mutated = strings.HasSuffix(num, "x")
		}

		// What the rule says, worked out from the draw.
		date, dateErr := time.Parse("20060102", birth)
		want := !mutated && dateErr == nil && y >= pii.MinBirthYear && !date.After(now)
		if c, _ := pii.CheckChar(num[:17]); mutated && num[17] == c && num[6:14] == birth {
			want = dateErr == nil && y >= pii.MinBirthYear && !date.After(now) // a swap of equal digits
		}

		piiOK := pii.ValidateIDNumber(num, now) == nil

		_, flowErr := flow.ValidateIDNumber(num, now)
		flowOK := flowErr == nil
		if strings.HasSuffix(num, "x") {
			// The flow accepts a typed lowercase x as X; the others see
			// only card data, which is uppercase.
			flowOK = flowOK && pii.ValidateIDNumber(strings.ToUpper(num), now) == nil
			piiOK = flowOK
			want = flowOK
		}

		sex := "1"
		if (num[16]-'0')%2 == 0 {
			sex = "2"
		}
		card := idcard.Identity{Type: idcard.Resident, Name: "测试", SexCode: sex, NationCode: "01",
			BirthDate: num[6:14], IDNumber: strings.ToUpper(num), ValidFrom: "19990101", ValidTo: idcard.LongTerm}
		cardOK := card.Validate(now) == nil

		req := api.SubmissionRequest{
			UUID: "0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b", Receipt: "K1-20261125-0001", KioskID: "K1",
			ItemID: "hukou-move", ItemVersion: "3", CreatedAt: now,
			Applicant: api.ApplicantData{Name: "测试人", IDNumber: strings.ToUpper(num)},
			Materials: []api.MaterialRef{{MaterialID: "promise", Kind: api.KindPromise}},
		}
		apiOK := req.Validate() == nil

		if piiOK != want || flowOK != want || cardOK != want || apiOK != want {
			t.Fatalf("%s (birth %s): want valid=%v; pii %v, flow %v (%v), card %v (%v), api %v (%v)",
				num, birth, want, piiOK, flowOK, flowErr, cardOK, card.Validate(now), apiOK, req.Validate())
		}
	})
}
