package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/drivers/sim"
)

// simScanner serves a simulated scanner on a pty for the duration of t.
func simScanner(t *testing.T) (*sim.Scanner, string) {
	t.Helper()
	pt, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewScanner(sim.WithScannerBaud(921600))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ctx, pt)
	}()
	t.Cleanup(func() {
		cancel()
		pt.Close()
		<-done
	})
	return s, pt.SlavePath
}

func TestDevicesScanTest(t *testing.T) {
	s, port := simScanner(t)
	dir := t.TempDir()
	tests := []struct {
		name     string
		prepare  []string // devsim console command
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"no flags", nil, nil, exitUsage, "", "want --out FILE"},
		{"bad paper", nil, []string{"--port", port, "--out", "x.jpg", "--paper", "B5"}, exitUsage, "", "unknown paper"},
		{"empty feeder", nil, []string{"--port", port, "--baud", "921600", "--dpi", "100", "--out", filepath.Join(dir, "none.jpg")}, exitDevice, "SIM-A4", "no document"},
		{"unwritable output, sheet kept", []string{"feed", "certificate"}, []string{"--port", port, "--out", filepath.Join(dir, "missing", "x.jpg")}, exitUsage, "", "cannot write the output file"},
		{"the kept sheet scans", nil, []string{"--port", port, "--baud", "921600", "--dpi", "100", "--colour", "--out", filepath.Join(dir, "cert.jpg")}, exitOK, "colour", ""},
		{"form", []string{"feed", "form"}, []string{"--port", port, "--baud", "921600", "--dpi", "100", "--out", filepath.Join(dir, "form.jpg")}, exitOK, ": OK", "scanning 100%"},
		{"blank asks for rescan", []string{"feed", "blank"}, []string{"--port", port, "--baud", "921600", "--dpi", "100", "--out", filepath.Join(dir, "blank.jpg")}, exitFailure, "RESCAN (blank page)", ""},
		{"jam", []string{"fault", "jam"}, []string{"--port", port, "--baud", "921600", "--dpi", "100", "--out", filepath.Join(dir, "jam.jpg")}, exitDevice, "", "paper jam"},
		{"wrong baud", nil, []string{"--port", port, "--baud", "9600", "--out", filepath.Join(dir, "x.jpg"), "--timeout", "3s"}, exitTimeout, "", "no OneDoor scanner answered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				if _, err := s.Command(tc.prepare); err != nil {
					t.Fatal(err)
				}
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"devices", "scan-test"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.wantOut)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.wantErr)
			}
		})
	}
	// The page written is a real JPEG at the target resolution.
	f, err := os.Open(filepath.Join(dir, "form.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil || cfg.Width != 1241 || cfg.Height != 1754 {
		t.Fatalf("form.jpg: %+v %v", cfg, err)
	}
}

func TestDevicesScanTestJSON(t *testing.T) {
	s, port := simScanner(t)
	if _, err := s.Command([]string{"feed", "blurred"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "b.jpg")
	code := run(context.Background(), []string{"devices", "scan-test", "--port", port, "--baud", "921600", "--dpi", "100", "--out", out, "--json"}, &stdout, &stderr)
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep struct {
		Blurred  bool `json:"blurred"`
		Blank    bool `json:"blank"`
		Transfer struct {
			Bytes int64 `json:"bytes"`
		} `json:"transfer"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if !rep.Blurred || rep.Blank || rep.Transfer.Bytes == 0 {
		t.Errorf("report %+v", rep)
	}
}

// Real SANE hardware is not available here: a stand-in scanimage on PATH
// answers like the real one (device list, progress on stderr, PNG on
// stdout), which exercises the --sane path of the command end to end.
func TestDevicesScanTestSANE(t *testing.T) {
	bin := t.TempDir()
	page := filepath.Join(bin, "page.png")
	img := image.NewGray(image.Rect(0, 0, 827, 1169)) // A4 at 100 dpi, blank paper
	for i := range img.Pix {
		img.Pix[i] = 245
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n" +
		"case \"$1\" in --formatted-device-list=*) printf 'test:usb0\\037Acme\\037Flatbed 9\\037flatbed scanner\\n'; exit 0;; esac\n" +
		"printf 'Progress: 50.0%%\\rProgress: 100.0%%\\r' >&2\ncat '" + page + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "scanimage"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out := filepath.Join(t.TempDir(), "sane.jpg")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"list", []string{"--sane", "--list"}, exitOK, "test:usb0\tAcme Flatbed 9 (flatbed scanner)"},
		{"list without sane", []string{"--list"}, exitUsage, ""},
		{"blank page through SANE", []string{"--sane", "--device", "test:usb0", "--dpi", "100", "--out", out}, exitFailure, "RESCAN (blank page)"},
		{"both port and sane", []string{"--sane", "--port", "/dev/null", "--out", out}, exitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"devices", "scan-test"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantOut) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout.String(), stderr.String())
			}
		})
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no JPEG written: %v", err)
	}
}
