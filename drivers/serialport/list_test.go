package serialport

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestListCandidates(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev")
	sys := filepath.Join(dir, "sys")
	for _, d := range []string{dev, filepath.Join(dev, "by-id"), filepath.Join(sys, "ttyS0"), filepath.Join(sys, "ttyS1")} {
		os.MkdirAll(d, 0o755)
	}
	for _, f := range []string{"ttyS0", "ttyS1", "ttyUSB0", "ttyACM3"} {
		os.WriteFile(filepath.Join(dev, f), nil, 0o644)
	}
	os.WriteFile(filepath.Join(sys, "ttyS0", "type"), []byte("4\n"), 0o644) // a 16550A
	os.WriteFile(filepath.Join(sys, "ttyS1", "type"), []byte("0\n"), 0o644) // nothing there
	os.Symlink(filepath.Join(dev, "ttyUSB0"), filepath.Join(dev, "by-id", "usb-CH340-if00"))
	os.Symlink(filepath.Join(dev, "gone"), filepath.Join(dev, "by-id", "usb-dangling"))

	patterns := []string{dev + "/ttyS*", dev + "/ttyUSB*", dev + "/ttyACM*", dev + "/by-id/*"}
	got := listCandidates(patterns, []string{dev + "/ttyUSB0", "/nonexistent/onedoor-idcard"}, sys)
	want := []Candidate{
		{Path: dev + "/ttyS0", Exists: true},
		{Path: dev + "/ttyUSB0", Exists: true},
		{Path: dev + "/ttyACM3", Exists: true},
		{Path: dev + "/by-id/usb-CH340-if00", Target: dev + "/ttyUSB0", Exists: true},
		{Path: "/nonexistent/onedoor-idcard"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}
