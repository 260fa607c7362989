// Package serialport opens serial devices through github.com/tarm/serial and
// adds what every OneDoor driver needs on top of it: reads bounded by a
// context and a deadline, resynchronisation on a preamble, reconnection when a
// USB adapter is unplugged and plugged back, and a byte trace for technicians.
package serialport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tarm/serial"
)

// ErrTimeout is returned when the device did not send the expected bytes
// before the deadline.
var ErrTimeout = errors.New("serial: timed out waiting for device")

// Config says which port to open and how.
type Config struct {
	Path string // e.g. /dev/ttyUSB0 or /dev/onedoor/idcard
	Baud int    // e.g. 115200
	// ReadTimeout bounds one underlying read; tarm rounds it to 100 ms steps.
	// Zero means 100 ms, which keeps reads responsive to context cancellation.
	ReadTimeout time.Duration
}

// Port is an open serial port.
type Port struct {
	cfg Config
	sp  *serial.Port
}

// Open opens the port described by cfg.
func Open(cfg Config) (*Port, error) {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 100 * time.Millisecond
	}
	sp, err := serial.OpenPort(&serial.Config{Name: cfg.Path, Baud: cfg.Baud, ReadTimeout: cfg.ReadTimeout})
	if err != nil {
		return nil, fmt.Errorf("open %s at %d baud: %w", cfg.Path, cfg.Baud, err)
	}
	return &Port{cfg: cfg, sp: sp}, nil
}

// Config returns the configuration the port was opened with.
func (p *Port) Config() Config { return p.cfg }

// Read reads what is available, waiting at most the read timeout. tarm
// reports an expired read timeout as (0, io.EOF); Read turns that into (0, nil)
// so callers can tell "nothing yet" from a real error.
func (p *Port) Read(b []byte) (int, error) {
	n, err := p.sp.Read(b)
	if n == 0 && errors.Is(err, io.EOF) {
		return 0, nil
	}
	return n, err
}

// Write writes b to the device.
func (p *Port) Write(b []byte) (int, error) { return p.sp.Write(b) }

// Close closes the port.
func (p *Port) Close() error { return p.sp.Close() }

// ReadFull fills buf, or fails with ErrTimeout once deadline passes, or with
// ctx's error when ctx ends first.
func (p *Port) ReadFull(ctx context.Context, buf []byte, deadline time.Time) error {
	got := 0
	for got < len(buf) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return fmt.Errorf("%w: got %d of %d bytes", ErrTimeout, got, len(buf))
		}
		n, err := p.Read(buf[got:])
		got += n
		if err != nil {
			return fmt.Errorf("read %s: %w", p.cfg.Path, err)
		}
	}
	return nil
}
