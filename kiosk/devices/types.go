package devices

import (
	"errors"
	"time"

	"onedoor/drivers/probe"
)

// Device kinds, as drivers/probe names them.
const (
	KindCard    = probe.KindCard
	KindPrinter = probe.KindPrinter
	KindScanner = probe.KindScanner
)

// Kinds lists the device kinds in the order screens show them.
func Kinds() []string { return []string{KindCard, KindPrinter, KindScanner} }

// ErrNoDevice is what a device front or test returns when that device is
// not configured (no port) or not open.
var ErrNoDevice = errors.New("devices: device not configured")

// DeviceStatus is one device as the technician sees it.
type DeviceStatus struct {
	Kind    string
	Enabled bool
	Port    string
	Baud    int
	// State is "ok", "absent", "off" (not configured) or "error: …".
	State string
}

// CardResult is a test read, already masked: it is shown on screen.
type CardResult struct {
	Type     string
	Name     string // masked, e.g. 张*明
	IDNumber string // masked, e.g. 4419**********123X
	Expired  bool
}

// PrintResult is a printed test receipt.
type PrintResult struct {
	Bytes int
	Took  time.Duration
}

// ScanResult is a scanned test page.
type ScanResult struct {
	Width, Height, DPI int
	Bytes              int
	Blank, Blurred     bool
	Took               time.Duration
}
