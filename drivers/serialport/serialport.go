// Package serialport opens serial devices through github.com/tarm/serial and
// adds what every OneDoor driver needs on top of it: reads bounded by a
// context and a deadline, resynchronisation on a preamble, reconnection when a
// USB adapter is unplugged and plugged back, and a byte trace for technicians.
//
// A Port reconnects lazily: when the device node vanishes (a read returns
// end-of-file at once instead of after the read timeout, or a write fails),
// the port drops its file descriptor and reports StatusAbsent; every later
// Read, Write or ReadFull first tries to reopen the same path, at most once
// per backoff step (50 ms doubling to 500 ms), and fails with ErrDisconnected
// while the device is gone. Drivers poll continuously, so a replugged device
// is back within one backoff step of reappearing. A stable path (a udev
// symlink under /dev/serial/by-id or a configured name) follows the device
// across replugs; a kernel name such as /dev/ttyUSB0 may not.
package serialport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/tarm/serial"
)

// ErrTimeout is returned when the device did not send the expected bytes
// before the deadline.
var ErrTimeout = errors.New("serial: timed out waiting for device")

// ErrDisconnected is returned by reads and writes while the device is absent
// or failing; the port keeps trying to reopen it.
var ErrDisconnected = errors.New("serial: device disconnected")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("serial: port closed")

// Config says which port to open and how.
type Config struct {
	Path string // e.g. /dev/ttyUSB0 or /dev/onedoor/idcard
	Baud int    // e.g. 115200
	// ReadTimeout bounds one underlying read; tarm rounds it to 100 ms steps.
	// Zero means 100 ms, which keeps reads responsive to context cancellation.
	ReadTimeout time.Duration

	// AllowAbsent makes Open succeed when the device is not there yet; the
	// port starts in StatusAbsent and opens the device once it appears.
	AllowAbsent bool
	// TraceBytes is how many recent bytes (in and out together) the trace
	// ring keeps. Zero means 4096.
	TraceBytes int
	// Tap, if set, sees every chunk read or written, as it happens (the live
	// trace of `onedoor devices trace`). It runs on the caller's goroutine
	// and must not block.
	Tap func(Record)
	// OnState, if set, is called after every change of State. It runs on
	// the goroutine that noticed the change and must not block.
	OnState func(State)
}

// Status is the coarse health of a port.
type Status int

const (
	StatusOK     Status = iota // open and answering the OS
	StatusAbsent               // the device node is gone (unplugged)
	StatusError                // the node exists but cannot be used
	StatusClosed               // Close was called
)

// State is what technicians and the UI see about a port.
type State struct {
	Status Status
	Err    error // why, for StatusAbsent and StatusError
	Since  time.Time
}

// String renders the state as "ok", "absent", "error: …" or "closed".
func (s State) String() string {
	switch s.Status {
	case StatusOK:
		return "ok"
	case StatusAbsent:
		return "absent"
	case StatusClosed:
		return "closed"
	default:
		if s.Err != nil {
			return "error: " + s.Err.Error()
		}
		return "error"
	}
}

const (
	backoffMin = 50 * time.Millisecond
	backoffMax = 500 * time.Millisecond
	// A read that ends with no data this long before its timeout did not
	// wait at all: the tty was hung up under us.
	hangupSlack = 30 * time.Millisecond
)

// Port is a serial port that reopens itself when its device comes back.
// Reads (Read, ReadFull, Resync) belong to one goroutine at a time; writes
// may come from another (full duplex); Flush, State, Trace and Close may be
// called from any goroutine.
type Port struct {
	cfg   Config
	trace *Trace
	wait  time.Duration // what tarm really waits per read: whole 100 ms steps

	mu      sync.Mutex
	sp      *serial.Port // nil while disconnected
	state   State
	nextTry time.Time
	backoff time.Duration

	// pending holds bytes read past a preamble by Resync; Read hands them
	// out before touching the device. Guarded by mu: a Write on another
	// goroutine may reconnect and drop it.
	pending []byte
}

// Open opens the port described by cfg.
func Open(cfg Config) (*Port, error) {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 100 * time.Millisecond
	}
	if cfg.TraceBytes <= 0 {
		cfg.TraceBytes = 4096
	}
	wait := max(cfg.ReadTimeout.Truncate(100*time.Millisecond), 100*time.Millisecond)
	p := &Port{cfg: cfg, trace: NewTrace(cfg.TraceBytes), wait: wait}
	sp, err := p.openDevice()
	if err != nil {
		if !cfg.AllowAbsent {
			return nil, err
		}
		p.markDown(nil, err)
		return p, nil
	}
	p.sp = sp
	p.state = State{Status: StatusOK, Since: time.Now()}
	return p, nil
}

func (p *Port) openDevice() (*serial.Port, error) {
	sp, err := serial.OpenPort(&serial.Config{Name: p.cfg.Path, Baud: p.cfg.Baud, ReadTimeout: p.cfg.ReadTimeout})
	if err != nil {
		return nil, fmt.Errorf("open %s at %d baud: %w", p.cfg.Path, p.cfg.Baud, err)
	}
	return sp, nil
}

// Config returns the configuration the port was opened with.
func (p *Port) Config() Config { return p.cfg }

// Trace returns the ring of the most recent bytes in and out.
func (p *Port) Trace() *Trace { return p.trace }

// State reports whether the device is there and usable.
func (p *Port) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// setState records a new state and reports whether it changed. Callers
// hold p.mu and call notify after unlocking.
func (p *Port) setState(st Status, err error) bool {
	if p.state.Status == st && errors.Is(p.state.Err, err) && (err == nil) == (p.state.Err == nil) {
		return false
	}
	p.state = State{Status: st, Err: err, Since: time.Now()}
	return true
}

func (p *Port) notify(changed bool) {
	if changed && p.cfg.OnState != nil {
		p.cfg.OnState(p.State())
	}
}

// markDown drops the device handle sp (if it is still the current one) and
// schedules a reopen.
func (p *Port) markDown(sp *serial.Port, cause error) {
	p.mu.Lock()
	if p.state.Status == StatusClosed || (sp != nil && p.sp != sp) {
		p.mu.Unlock()
		return
	}
	if p.sp != nil {
		_ = p.sp.Close()
		p.sp = nil
	}
	p.backoff = backoffMin
	p.nextTry = time.Now().Add(p.backoff)
	st := StatusError
	if _, err := os.Stat(p.cfg.Path); errors.Is(cause, errHangup) || errors.Is(err, fs.ErrNotExist) {
		// The node went away with the device: unplugged, not broken.
		st = StatusAbsent
	}
	changed := p.setState(st, cause)
	p.mu.Unlock()
	p.notify(changed)
}

var errHangup = errors.New("device hung up")

// conn returns the open device, reopening it if its backoff step has come.
func (p *Port) conn() (*serial.Port, error) {
	p.mu.Lock()
	if p.state.Status == StatusClosed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if p.sp != nil {
		sp := p.sp
		p.mu.Unlock()
		return sp, nil
	}
	if time.Now().Before(p.nextTry) {
		err := p.state.Err
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %s: %w", ErrDisconnected, p.cfg.Path, err)
	}
	sp, err := p.openDevice()
	var changed bool
	if err != nil {
		p.backoff = min(2*p.backoff, backoffMax)
		p.nextTry = time.Now().Add(p.backoff)
		st := StatusError
		if errors.Is(err, fs.ErrNotExist) {
			st = StatusAbsent
		}
		changed = p.setState(st, err)
		p.mu.Unlock()
		p.notify(changed)
		return nil, fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	p.sp = sp
	p.backoff = 0
	p.pending = nil
	changed = p.setState(StatusOK, nil)
	p.mu.Unlock()
	p.notify(changed)
	return sp, nil
}

// Read reads what is available, waiting at most the read timeout. tarm
// reports an expired read timeout as (0, io.EOF); Read turns that into (0, nil)
// so callers can tell "nothing yet" from a real error. While the device is
// absent Read fails with ErrDisconnected.
func (p *Port) Read(b []byte) (int, error) {
	// Under the lock: a Write on another goroutine (the printer driver
	// reads and writes full duplex) may reconnect and reset pending.
	p.mu.Lock()
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		p.mu.Unlock()
		return n, nil
	}
	p.mu.Unlock()
	sp, err := p.conn()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	n, err := sp.Read(b)
	if n > 0 {
		p.record(In, b[:n])
	}
	if n == 0 && errors.Is(err, io.EOF) {
		// An honest timeout takes the whole read timeout; an instant EOF is a
		// hung-up tty whose device has gone away.
		if time.Since(start) < p.wait-hangupSlack {
			p.markDown(sp, fmt.Errorf("%s: %w", p.cfg.Path, errHangup))
			return 0, fmt.Errorf("%w: %s: %w", ErrDisconnected, p.cfg.Path, errHangup)
		}
		return 0, nil
	}
	if err != nil {
		p.markDown(sp, err)
		return n, fmt.Errorf("%w: read %s: %w", ErrDisconnected, p.cfg.Path, err)
	}
	return n, nil
}

// Write writes b to the device.
func (p *Port) Write(b []byte) (int, error) {
	sp, err := p.conn()
	if err != nil {
		return 0, err
	}
	n, err := sp.Write(b)
	if n > 0 {
		p.record(Out, b[:n])
	}
	if err != nil {
		p.markDown(sp, err)
		return n, fmt.Errorf("%w: write %s: %w", ErrDisconnected, p.cfg.Path, err)
	}
	return n, nil
}

func (p *Port) record(d Dir, b []byte) {
	r := p.trace.Add(d, b)
	if p.cfg.Tap != nil {
		p.cfg.Tap(r)
	}
}

// Flush discards bytes received but not yet read, so that the next answer
// read belongs to the next command.
func (p *Port) Flush() error {
	p.mu.Lock()
	p.pending = nil
	p.mu.Unlock()
	sp, err := p.conn()
	if err != nil {
		return err
	}
	if err := sp.Flush(); err != nil {
		p.markDown(sp, err)
		return fmt.Errorf("%w: flush %s: %w", ErrDisconnected, p.cfg.Path, err)
	}
	return nil
}

// Close closes the port for good.
func (p *Port) Close() error {
	p.mu.Lock()
	sp := p.sp
	p.sp = nil
	changed := p.setState(StatusClosed, nil)
	p.mu.Unlock()
	p.notify(changed)
	if sp != nil {
		return sp.Close()
	}
	return nil
}

// ReadFull fills buf, or fails with ErrTimeout once deadline passes, or with
// ctx's error when ctx ends first.
func (p *Port) ReadFull(ctx context.Context, buf []byte, deadline time.Time) error {
	got := 0
	for got < len(buf) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := p.Read(buf[got:])
		got += n
		if err != nil {
			return fmt.Errorf("read %s: %w", p.cfg.Path, err)
		}
		// The deadline is checked only after a read that did not finish the
		// job, so bytes already waiting are taken even when this goroutine
		// was scheduled late.
		if got < len(buf) && !deadline.IsZero() && time.Now().After(deadline) {
			return fmt.Errorf("%w: got %d of %d bytes", ErrTimeout, got, len(buf))
		}
	}
	return nil
}

// Resync discards input until it has read preamble, so that the next byte
// read is the one after it. It returns how many bytes it skipped, which is
// non-zero after line noise or a partial frame. Bytes read past the
// preamble are kept for the next Read.
func (p *Port) Resync(ctx context.Context, preamble []byte, deadline time.Time) (skipped int, err error) {
	if len(preamble) == 0 {
		return 0, nil
	}
	var win []byte
	chunk := make([]byte, 256)
	expired := false
	for {
		if i := bytes.Index(win, preamble); i >= 0 {
			rest := win[i+len(preamble):]
			p.mu.Lock()
			p.pending = append(append([]byte(nil), rest...), p.pending...)
			p.mu.Unlock()
			return skipped + i, nil
		}
		// Keep only a tail that could still begin the preamble.
		if keep := len(preamble) - 1; len(win) > keep {
			skipped += len(win) - keep
			win = append(win[:0], win[len(win)-keep:]...)
		}
		if err := ctx.Err(); err != nil {
			return skipped, err
		}
		if expired {
			return skipped, fmt.Errorf("%w: no preamble % X after %d bytes", ErrTimeout, preamble, skipped+len(win))
		}
		// As in ReadFull: one more read after the deadline, for bytes
		// that are already waiting.
		expired = !deadline.IsZero() && time.Now().After(deadline)
		n, err := p.Read(chunk)
		win = append(win, chunk[:n]...)
		if err != nil {
			return skipped, fmt.Errorf("resync %s: %w", p.cfg.Path, err)
		}
	}
}
