package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/printer"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/voice"
)

// DeviceLister reports the state of each device; *devices.Manager has it.
type DeviceLister interface {
	Status() []devices.DeviceStatus
}

// PrinterStatus reads the printer's own status; *printer.Printer and
// the printer front of kiosk/devices have it.
type PrinterStatus interface {
	Status(ctx context.Context) (escpos.Status, error)
}

// printerStatusTimeout bounds the status read a heartbeat makes. A
// receipt being printed holds the printer longer than this; the heartbeat
// then reports the state read last time rather than wait for the job.
const printerStatusTimeout = 3 * time.Second

// deviceHealth is what the sync engine's heartbeat says about the
// devices. The devices open after the engine has started (the technician's
// device manager owns them), so the sources arrive later through set.
type deviceHealth struct {
	mu      sync.Mutex
	devs    DeviceLister
	prn     PrinterStatus
	printer string // state last read from the printer itself
	nearEnd bool
	// sound is the sound device's state (kiosk/voice); nil when the kiosk
	// is mute (voice.enabled = false).
	sound func() string
}

func (h *deviceHealth) set(devs DeviceLister, prn PrinterStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.devs, h.prn = devs, prn
	h.printer, h.nearEnd = "", false
}

// Devices maps each configured device to "ok", "absent" or "error: …".
// Devices not configured are left out: nothing is wrong with a scanner a
// service point does not have. A printer whose port is fine is asked for
// its paper and cover, so running out of paper reads "error: printer: out
// of paper", which the platform's fleet page raises as paper out.
func (h *deviceHealth) Devices() map[string]string {
	h.mu.Lock()
	devs, prn, sound := h.devs, h.prn, h.sound
	h.mu.Unlock()
	out := map[string]string{}
	if st := soundState(sound); st != "" {
		out[voice.DeviceKind] = st
	}
	if devs == nil {
		if len(out) == 0 {
			return nil
		}
		return out
	}
	for _, d := range devs.Status() {
		if d.State == "off" {
			continue
		}
		out[d.Kind] = d.State
	}
	if out[devices.KindPrinter] == "ok" && prn != nil {
		out[devices.KindPrinter] = h.readPrinter(prn)
	}
	return out
}

// PaperNearEnd is the printer's paper-near-end sensor as last read.
func (h *deviceHealth) PaperNearEnd() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nearEnd
}

func (h *deviceHealth) readPrinter(prn PrinterStatus) string {
	ctx, cancel := context.WithTimeout(context.Background(), printerStatusTimeout)
	defer cancel()
	st, err := prn.Status(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if errors.Is(err, context.DeadlineExceeded) {
		// Busy printing: what it said last time still stands.
		if h.printer == "" {
			return "ok"
		}
		return h.printer
	}
	if err != nil {
		h.printer = "error: " + err.Error()
		return h.printer
	}
	h.printer, h.nearEnd = printerState(st), st.PaperNearEnd
	return h.printer
}

// printerState names the condition that stops printing, using the
// printer driver's sentinel texts so the platform recognises paper out.
func printerState(st escpos.Status) string {
	var err error
	switch {
	case st.PaperEnd || st.PaperStop:
		err = printer.ErrPaperOut
	case st.CoverOpen:
		err = printer.ErrCoverOpen
	case st.CutterError || st.Unrecoverable:
		err = printer.ErrFault
	case !st.Online:
		err = printer.ErrOffline
	default:
		return "ok"
	}
	return "error: " + err.Error()
}
