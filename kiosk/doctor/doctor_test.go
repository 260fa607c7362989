package doctor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/sim"
	"onedoor/kiosk/doctor"
	"onedoor/kiosk/doctor/doctortest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestDoctor(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, r *doctortest.Rig, o *doctor.Options)
		ok    bool
		check string          // the check that must have this status
		want  doctor.Status   // its status
		words string          // in its detail
		also  map[string]bool // other checks that must be ok (true) or not ok
	}{
		{"healthy demo setup", nil, true, "printer", doctor.OK, "ready, paper loaded", nil},
		{"printer out of paper", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.Printer.SetPaperLeft(0)
		}, false, "printer", doctor.Fail, "out of paper — load a new roll", map[string]bool{"idcard": true, "platform": true, "database": true}},
		{"printer without GS r is ready and says how receipts are confirmed", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.Printer.SetGSr(false)
		}, true, "printer", doctor.OK, "ready, paper loaded; it does not answer GS r", nil},
		{"printer cover open", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.Printer.SetCoverOpen(true)
		}, false, "printer", doctor.Fail, "cover open", nil},
		{"printer paper nearly used up warns only", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.Printer.SetPaperLeft(3)
		}, true, "printer", doctor.Warn, "nearly used up", nil},
		{"printer at the wrong baud", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Devices.Printer.Baud = 115200
		}, false, "printer", doctor.Fail, "no answer to a status query at 115200", nil},
		{"ID-card reader silent", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.IDCard.Fault("mute")
		}, false, "idcard", doctor.Fail, "wrong port or baud", map[string]bool{"printer": true}},
		{"device unplugged", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Devices.Scanner.Port = "/dev/onedoor/no-such-scanner"
		}, false, "scanner", doctor.Fail, "is missing", nil},
		{"platform unreachable", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Platform.URL = doctortest.RefusingURL(t)
		}, false, "platform", doctor.Fail, "unreachable at the TCP step: connection refused", map[string]bool{"printer": true, "database": true}},
		{"platform refuses the token", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Platform.Token = strings.Repeat("ab", 32)
		}, false, "platform", doctor.Fail, "HTTP step: platform refused this kiosk (401)", nil},
		{"platform certificate not trusted", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Platform.CAFile = ""
		}, false, "platform", doctor.Fail, "TLS step", nil},
		{"kiosk clock two hours fast", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
		}, false, "clock", doctor.Fail, "2h0m0s ahead", nil},
		{"corrupt database", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.CorruptDatabase(t)
		}, false, "database", doctor.Fail, "cannot be read: file is not a database", map[string]bool{"printer": true, "platform": true}},
		{"damaged page inside the database", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			r.CorruptPage(t)
		}, false, "database", doctor.Fail, "restore it or move it aside", nil},
		{"queue stuck for two days", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Clock = func() time.Time { return time.Now().Add(48 * time.Hour) }
			o.Config.Platform.URL = "" // the clock alone would also fail the platform line
		}, false, "queue", doctor.Fail, "oldest queued submission is 48h", nil},
		{"data key lost", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			os.Remove(o.Config.Storage.KeyFile)
		}, false, "data key", doctor.Fail, "is missing", nil},
		{"data key readable by others", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			os.Chmod(o.Config.Storage.KeyFile, 0o644)
		}, false, "data key", doctor.Fail, "chmod 600", nil},
		{"no sound device: a warning, the kiosk still serves", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Voice.Device = "onedoor_no_such_pcm"
		}, true, "sound", doctor.Warn, `sound device "onedoor_no_such_pcm": absent`, map[string]bool{"printer": true}},
		{"voice switched off", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.Config.Voice.Enabled = false
		}, true, "sound", doctor.Skip, "voice.enabled = false", nil},
		{"devices skipped while the app runs", func(t *testing.T, r *doctortest.Rig, o *doctor.Options) {
			o.SkipDevices = true
			r.Printer.SetPaperLeft(0)
		}, true, "printer", doctor.Skip, "--skip-devices", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := doctortest.New(t)
			o := doctor.Options{Config: r.Config, DeviceTimeout: 3 * time.Second, NetTimeout: 3 * time.Second, Logger: quiet}
			if tc.setup != nil {
				tc.setup(t, r, &o)
			}
			rep := doctor.Run(context.Background(), o)
			if rep.OK() != tc.ok {
				t.Errorf("OK() = %v, want %v", rep.OK(), tc.ok)
			}
			c, found := rep.Get(tc.check)
			if !found || c.Status != tc.want || !strings.Contains(c.Detail, tc.words) {
				t.Errorf("%s = %+v, want %s with %q", tc.check, c, tc.want, tc.words)
			}
			for name, good := range tc.also {
				if c, _ := rep.Get(name); (c.Status == doctor.OK) != good {
					t.Errorf("%s = %+v, want ok=%v", name, c, good)
				}
			}
			if tc.ok {
				for _, c := range rep.Checks {
					if c.Status == doctor.Fail {
						t.Errorf("failed: %+v", c)
					}
				}
			}
			if t.Failed() {
				for _, c := range rep.Checks {
					t.Logf("%-5s %-11s %s", c.Status, c.Name, c.Detail)
				}
			}
		})
	}
}

// TestDevicesFoundByProbing: with no ports configured, doctor looks for
// each device on every candidate port, as the app does at start, and says
// where it found it; a silent port is passed over.
func TestDevicesFoundByProbing(t *testing.T) {
	r := doctortest.New(t)
	silent, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := r.Config
	ports := []string{silent.SlavePath, c.Devices.Scanner.Port, c.Devices.IDCard.Port, c.Devices.Printer.Port}
	want := map[string]string{"printer": c.Devices.Printer.Port, "idcard": c.Devices.IDCard.Port, "scanner": c.Devices.Scanner.Port}
	c.Devices.Printer.Port, c.Devices.IDCard.Port, c.Devices.Scanner.Port = "", "", ""
	c.Devices.Printer.Baud, c.Devices.IDCard.Baud, c.Devices.Scanner.Baud = 0, 0, 0
	rep := doctor.Run(context.Background(), doctor.Options{Config: c, Logger: quiet, Candidates: func() []string { return ports }})
	for name, port := range want {
		got, _ := rep.Get(name)
		if got.Status != doctor.OK || !strings.HasPrefix(got.Detail, port+" at ") || !strings.Contains(got.Detail, "found by probing") {
			t.Errorf("%s = %+v, want ok on %s found by probing", name, got, port)
		}
	}
	// Nothing answering anywhere: each device fails with what to do.
	rep = doctor.Run(context.Background(), doctor.Options{Config: c, Logger: quiet, Candidates: func() []string { return []string{silent.SlavePath} }})
	for name := range want {
		if got, _ := rep.Get(name); got.Status != doctor.Fail || !strings.Contains(got.Detail, "onedoor devices probe") {
			t.Errorf("%s with nothing attached = %+v", name, got)
		}
	}
}

func TestHealthyReportCoversEveryLine(t *testing.T) {
	r := doctortest.New(t)
	rep := doctor.Run(context.Background(), doctor.Options{Config: r.Config, Logger: quiet})
	want := []string{"config", "idcard", "printer", "scanner", "sound", "disk", "database", "queue", "data key", "platform", "clock", "certificate"}
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.Name)
		if c.Status != doctor.OK {
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Detail)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("checks %v, want %v", got, want)
	}
	if rep.QueueDepth != 1 || rep.OldestAgeSec < 0 || rep.FreeDiskBytes <= 0 || rep.CertDaysLeft <= 30 {
		t.Fatalf("figures %+v", rep)
	}
}

func TestMetricsOverLoopback(t *testing.T) {
	r := doctortest.New(t)
	r.Printer.SetPaperLeft(0)
	run := func(ctx context.Context) doctor.Report {
		return doctor.Run(ctx, doctor.Options{Config: r.Config, Logger: quiet})
	}
	exp := doctor.NewExporter(run, time.Hour, nil, quiet)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: exp}
	go srv.Serve(ln)
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(); code != http.StatusServiceUnavailable {
		t.Fatalf("before the first check: %d", code)
	}
	exp.Refresh(context.Background())
	code, body := get()
	if code != 200 {
		t.Fatalf("metrics %d", code)
	}
	for _, want := range []string{
		"onedoor_kiosk_healthy 0\n",
		`onedoor_kiosk_check_failed{check="printer"} 1` + "\n",
		`onedoor_kiosk_check_failed{check="platform"} 0` + "\n",
		"onedoor_kiosk_queue_depth 1\n",
		"# TYPE onedoor_kiosk_disk_free_bytes gauge\n",
		"onedoor_kiosk_certificate_days_left ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// Every sample line is "name{labels} value" with a parsable value.
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || !strings.HasPrefix(line, "onedoor_kiosk_") {
			t.Errorf("bad sample line %q", line)
			continue
		}
		if _, err := strconv.ParseFloat(line[i+1:], 64); err != nil {
			t.Errorf("bad value in %q", line)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:9464", true}, {"[::1]:9464", true}, {"localhost:9464", true},
		{"0.0.0.0:9464", false}, {":9464", false}, {"192.168.1.20:9464", false}, {"9464", false},
	}
	for _, tc := range tests {
		err := doctor.CheckLoopback(tc.addr)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, doctor.ErrNotLoopback)) {
			t.Errorf("CheckLoopback(%q) = %v", tc.addr, err)
		}
	}
}

// BenchmarkRun times a whole report on the healthy rig: three devices
// answering at their bauds over ptys, the database check, TLS to the
// platform. The baseline is the same report without the devices.
func BenchmarkRun(b *testing.B) {
	r := doctortest.New(b)
	for _, skip := range []bool{true, false} {
		name := "with-devices"
		if skip {
			name = "baseline-skip-devices"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if rep := doctor.Run(context.Background(), doctor.Options{Config: r.Config, SkipDevices: skip, Logger: quiet}); !rep.OK() {
					b.Fatalf("unhealthy: %+v", rep.Problems())
				}
			}
		})
	}
}
