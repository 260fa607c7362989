package platform_test

import (
	"onedoor/internal/testdate"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

func TestFleetRules(t *testing.T) {
	now := testdate.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	healthy := func() *api.Heartbeat {
		return &api.Heartbeat{Version: "1.0", Devices: map[string]string{"printer": "ok", "idcard": "ok", "scanner": "ok"},
			QueueDepth: 2, OldestAgeSeconds: 600, FreeDiskBytes: 8 << 30}
	}
	tests := []struct {
		name     string
		lastSeen time.Duration // before now; -1 = never
		hb       func(*api.Heartbeat)
		want     string // alert kinds
		words    string // in the first alert's message
	}{
		{"healthy", 4 * time.Minute, nil, "", ""},
		{"just under the silence threshold", 20 * time.Minute, nil, "", ""},
		{"silent", 21 * time.Minute, nil, "silent", "已失联 21 分钟"},
		{"silent for days", 75 * time.Hour, nil, "silent", "3 天 3 小时"},
		{"never seen", -1, nil, "never_seen", "尚未收到心跳"},
		{"paper out by flag", time.Minute, func(h *api.Heartbeat) { h.PaperOut = true }, "paper_out", "缺纸"},
		{"paper out by device state only", time.Minute, func(h *api.Heartbeat) { h.Devices["printer"] = "error: printer: out of paper" }, "paper_out", "缺纸"},
		{"paper near end is a warning", time.Minute, func(h *api.Heartbeat) { h.PaperNearEnd = true }, "paper_low", "即将用完"},
		{"queue too old", time.Minute, func(h *api.Heartbeat) { h.OldestAgeSeconds = 30 * 3600 }, "queue_old", "最早的已等待 30 小时 0 分钟"},
		{"old age but queue empty", time.Minute, func(h *api.Heartbeat) { h.QueueDepth, h.OldestAgeSeconds = 0, 30*3600 }, "", ""},
		{"disk nearly full", time.Minute, func(h *api.Heartbeat) { h.FreeDiskBytes = 100 << 20 }, "disk_low", "100 MB"},
		{"disk unknown is not an alert", time.Minute, func(h *api.Heartbeat) { h.FreeDiskBytes = 0 }, "", ""},
		{"scanner absent", time.Minute, func(h *api.Heartbeat) { h.Devices["scanner"] = "absent" }, "device_error", "scanner：absent"},
		{"everything at once", 30 * time.Minute, func(h *api.Heartbeat) {
			h.PaperOut, h.OldestAgeSeconds, h.FreeDiskBytes = true, 90000, 1<<20
			h.Devices["printer"] = "error: printer: out of paper"
			h.Devices["idcard"] = "error: no answer"
		}, "silent paper_out queue_old disk_low device_error", "已失联"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := platform.KioskInfo{ID: "K1"}
			if tc.lastSeen >= 0 {
				k.LastSeen = now.Add(-tc.lastSeen)
				k.Heartbeat = healthy()
				if tc.hb != nil {
					tc.hb(k.Heartbeat)
				}
			}
			rows := platform.Fleet([]platform.KioskInfo{k}, now, platform.FleetRules{})
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			r := rows[0]
			if r.AlertKinds() != tc.want {
				t.Fatalf("alerts %q, want %q (%+v)", r.AlertKinds(), tc.want, r.Alerts)
			}
			if tc.words != "" && !strings.Contains(r.Alerts[0].Message, tc.words) {
				t.Fatalf("message %q lacks %q", r.Alerts[0].Message, tc.words)
			}
		})
	}
}

func TestFleetOrderAndCustomRules(t *testing.T) {
	now := testdate.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	hb := func() *api.Heartbeat { return &api.Heartbeat{FreeDiskBytes: 600 << 20} }
	ks := []platform.KioskInfo{
		{ID: "A1", LastSeen: now.Add(-time.Minute), Heartbeat: hb()},
		{ID: "B2", LastSeen: now.Add(-6 * time.Minute), Heartbeat: hb()},
		{ID: "C3"},
	}
	rules := platform.FleetRules{SilentAfter: 5 * time.Minute, MinFreeDisk: 1 << 30}
	rows := platform.Fleet(ks, now, rules)
	var got []string
	for _, r := range rows {
		got = append(got, r.ID+":"+r.AlertKinds())
	}
	if want := "B2:silent disk_low,A1:disk_low,C3:never_seen"; strings.Join(got, ",") != want {
		t.Fatalf("rows %v, want %s", got, want)
	}
}
