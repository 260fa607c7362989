package devdata

import (
	"math/rand/v2"
	"onedoor/internal/testdate"
	"strings"
	"testing"

	"onedoor/pii"
	"onedoor/sync/api"
	"time"
)

func TestIDNumbersValidAndFictional(t *testing.T) {
	for n := range 20000 {
		id := IDNumber(n)
		if !(pii.ValidateIDNumber(id, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil) {
			t.Fatalf("IDNumber(%d) = %s fails the check character", n, id)
		}
		if !strings.HasPrefix(id, "999999") {
			t.Fatalf("IDNumber(%d) = %s is not in the fictional region", n, id)
		}
	}
}

func TestSubmissionShape(t *testing.T) {
	tests := []struct {
		bytes, pages, wantPages int
		kind                    string
	}{
		{0, 1, 0, api.KindPromise},
		{1000, 1, 1, api.KindScan},
		{1000, 3, 3, api.KindScan},
		{2, 3, 3, api.KindScan}, // fewer bytes than pages: one byte each at least
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range tests {
		sub := Submission(rng, 42, tc.bytes, tc.pages)
		m := sub.Materials[0]
		if m.Kind != tc.kind || len(m.Pages) != tc.wantPages {
			t.Errorf("%d bytes over %d pages: kind %s, %d pages", tc.bytes, tc.pages, m.Kind, len(m.Pages))
			continue
		}
		total := 0
		for _, p := range m.Pages {
			total += len(p.Data)
		}
		if tc.bytes >= tc.pages && total != tc.bytes {
			t.Errorf("%d bytes over %d pages: %d bytes stored", tc.bytes, tc.pages, total)
		}
		if !(pii.ValidateIDNumber(sub.Applicant.IDNumber, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil) || sub.Applicant.Name == "" {
			t.Errorf("applicant %+v", sub.Applicant)
		}
	}
}
