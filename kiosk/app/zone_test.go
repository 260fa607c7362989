package app

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/config"
	"onedoor/sync/outbox/devdata"
)

// TestReceiptNumberDatedInKioskZone: a submission accepted at 19:20 UTC on
// 7 December is accepted at 03:20 on the 8th in Dongguan; its receipt
// number carries the 8th, the date the receipt prints beside it. The
// settings come from the config, as a running kiosk's do; the clock runs
// in UTC, as a kiosk's system clock may.
func TestReceiptNumberDatedInKioskZone(t *testing.T) {
	tests := []struct {
		zone string
		want string
	}{
		{"Asia/Shanghai", "-20261208-"},
		{"UTC", "-20261207-"},
	}
	for _, tc := range tests {
		t.Run(tc.zone, func(t *testing.T) {
			c := config.Default()
			c.Kiosk.TimeZone = tc.zone
			zone := SettingsFromConfig(c).Location
			if zone == nil {
				t.Fatalf("no location from time_zone %q", tc.zone)
			}
			_, stack := demoStack(t, t.TempDir(), func(s *Settings) {
				s.Location = zone
				s.Clock = func() time.Time { return time.Date(2026, 12, 7, 19, 20, 0, 0, time.UTC) }
			})
			sub := devdata.Submission(rand.New(rand.NewPCG(1, 2)), 1, 1, 1)
			rec, err := stack.Store.Submit(context.Background(), sub)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.Number, tc.want) {
				t.Fatalf("receipt %s, want the date %s", rec.Number, tc.want)
			}
		})
	}
}
