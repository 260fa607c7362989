// Package probe finds which device answers on which serial port at which
// baud. Each device kind brings a Prober; Run opens every candidate port at
// each baud the prober suggests and asks it to identify the device.
//
// Order matters: probers are tried in the order given, and the first that
// identifies a port claims it. Callers put printers first, because the
// frames other probers send would be printed as garbage by a receipt
// printer, whereas a printer's status query is harmless to other devices.
//
// To add a device kind, implement Prober in the driver's own package (see
// idcard.Prober) and pass it to Run; nothing here changes.
package probe

import (
	"context"
	"fmt"
	"sync"
	"time"

	"onedoor/drivers/serialport"
)

// Prober identifies one kind of device.
type Prober interface {
	Kind() string // "idcard", "printer", "scanner"
	Bauds() []int // bauds to try, most likely first
	// Identify sends a harmless query on p, which is open at one of Bauds
	// with its input flushed, and reports whether this kind of device
	// answered, with a short human detail (model, firmware, SAM number).
	// It must give up on its own within about a second, or when ctx ends.
	Identify(ctx context.Context, p *serialport.Port) (detail string, ok bool)
}

// Result says what was found on one port. Kind is "" when no prober
// recognised the device; Detail then says why (no answer, cannot open).
type Result struct {
	Port   string
	Kind   string
	Baud   int
	Detail string
}

// attemptLimit caps one Identify call, so a prober that ignores its own
// timeouts cannot stall the whole probe.
const attemptLimit = 3 * time.Second

// Run probes ports concurrently (each port is independent hardware) and
// returns one Result per port, in the order of ports.
func Run(ctx context.Context, ports []string, probers []Prober) []Result {
	out := make([]Result, len(ports))
	var wg sync.WaitGroup
	for i, path := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probePort(ctx, path, probers)
		}()
	}
	wg.Wait()
	return out
}

func probePort(ctx context.Context, path string, probers []Prober) Result {
	res := Result{Port: path, Detail: "no device answered"}
	for _, pr := range probers {
		for _, baud := range pr.Bauds() {
			if ctx.Err() != nil {
				res.Detail = "probe cancelled"
				return res
			}
			detail, ok, err := try(ctx, path, baud, pr)
			if err != nil {
				// The port itself is unusable; other bauds will not help.
				res.Detail = err.Error()
				return res
			}
			if ok {
				return Result{Port: path, Kind: pr.Kind(), Baud: baud, Detail: detail}
			}
		}
	}
	return res
}

func try(ctx context.Context, path string, baud int, pr Prober) (string, bool, error) {
	p, err := serialport.Open(serialport.Config{Path: path, Baud: baud, TraceBytes: 512})
	if err != nil {
		return "", false, fmt.Errorf("cannot open: %w", err)
	}
	defer p.Close()
	if err := p.Flush(); err != nil {
		return "", false, fmt.Errorf("cannot flush: %w", err)
	}
	actx, cancel := context.WithTimeout(ctx, attemptLimit)
	defer cancel()
	detail, ok := pr.Identify(actx, p)
	return detail, ok, nil
}

// Device kinds, as Prober.Kind returns them.
const (
	KindCard    = "idcard"
	KindPrinter = "printer"
	KindScanner = "scanner"
)
