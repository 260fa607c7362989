package printer

import (
	"context"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/sim"
)

// TestPrinterWithoutGSr: a printer whose profile says transmit_status but
// that never answers GS r (it answers DLE EOT) prints a receipt, and the
// driver reports success within 3 s of the last byte, not after the 30 s
// DoneTimeout with an error for a receipt that printed. Probe finds out
// and records it; a printer that answers GS r is recorded as such and its
// jobs end on the reply. Over a real pty against drivers/sim.
func TestPrinterWithoutGSr(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []sim.PrinterOption
		wantGSr bool
	}{
		{"never answers GS r", []sim.PrinterOption{sim.WithoutGSr()}, false},
		{"answers GS r", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "generic-80", 115200, tc.opts...)
			if !r.drv.Profile().TransmitStatus {
				t.Fatal("generic-80 must claim transmit_status for this test to mean anything")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			caps, err := r.drv.Probe(ctx)
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			if !caps.Probed || !caps.RealtimeStatus || caps.TransmitStatus != tc.wantGSr {
				t.Fatalf("probe found %+v, want GS r %v", caps, tc.wantGSr)
			}
			if got := r.drv.Capabilities(); got != caps {
				t.Errorf("recorded %+v, probe said %+v", got, caps)
			}
			prog, err := r.drv.Print(ctx, SampleReceipt())
			done := time.Now()
			if err != nil {
				t.Fatalf("print: %v", err)
			}
			if !prog.Printed || prog.BytesSent != prog.BytesTotal {
				t.Fatalf("progress %+v", prog)
			}
			pages := r.sim.Pages()
			if len(pages) != 1 || !pages[0].Cut || !strings.Contains(pages[0].Text, SampleReceipt().Number) {
				t.Fatalf("want the receipt on one cut page, got %d pages", len(pages))
			}
			st := r.sim.Stats()
			after := done.Sub(st.LastDataAt)
			t.Logf("success reported %v after the last byte (GS r answered %d, ignored %d)", after.Round(time.Millisecond), st.GSr, st.GSrIgnored)
			if after > 3*time.Second {
				t.Errorf("success reported %v after the last byte; want within 3 s", after)
			}
			if !tc.wantGSr && st.GSrIgnored != 1 {
				t.Errorf("GS r sent %d times to a printer that ignores it; only the probe should ask", st.GSrIgnored)
			}
		})
	}
}

// TestFirstJobProbes: a job on a printer nobody probed finds out first,
// so even the first receipt on a printer without GS r does not stall.
func TestFirstJobProbes(t *testing.T) {
	r := newRig(t, "generic-80", 115200, sim.WithoutGSr())
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := r.drv.Print(ctx, SampleReceipt()); err != nil {
		t.Fatalf("print: %v", err)
	}
	if c := r.drv.Capabilities(); !c.Probed || c.TransmitStatus {
		t.Errorf("after the first job: %+v, want probed without GS r", c)
	}
	if d := time.Since(r.sim.Stats().LastDataAt); d > 3*time.Second {
		t.Errorf("first job reported %v after its last byte (took %v)", d, time.Since(start))
	}
}
