package scanner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"onedoor/drivers/serialport"
)

// Prober recognises a OneDoor-protocol scanner for `onedoor devices probe`
// (it satisfies probe.Prober). Its hello frame consists only of control
// bytes an ESC/POS printer ignores and contains no SAM preamble, so sending
// it to a printer or a card reader does nothing.
type Prober struct{}

// Kind names the device kind.
func (Prober) Kind() string { return "scanner" }

// Bauds lists the speeds to try, most likely first.
func (Prober) Bauds() []int { return []int{115200, 921600, 57600, 9600} }

// Identify sends the hello and reports the scanner's own description.
func (Prober) Identify(ctx context.Context, p *serialport.Port) (string, bool) {
	baud := p.Config().Baud
	drv := NewSerial(p, SerialConfig{
		Baud: baud,
		// An IDENT frame is under 80 bytes: 80 byte times plus the
		// device's turnaround, twice over, stays well inside a second.
		ReplyTimeout: 2*80*byteTime(baud) + 250*time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	id, err := drv.helloOnce(ctx)
	if err != nil {
		return "", false
	}
	mode := "grey"
	if id.Colour {
		mode = "colour"
	}
	return fmt.Sprintf("%s; protocol %d, %d–%d dpi %s, chunks up to %d bytes", id.Text, id.Version, id.MinDPI, id.MaxDPI, mode, id.MaxChunk), true
}
