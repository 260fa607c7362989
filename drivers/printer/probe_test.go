package printer

import (
	"context"
	"strings"
	"testing"

	"onedoor/drivers/probe"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
)

func TestProberIdentifiesPrinterAtItsBaud(t *testing.T) {
	sp, pt := servePrinter(t, "generic-80", sim.WithPrinterBaud(115200))

	silent, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	sp.SetPaperLeft(2)
	tests := []struct {
		name   string
		path   string
		baud   int
		ok     bool
		detail string
	}{
		{"wrong baud", pt.SlavePath, 9600, false, ""},
		{"right baud", pt.SlavePath, 115200, true, "paper-near-end; answers GS r"},
		{"nothing there", silent.SlavePath, 115200, false, ""},
	}
	var pr Prober
	if pr.Kind() != "printer" || pr.Bauds()[0] != 9600 {
		t.Fatalf("kind %q bauds %v", pr.Kind(), pr.Bauds())
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port, err := serialport.Open(serialport.Config{Path: tc.path, Baud: tc.baud})
			if err != nil {
				t.Fatal(err)
			}
			defer port.Close()
			detail, ok := pr.Identify(context.Background(), port)
			if ok != tc.ok || !strings.Contains(detail, tc.detail) {
				t.Fatalf("Identify = %q, %v; want ok=%v with %q", detail, ok, tc.ok, tc.detail)
			}
		})
	}
}

var _ probe.Prober = Prober{}

// servePrinter runs a simulated printer of profile on a pty until the test
// ends.
func servePrinter(t *testing.T, profile string, opts ...sim.PrinterOption) (*sim.Printer, *sim.PTY) {
	t.Helper()
	sp, pt, _ := simtest.Printer(t, "", simtest.Profile(t, profile), opts...)
	return sp, pt
}

// Through drivers/probe, as `onedoor devices probe` runs it: the printer is
// found on its port at its own baud, a silent port is reported as such.
func TestProbeRunFindsPrinter(t *testing.T) {
	_, pt := servePrinter(t, "generic-58", sim.WithPrinterBaud(19200))
	silent, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	res := probe.Run(context.Background(), []string{pt.SlavePath, silent.SlavePath}, []probe.Prober{Prober{}})
	if res[0].Kind != "printer" || res[0].Baud != 19200 || !strings.Contains(res[0].Detail, "online") {
		t.Errorf("printer port: %+v", res[0])
	}
	if res[1].Kind != "" {
		t.Errorf("silent port: %+v", res[1])
	}
}

// TestProberSaysNoGSr: `onedoor devices probe` tells the technician that
// a printer does not answer GS r, what the driver then does instead.
func TestProberSaysNoGSr(t *testing.T) {
	_, pt := servePrinter(t, "generic-80", sim.WithPrinterBaud(9600), sim.WithoutGSr())
	res := probe.Run(context.Background(), []string{pt.SlavePath}, []probe.Prober{Prober{}})
	if res[0].Kind != "printer" || !strings.Contains(res[0].Detail, "no GS r reply") {
		t.Errorf("printer without GS r: %+v", res[0])
	}
}
