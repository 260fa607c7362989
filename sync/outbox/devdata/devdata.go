// Package devdata makes fictional submissions for tests, demos and
// benchmarks (`onedoor dev enqueue`). The names are invented and the ID
// numbers use region code 999999, which no real place has, with a correct
// check character so they pass validation.
package devdata

import (
	"fmt"
	"math/rand/v2"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// IDNumber returns a fictional 18-character ID number for the given
// sequence number: region 999999, a birth date in 1950–1999 and a valid
// check character.
func IDNumber(n int) string {
	year := 1950 + n%50
	month := 1 + (n/50)%12
	day := 1 + (n/600)%28
	body := fmt.Sprintf("999999%04d%02d%02d%03d", year, month, day, n%1000)
	c, err := pii.CheckChar(body)
	if err != nil {
		panic(err) // body is 17 digits by construction
	}
	return body + string(c)
}

// Submission returns fictional submission number n with one scanned
// material of pages pages, attachBytes random bytes in total (at least one
// byte per page when attachBytes > 0; none when 0, and then the material is
// a promise instead of a scan).
func Submission(rng *rand.Rand, n, attachBytes, pages int) outbox.NewSubmission {
	surnames := []string{"测", "试", "甲", "乙", "丙", "丁", "戊"}
	given := []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	name := surnames[n%len(surnames)] + given[(n/len(surnames))%len(given)] + given[rng.IntN(len(given))]
	sub := outbox.NewSubmission{
		ItemID:      "dev-residence-certificate",
		ItemVersion: "1",
		Applicant: outbox.Applicant{
			Name:     name,
			IDNumber: IDNumber(n),
			Phone:    fmt.Sprintf("1990000%04d", n%10000),
		},
		Form: map[string]string{"purpose": "测试用途", "copies": "1"},
	}
	if attachBytes <= 0 || pages <= 0 {
		sub.Materials = []outbox.Material{{MaterialID: "m1", Kind: api.KindPromise}}
		return sub
	}
	m := outbox.Material{MaterialID: "m1", Kind: api.KindScan}
	per := attachBytes / pages
	for i := 0; i < pages; i++ {
		size := per
		if i == pages-1 {
			size = attachBytes - per*(pages-1)
		}
		data := make([]byte, max(size, 1))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		m.Pages = append(m.Pages, outbox.Page{Data: data, ContentType: "application/octet-stream"})
	}
	sub.Materials = []outbox.Material{m}
	return sub
}
