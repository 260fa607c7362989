package sane

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"onedoor/drivers/scanner"
	"onedoor/drivers/scanner/pages"
)

// Real SANE hardware is not available on the build machine. These tests
// check the command line, the parsing of scanimage's output and the error
// mapping, and run the whole Acquire/Scan path against a stand-in
// scanimage script that behaves like the real one on its stdout, stderr
// and exit status.

func TestArgs(t *testing.T) {
	tests := []struct {
		name    string
		device  string
		opts    scanner.Options
		want    []string
		wantErr bool
	}{
		{"defaults", "", scanner.Options{}, []string{"--format=png", "--progress", "--mode=Gray", "--resolution=200", "-l", "0", "-t", "0", "-x", "210", "-y", "297"}, false},
		{"device colour A5", "epson2:libusb:001:004", scanner.Options{DPI: 300, Colour: true, Paper: scanner.A5},
			[]string{"--device-name=epson2:libusb:001:004", "--format=png", "--progress", "--mode=Color", "--resolution=300", "-l", "0", "-t", "0", "-x", "148", "-y", "210"}, false},
		{"bad paper", "", scanner.Options{Paper: "Letter"}, nil, true},
		{"bad dpi", "", scanner.Options{DPI: 20000}, nil, true},
		{"device that is an option", "--help", scanner.Options{}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Args(tc.device, tc.opts)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("args\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseProgress(t *testing.T) {
	tests := []struct {
		line string
		want int64
		ok   bool
	}{
		{"Progress: 0.0%", 0, true},
		{"Progress: 42.5%", 425, true},
		{"Progress: 100.0%", 1000, true},
		{"Progress: 101%", 0, false},
		{"Progress: abc%", 0, false},
		{"scanimage: sane_start: Device busy", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseProgress(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseProgress(%q) = %d, %v; want %d, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		stderr string
		want   error
	}{
		{"scanimage: sane_start: Document feeder out of documents", scanner.ErrNoDocument},
		{"scanimage: sane_read: Document feeder jammed", scanner.ErrPaperJam},
		{"scanimage: sane_start: Scanner cover is open", scanner.ErrCoverOpen},
		{"scanimage: open of device epson2 failed: Invalid argument", scanner.ErrDevice},
		{"", scanner.ErrDevice},
	}
	for _, tc := range tests {
		if err := Classify(tc.stderr, errors.New("exit status 1")); !errors.Is(err, tc.want) {
			t.Errorf("Classify(%q) = %v, want %v", tc.stderr, err, tc.want)
		}
	}
}

func TestParseDeviceList(t *testing.T) {
	out := "epson2:libusb:001:004\x1fEpson\x1fPID 0x0137\x1fflatbed scanner\n" +
		"fujitsu:fi-7160:12345\x1fFUJITSU\x1ffi-7160\x1fscanner\n" +
		"\n" + "garbage line\n"
	want := []Device{
		{"epson2:libusb:001:004", "Epson", "PID 0x0137", "flatbed scanner"},
		{"fujitsu:fi-7160:12345", "FUJITSU", "fi-7160", "scanner"},
	}
	if got := ParseDeviceList([]byte(out)); !slices.Equal(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestNotInstalled(t *testing.T) {
	b := &Backend{Command: filepath.Join(t.TempDir(), "scanimage")}
	if err := b.Available(); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Available = %v", err)
	}
	if _, err := b.Scan(context.Background(), scanner.Options{}, nil); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Scan = %v", err)
	}
}

// fakeScanimage writes a shell script standing in for scanimage: it records
// its arguments, reports progress on stderr as scanimage does (carriage
// returns), then either cats page or prints failure and exits 1.
func fakeScanimage(t *testing.T, page []byte, failure string) (cmd, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	pagePath := filepath.Join(dir, "page.png")
	if err := os.WriteFile(pagePath, page, 0o644); err != nil {
		t.Fatal(err)
	}
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\n" +
		"printf '%s\\n' \"$@\" > '" + argsFile + "'\n" +
		"if [ \"$1\" = \"--formatted-device-list=%d\037%v\037%m\037%t%n\" ]; then printf 'test:dev0\\037Sim\\037Flatbed 1\\037flatbed scanner\\n'; exit 0; fi\n" +
		"printf 'Progress: 0.0%%\\rProgress: 37.5%%\\rProgress: 100.0%%\\r' >&2\n"
	if failure != "" {
		script += "echo 'scanimage: sane_start: " + failure + "' >&2\nexit 1\n"
	} else {
		script += "cat '" + pagePath + "'\n"
	}
	cmd = filepath.Join(dir, "scanimage")
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, argsFile
}

func testPage(t *testing.T) []byte {
	t.Helper()
	g, err := pages.New()
	if err != nil {
		t.Fatal(err)
	}
	img, err := g.Render("form", pages.A4, 100)
	if err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(img.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = img.Pix[4*i+1]
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, gray); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScanThroughStandIn(t *testing.T) {
	cmd, argsFile := fakeScanimage(t, testPage(t), "")
	b := &Backend{Device: "test:dev0", Command: cmd}
	var progress []int64
	page, err := b.Scan(context.Background(), scanner.Options{DPI: 100}, func(done, total int64) {
		if total != 1000 {
			t.Errorf("total %d, want 1000", total)
		}
		progress = append(progress, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int64{0, 375, 1000, 1000}) {
		t.Errorf("progress %v", progress)
	}
	if page.Width != 1241 || page.Height != 1754 || !page.Grey || page.NeedsRescan() {
		t.Errorf("page %dx%d grey=%v rescan=%v", page.Width, page.Height, page.Grey, page.NeedsRescan())
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(args), "--device-name=test:dev0\n") || !strings.Contains(string(args), "--resolution=100\n") {
		t.Errorf("scanimage got args %q", args)
	}
}

func TestScanFailureThroughStandIn(t *testing.T) {
	tests := []struct {
		failure string
		want    error
	}{
		{"Document feeder out of documents", scanner.ErrNoDocument},
		{"Document feeder jammed", scanner.ErrPaperJam},
		{"Device busy", scanner.ErrDevice},
	}
	for _, tc := range tests {
		t.Run(tc.failure, func(t *testing.T) {
			cmd, _ := fakeScanimage(t, nil, tc.failure)
			_, err := (&Backend{Command: cmd}).Scan(context.Background(), scanner.Options{}, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestListThroughStandIn(t *testing.T) {
	cmd, _ := fakeScanimage(t, nil, "")
	devs, err := (&Backend{Command: cmd}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != "test:dev0" || devs[0].Model != "Flatbed 1" {
		t.Fatalf("devices %+v", devs)
	}
}
