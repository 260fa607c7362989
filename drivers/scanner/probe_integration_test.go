package scanner

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/probe"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
)

// TestProbeFindsScannerAmongOtherDevices runs the real probe over three
// ptys holding a printer, a card reader and a scanner simulator. The
// scanner prober runs before the card reader's, so the card reader gets
// our hello first and must still be recognised afterwards.
func TestProbeFindsScannerAmongOtherDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("probes every baud on three ports")
	}
	pr, printerPTY, _ := simtest.Printer(t, "", simtest.Profile(t, ""), sim.WithLogger(slog.New(slog.DiscardHandler)))
	ports := []string{
		printerPTY.SlavePath,
		servePTY(t, sim.NewIDCard(sim.IDCardConfig{Logger: slog.New(slog.DiscardHandler)}).Serve),
		servePTY(t, sim.NewScanner(sim.WithScannerBaud(115200)).Serve),
	}
	results := probe.Run(context.Background(), ports, []probe.Prober{printer.Prober{}, Prober{}, idcard.Prober{}})
	want := []struct {
		kind   string
		detail string
	}{{"printer", "ESC/POS"}, {"idcard", ""}, {"scanner", "SIM-A4"}}
	for i, r := range results {
		t.Logf("%s: %s at %d baud: %s", r.Port, r.Kind, r.Baud, r.Detail)
		if r.Kind != want[i].kind || !strings.Contains(r.Detail, want[i].detail) {
			t.Errorf("port %d: %+v, want %s", i, r, want[i].kind)
		}
	}
	if len(pr.Pages()) != 0 {
		t.Errorf("probing printed %d pages", len(pr.Pages()))
	}
}
