package sane

import (
	"errors"
	"strings"
	"testing"

	"onedoor/drivers/scanner"
)

// FuzzScanimageOutput checks the parsers of scanimage's stderr and device
// list on arbitrary text: no panic, progress within 0..1000, every error
// typed, every device named.
func FuzzScanimageOutput(f *testing.F) {
	f.Add("Progress: 42.5%\rProgress: 100.0%\r")
	f.Add("scanimage: sane_start: Document feeder jammed\n")
	f.Add("epson2:libusb:001:004\x1fEpson\x1fPID 0x0137\x1fflatbed scanner\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
			if pm, ok := ParseProgress(strings.TrimSpace(line)); ok && (pm < 0 || pm > 1000) {
				t.Fatalf("progress %d from %q", pm, line)
			}
		}
		if err := Classify(out, nil); !errors.Is(err, scanner.ErrDevice) && !errors.Is(err, scanner.ErrNoDocument) &&
			!errors.Is(err, scanner.ErrPaperJam) && !errors.Is(err, scanner.ErrCoverOpen) {
			t.Fatalf("untyped error %v", err)
		}
		for _, d := range ParseDeviceList([]byte(out)) {
			if d.Name == "" {
				t.Fatal("device without a name")
			}
		}
	})
}
