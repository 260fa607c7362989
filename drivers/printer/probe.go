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

// Identify asks for status and reports it.
func (Prober) Identify(ctx context.Context, port *serialport.Port) (string, bool) {
	var st escpos.Status
	for _, n := range []int{1, 2, 4} {
		b, ok := probeQuery(ctx, port, n)
		if !ok {
			return "", false
		}
		_ = st.Apply(n, b)
	}
	return fmt.Sprintf("ESC/POS printer (%s)", st.String()), true
}

// probeQuery sends DLE EOT n and reads one reply byte within 400 ms,
// skipping XON/XOFF and other bytes that cannot be a reply.
func probeQuery(ctx context.Context, port *serialport.Port, n int) (byte, bool) {
	if _, err := port.Write(escpos.StatusQuery(n)); err != nil {
		return 0, false
	}
	deadline := time.Now().Add(400 * time.Millisecond)
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
