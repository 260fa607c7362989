package app

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"onedoor/drivers/escpos"
	"onedoor/kiosk/i18n"
	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// TestHeartbeatCarriesDevices: wired as the kiosk runs it (stack without
// devices, the technician's device manager opening the three simulators),
// the heartbeats the platform receives over HTTP name each device's
// state and the printer's paper; the platform's fleet rules raise paper
// low, then paper out, as the simulated roll runs down, and clear once
// it is refilled.
func TestHeartbeatCarriesDevices(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	demo, stack := demoStack(t, dir, func(settings *Settings) {
		// Beats as often as the engine wakes, so the test waits on what
		// the platform shows, not on the 5-minute default.
		settings.SyncPoll, settings.HeartbeatEvery = 50*time.Millisecond, 50*time.Millisecond
	})
	fa := test.NewTempApp(t)
	q := &queue{}
	o := RunOptions{Demo: true, DemoDir: filepath.Join(dir, "tech")}
	log, ring := withLogRing(quietLog)
	tech, err := newTechnician(fa, o, i18n.New(), ring, q.post, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tech.close() })
	var d Deps
	if err := tech.attach(ctx, o, demo, stack, &d); err != nil {
		t.Fatal(err)
	}

	// wait returns the kiosk's fleet row once its last heartbeat passes ok.
	wait := func(what string, ok func(hb *api.Heartbeat, row platform.FleetRow) bool) platform.FleetRow {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var last platform.FleetRow
		for {
			q.drain()
			kiosks, err := demoPlatformOf(demo).Store.Kiosks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range platform.Fleet(kiosks, time.Now(), platform.FleetRules{}) {
				if row.ID == demoKioskID && row.Heartbeat != nil {
					last = row
					if ok(row.Heartbeat, row) {
						return row
					}
				}
			}
			if time.Now().After(deadline) {
				var hb any
				if last.Heartbeat != nil {
					hb = *last.Heartbeat
				}
				t.Fatalf("timed out waiting for %s; last heartbeat %+v, alerts %q", what, hb, last.AlertKinds())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	allOK := func(hb *api.Heartbeat) bool {
		return len(hb.Devices) == 3 && hb.Devices["idcard"] == "ok" && hb.Devices["printer"] == "ok" && hb.Devices["scanner"] == "ok"
	}

	row := wait("three devices ok", func(hb *api.Heartbeat, _ platform.FleetRow) bool { return allOK(hb) && !hb.PaperNearEnd })
	if row.AlertKinds() != "" {
		t.Errorf("healthy kiosk has alerts %q", row.AlertKinds())
	}

	demo.Printer.SetPaperLeft(3) // below the near-end sensor
	row = wait("paper near end", func(hb *api.Heartbeat, _ platform.FleetRow) bool { return hb.PaperNearEnd })
	if !allOK(row.Heartbeat) || row.AlertKinds() != platform.AlertPaperLow {
		t.Errorf("near end: devices %v, alerts %q; want all ok and %q", row.Heartbeat.Devices, row.AlertKinds(), platform.AlertPaperLow)
	}

	demo.Printer.SetPaperLeft(0)
	row = wait("paper out", func(hb *api.Heartbeat, _ platform.FleetRow) bool { return hb.Devices["printer"] != "ok" })
	if got := row.Heartbeat.Devices["printer"]; got != "error: printer: out of paper" {
		t.Errorf("printer state %q", got)
	}
	if row.AlertKinds() != platform.AlertPaperOut {
		t.Errorf("paper out: alerts %q, want %q", row.AlertKinds(), platform.AlertPaperOut)
	}

	demo.Refill()
	row = wait("refilled", func(hb *api.Heartbeat, _ platform.FleetRow) bool { return allOK(hb) && !hb.PaperNearEnd })
	if row.AlertKinds() != "" {
		t.Errorf("after the refill: alerts %q", row.AlertKinds())
	}
}

// TestPrinterState: each stopping condition reads as the printer driver's
// error, paper first (an empty roll also takes the printer offline).
func TestPrinterState(t *testing.T) {
	for _, c := range []struct {
		name string
		st   escpos.Status
		want string
	}{
		{"ready", escpos.Status{Online: true}, "ok"},
		{"near end still prints", escpos.Status{Online: true, PaperNearEnd: true}, "ok"},
		{"paper end", escpos.Status{PaperEnd: true, PaperNearEnd: true}, "error: printer: out of paper"},
		{"stopped by paper end", escpos.Status{Online: true, PaperStop: true}, "error: printer: out of paper"},
		{"cover", escpos.Status{CoverOpen: true}, "error: printer: cover open"},
		{"cutter", escpos.Status{Online: true, CutterError: true}, "error: printer: cutter or mechanical error"},
		{"offline", escpos.Status{}, "error: printer: offline"},
	} {
		if got := printerState(c.st); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestHeartbeatStackDevices: a stack that opened the devices itself (no
// technician's manager) reports them too.
func TestHeartbeatStackDevices(t *testing.T) {
	r := newRigWith(t, func(_ *rig, s *Settings) {
		s.SyncPoll, s.HeartbeatEvery = 50*time.Millisecond, 50*time.Millisecond
	})
	want := map[string]string{"idcard": "ok", "printer": "ok", "scanner": "ok"}
	r.settle("a heartbeat naming the three devices", 30*time.Second, func() bool {
		kiosks, err := demoPlatformOf(r.demo).Store.Kiosks(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kiosks {
			if k.ID == demoKioskID && k.Heartbeat != nil && maps.Equal(k.Heartbeat.Devices, want) {
				return true
			}
		}
		return false
	})
}
