package printer

import (
	"context"
	"fmt"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/serialport"
)

// Prober recognises an ESC/POS printer for drivers/probe: it sends DLE EOT
// 1, which is harmless to other devices, and looks for a reply with the
// fixed bits 0xx1xx10.
type Prober struct{}

// Kind is "printer".
func (Prober) Kind() string { return "printer" }

// Bauds lists the factory defaults of kiosk printers, most common first.
func (Prober) Bauds() []int { return []int{9600, 115200, 19200, 38400} }

// Identify asks for status and reports it, and whether the printer
// answers GS r (Capabilities.TransmitStatus: without it a job's end is
// judged by real-time status).
func (Prober) Identify(ctx context.Context, port *serialport.Port) (string, bool) {
	var st escpos.Status
	b, ok := probeQuery(ctx, port, 1, 600*time.Millisecond)
	if !ok {
		return "", false
	}
	_ = st.Apply(1, b)
	// Cover and paper only add detail: the printer is identified already.
	for _, n := range []int{2, 4} {
		if b, ok := probeQuery(ctx, port, n, 200*time.Millisecond); ok {
			_ = st.Apply(n, b)
		}
	}
	gsr := "answers GS r"
	if !probeGSr(ctx, port, 500*time.Millisecond) {
		gsr = "no GS r reply: jobs end by real-time status"
	}
	return fmt.Sprintf("ESC/POS printer (%s; %s)", st.String(), gsr), true
}

// probeGSr sends GS r 1 to an idle printer and reports whether a reply of
// the GS r pattern comes within wait.
func probeGSr(ctx context.Context, port *serialport.Port, wait time.Duration) bool {
	if _, err := port.Write(escpos.TransmitPaperStatus()); err != nil {
		return false
	}
	var sc escpos.ReplyScanner
	deadline := time.Now().Add(wait)
	buf := make([]byte, 1)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		k, err := port.Read(buf)
		if err != nil {
			return false
		}
		if k == 1 && sc.Next(buf[0]) == escpos.ReplyBuffered {
			return true
		}
	}
	return false
}

// probeQuery sends DLE EOT n and reads one reply byte within wait,
// skipping XON/XOFF and other bytes that cannot be a reply.
func probeQuery(ctx context.Context, port *serialport.Port, n int, wait time.Duration) (byte, bool) {
	if _, err := port.Write(escpos.StatusQuery(n)); err != nil {
		return 0, false
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 1)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		k, err := port.Read(buf)
		if err != nil {
			return 0, false
		}
		if k == 1 && escpos.IsRealtimeReply(buf[0]) {
			return buf[0], true
		}
	}
	return 0, false
}
