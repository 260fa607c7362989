package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/kiosk/config"
	"onedoor/kiosk/doctor/doctortest"
)

// TestDoctorCommand runs `onedoor doctor` on a healthy demo setup (three
// simulated devices on ptys, a real outbox, the platform over TLS on
// loopback) and then with one thing broken at a time: each must give exit 1
// and name the reason in words.
func TestDoctorCommand(t *testing.T) {
	tests := []struct {
		name   string
		breakf func(t *testing.T, r *doctortest.Rig)
		code   int
		line   string // "STATUS check words…" as one line of stdout shows it, spaces collapsed
		stderr string
	}{
		{"healthy", nil, exitOK, "OK printer /dev/", ""},
		{"printer out of paper", func(t *testing.T, r *doctortest.Rig) { r.Printer.SetPaperLeft(0) },
			exitFailure, "FAIL printer ", "1 problem(s): printer"},
		{"platform unreachable", func(t *testing.T, r *doctortest.Rig) { r.Platform.Close() },
			exitFailure, "FAIL platform ", "problem(s): platform"},
		{"corrupt database", func(t *testing.T, r *doctortest.Rig) { r.CorruptDatabase(t) },
			exitFailure, "FAIL database ", "1 problem(s): database"},
	}
	words := map[string]string{
		"printer out of paper": "out of paper — load a new roll",
		"platform unreachable": "unreachable at the TCP step: connection refused",
		"corrupt database":     "cannot be read: file is not a database",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := doctortest.New(t)
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := config.Save(path, r.Config); err != nil {
				t.Fatal(err)
			}
			if tc.breakf != nil {
				tc.breakf(t, r)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"doctor", "--config", path, "--timeout", "3s"}, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			found := false
			for _, l := range strings.Split(out.String(), "\n") {
				l = strings.Join(strings.Fields(l), " ")
				if strings.HasPrefix(l, tc.line) && strings.Contains(l, words[tc.name]) {
					found = true
				}
			}
			if !found || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("output lacks a line %q…%q / stderr %q", tc.line, words[tc.name], tc.stderr)
			}
			if tc.code == exitOK && strings.Contains(out.String(), "FAIL") {
				t.Errorf("healthy setup has a failing line")
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			}
		})
	}
}

func TestDoctorCommandJSONAndUsage(t *testing.T) {
	r := doctortest.New(t)
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := config.Save(path, r.Config); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"doctor", "--config", path, "--json", "--skip-devices"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct{ Name, Status, Detail string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !rep.OK || len(rep.Checks) != 12 || rep.Checks[2].Status != "skip" || rep.Checks[4].Name != "sound" {
		t.Fatalf("json report %+v (%v): %s", rep, err, out.String())
	}
	for _, args := range [][]string{{"doctor", "extra"}, {"doctor", "--serve", "0.0.0.0:9464"}, {"doctor", "--nope"}} {
		if code := run(context.Background(), args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"doctor", "--config", filepath.Join(t.TempDir(), "missing.toml"), "--skip-devices"}, &out, &errb); code != exitFailure ||
		!strings.Contains(out.String(), "missing.toml does not exist") {
		t.Errorf("missing config: exit %d, %s", code, out.String())
	}
}

// lockedBuffer is written by the command's goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDoctorServeMetrics runs `onedoor doctor --serve 127.0.0.1:0` as the
// metrics service does and scrapes it over loopback until interrupted.
func TestDoctorServeMetrics(t *testing.T) {
	r := doctortest.New(t)
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := config.Save(path, r.Config); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"doctor", "--config", path, "--serve", "127.0.0.1:0", "--interval", "5s"}, &out, &errb)
	}()
	addrRE := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/metrics`)
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(body, "onedoor_kiosk_healthy") {
		time.Sleep(100 * time.Millisecond)
		m := addrRE.FindStringSubmatch(out.String())
		if m == nil {
			continue
		}
		resp, err := http.Get("http://" + m[1] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			body = string(b)
		}
	}
	for _, want := range []string{"onedoor_kiosk_healthy 1\n", `onedoor_kiosk_check_failed{check="platform"} 0`, "onedoor_kiosk_queue_depth 1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s\nstderr: %s", want, body, errb.String())
		}
	}
	// The app owns the serial ports: the exporter leaves them alone.
	if strings.Contains(body, `check="printer"`) {
		t.Errorf("exporter checked the devices:\n%s", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after interrupt", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("doctor --serve did not stop on interrupt")
	}
}
