package scanner

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"onedoor/drivers/scanner/wire"
	"onedoor/drivers/serialport"
)

// MaxImageBytes is the largest image the driver accepts: an A4 colour page
// at 600 dpi as JPEG is well under it.
const MaxImageBytes = 64 << 20

// Port is the part of *serialport.Port the driver uses. Read must return
// (0, nil) when nothing arrived within a short read timeout, so the driver
// can watch its context and deadlines.
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
}

// SerialConfig tunes the serial driver. Zero values give sensible defaults.
type SerialConfig struct {
	// Baud is the line speed; time-outs are sized from the wire time of a
	// frame at this speed. 0 means 115200.
	Baud int
	// Chunk is the chunk size asked of the device; 0 means 1024, which keeps
	// a retransmission cheap at low bauds.
	Chunk int
	// ReplyTimeout bounds the wait for the answer to a command or a chunk;
	// 0 means twice the wire time of a chunk frame plus 300 ms. For chunks
	// the wait is never shorter than that for the chunk size the device
	// announced.
	ReplyTimeout time.Duration
	// ScanTimeout bounds the wait for a sheet to go through the scanner
	// before the SCAN is repeated; 0 means 20 s.
	ScanTimeout time.Duration
	// MaxRetries is how many failed attempts in a row (damaged frame or no
	// answer) the image transfer tolerates; 0 means 8. Commands are sent at
	// most three times (SCAN twice, since a sheet takes seconds).
	MaxRetries int
	// ReplugWait is how long a transfer waits for an unplugged adapter to
	// come back before it counts the silence against MaxRetries; 0 means
	// 10 s. A USB adapter re-enumerates in one to three seconds, longer on
	// a busy machine, and a resident should not have to rescan for that.
	ReplugWait time.Duration
	Logger     *slog.Logger
}

// Serial drives a scanner that speaks the OneDoor serial scanner protocol.
// Its methods may be called from any goroutine; they take turns on the port.
type Serial struct {
	mu   sync.Mutex
	port Port
	sp   *serialport.Port // set by Open, for State and Close
	cfg  SerialConfig
	log  *slog.Logger
	seq  byte
	rx   []byte // bytes read but not yet decoded
	tmp  []byte
	// absentSince is when reads started failing with ErrDisconnected; zero
	// while the port answers.
	absentSince time.Time
}

// Open opens the scanner's serial port and returns its driver. The port
// may be absent (the scanner unplugged or not yet powered): it is opened when
// the device appears, and State says which. Close releases it.
func Open(portCfg serialport.Config, cfg SerialConfig) (*Serial, error) {
	portCfg.AllowAbsent = true
	p, err := serialport.Open(portCfg)
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	if cfg.Baud == 0 {
		cfg.Baud = portCfg.Baud
	}
	s := NewSerial(p, cfg)
	s.sp = p
	return s, nil
}

// Close closes the port if Open opened it.
func (s *Serial) Close() error {
	if s.sp == nil {
		return nil
	}
	return s.sp.Close()
}

// State reports whether the scanner's port is there (ok, absent, error),
// for the technician screen; it is StatusOK for a port not opened by Open.
func (s *Serial) State() serialport.State {
	if s.sp == nil {
		return serialport.State{Status: serialport.StatusOK}
	}
	return s.sp.State()
}

// NewSerial returns a driver for a scanner on port.
func NewSerial(port Port, cfg SerialConfig) *Serial {
	if cfg.Baud <= 0 {
		cfg.Baud = 115200
	}
	if cfg.Chunk <= 0 || cfg.Chunk > wire.MaxChunk {
		cfg.Chunk = 1024
	}
	if cfg.ReplyTimeout <= 0 {
		frame := time.Duration(wire.Overhead+4+cfg.Chunk) * byteTime(cfg.Baud)
		cfg.ReplyTimeout = 2*frame + 300*time.Millisecond
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 20 * time.Second
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 8
	}
	if cfg.ReplugWait <= 0 {
		cfg.ReplugWait = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Serial{port: port, cfg: cfg, log: log.With("device", "scanner"), tmp: make([]byte, 4096)}
}

func byteTime(baud int) time.Duration {
	return time.Duration(float64(time.Second) * 10 / float64(baud))
}

// Ident is what the scanner says about itself.
type Ident = wire.Ident

// Status is the scanner's condition.
type Status struct {
	Paper     bool // a sheet is in the feeder
	Jam       bool
	CoverOpen bool
	Holding   bool // the device still holds the last image, which can be pulled again
	Sheets    int  // -1 when the device cannot count
}

// Err returns the typed error the status implies for a scan, or nil.
func (s Status) Err() error {
	switch {
	case s.CoverOpen:
		return ErrCoverOpen
	case s.Jam:
		return ErrPaperJam
	case !s.Paper:
		return ErrNoDocument
	}
	return nil
}

// Hello asks the device who it is.
func (s *Serial) Hello(ctx context.Context) (Ident, error) { return s.hello(ctx, 3) }

// helloOnce sends the hello a single time, as a probe must: a device that
// does not answer at once is not ours.
func (s *Serial) helloOnce(ctx context.Context) (Ident, error) { return s.hello(ctx, 1) }

func (s *Serial) hello(ctx context.Context, attempts int) (Ident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.call(ctx, wire.Frame{Type: wire.TypeHello, Seq: 0, Payload: []byte(wire.HelloMagic)}, wire.TypeIdent, s.cfg.ReplyTimeout, attempts)
	if err != nil {
		return Ident{}, err
	}
	id, err := wire.ParseIdent(f.Payload)
	if err != nil {
		return Ident{}, fmt.Errorf("%w: %w", ErrDevice, err)
	}
	return id, nil
}

// Status asks for the device's condition.
func (s *Serial) Status(ctx context.Context) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.call(ctx, wire.Frame{Type: wire.TypeStatus, Seq: s.nextSeq()}, wire.TypeStatusReply, s.cfg.ReplyTimeout, 3)
	if err != nil {
		return Status{}, err
	}
	st, err := wire.ParseStatus(f.Payload)
	if err != nil {
		return Status{}, fmt.Errorf("%w: %w", ErrDevice, err)
	}
	out := Status{
		Paper:     st.Flags&wire.FlagPaper != 0,
		Jam:       st.Flags&wire.FlagJam != 0,
		CoverOpen: st.Flags&wire.FlagCoverOpen != 0,
		Holding:   st.State != wire.StateIdle,
		Sheets:    int(st.Sheets),
	}
	if st.Sheets == 0xFF {
		out.Sheets = -1
	}
	return out, nil
}

// Abort stops a transfer in progress on the device.
func (s *Serial) Abort(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.call(ctx, wire.Frame{Type: wire.TypeAbort, Seq: s.nextSeq()}, wire.TypeAborted, s.cfg.ReplyTimeout, 3)
	return err
}

// Scan acquires one page and normalises it.
func (s *Serial) Scan(ctx context.Context, opts Options, progress func(done, total int64)) (Page, error) {
	raw, err := s.Acquire(ctx, opts, progress)
	if err != nil {
		return Page{}, err
	}
	p, err := Normalize(raw.Data, raw.DPI, opts.Norm)
	if err != nil {
		return Page{}, err
	}
	p.Transfer = raw.Stats
	return p, nil
}

// Acquire sets the options, scans one sheet and pulls the image, resuming
// from the first missing byte after a damaged chunk or a stall, and checks
// the image against the device's SHA-256.
func (s *Serial) Acquire(ctx context.Context, opts Options, progress func(done, total int64)) (Raw, error) {
	opts = opts.withDefaults()
	o := wire.Options{DPI: uint16(opts.DPI), Mode: wire.ModeGrey, Chunk: uint16(s.cfg.Chunk)}
	if opts.DPI < 50 || opts.DPI > 1200 {
		return Raw{}, fmt.Errorf("scanner: %d dpi is out of range", opts.DPI)
	}
	if opts.Colour {
		o.Mode = wire.ModeColour
	}
	switch opts.Paper {
	case A4:
		o.Page = wire.PageA4
	case A5:
		o.Page = wire.PageA5
	default:
		return Raw{}, fmt.Errorf("scanner: unknown paper size %q", string(opts.Paper))
	}
	if progress == nil {
		progress = func(int64, int64) {}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	if _, err := s.call(ctx, wire.Frame{Type: wire.TypeOptions, Seq: s.nextSeq(), Payload: o.Marshal()}, wire.TypeOptionsOK, s.cfg.ReplyTimeout, 3); err != nil {
		return Raw{}, fmt.Errorf("set options: %w", err)
	}
	f, err := s.call(ctx, wire.Frame{Type: wire.TypeScan, Seq: s.nextSeq()}, wire.TypeBegin, s.cfg.ScanTimeout, 2)
	if err != nil {
		return Raw{}, fmt.Errorf("scan: %w", err)
	}
	begin, err := wire.ParseBegin(f.Payload)
	if err != nil {
		return Raw{}, fmt.Errorf("%w: %w", ErrDevice, err)
	}
	if begin.Total > MaxImageBytes {
		// Refuse before allocating: a confused device must not make the
		// kiosk reserve gigabytes.
		s.abortQuietly()
		return Raw{}, fmt.Errorf("%w: announced a %d-byte image (limit %d)", ErrDevice, begin.Total, MaxImageBytes)
	}
	s.log.Info("scan started", "bytes", begin.Total, "dpi", begin.DPI, "width", begin.Width, "height", begin.Height)
	progress(0, int64(begin.Total))

	data, stats, err := s.pull(ctx, begin, progress)
	if err != nil {
		if ctx.Err() != nil {
			s.abortQuietly()
		}
		return Raw{}, err
	}
	stats.Duration = time.Since(start)
	s.log.Info("scan transferred", "bytes", stats.Bytes, "retransmits", stats.Retransmits, "resumes", stats.Resumes, "duration", stats.Duration)
	return Raw{Data: data, DPI: int(begin.DPI), Stats: stats}, nil
}

// pull fetches the image announced by begin. The host drives the transfer:
// every ACK or NAK names the offset it wants next and the device answers
// with exactly one chunk, so a lost or damaged frame costs one chunk and a
// stall costs one time-out, never the whole image.
func (s *Serial) pull(ctx context.Context, begin wire.Begin, progress func(done, total int64)) ([]byte, Transfer, error) {
	total := begin.Total
	img := make([]byte, 0, total)
	// The device may use bigger chunks than asked; never wait less than
	// twice the wire time of one of its frames.
	wait := max(s.cfg.ReplyTimeout, 2*time.Duration(wire.Overhead+4+int(begin.Chunk))*byteTime(s.cfg.Baud)+300*time.Millisecond)
	stats := Transfer{Bytes: int64(total)}
	hashRetried := false
	fails := 0

	request := func(typ byte, payload []byte) error {
		fr, err := wire.Encode(wire.Frame{Type: typ, Seq: s.nextSeq(), Payload: payload})
		if err != nil {
			return err
		}
		if _, err := s.port.Write(fr); err != nil && !errors.Is(err, serialport.ErrDisconnected) {
			return fmt.Errorf("scanner: write: %w", err)
		}
		return nil
	}
	resume := func(reason byte, why string) error {
		if s.absentSince.IsZero() || time.Since(s.absentSince) > s.cfg.ReplugWait {
			fails++
		}
		if fails > s.cfg.MaxRetries {
			return fmt.Errorf("%w at byte %d of %d after %d attempts (%s)", ErrStalled, len(img), total, fails-1, why)
		}
		stats.Retransmits++
		stats.Resumes = append(stats.Resumes, int64(len(img)))
		s.log.Warn("scan chunk lost, resuming", "offset", len(img), "reason", why)
		return request(wire.TypeNak, wire.Nak{Offset: uint32(len(img)), Reason: reason}.Marshal())
	}

	if err := request(wire.TypeAck, wire.Ack{Offset: 0}.Marshal()); err != nil {
		return nil, stats, err
	}
	for {
		f, err := s.readFrame(ctx, time.Now().Add(wait))
		switch {
		case ctx.Err() != nil:
			return nil, stats, ctx.Err()
		case errors.Is(err, errNoFrame):
			// The device restarts a frame from its first byte, so a
			// partial frame left from before the silence can never
			// complete: drop it rather than let it swallow the resend.
			s.rx = nil
			err = resume(wire.NakTimeout, "no answer")
		case errors.Is(err, wire.ErrCRC), errors.Is(err, wire.ErrLength):
			err = resume(wire.NakCRC, "damaged frame")
		case err != nil:
			return nil, stats, err
		case f.Type == wire.TypeData:
			d, perr := wire.ParseData(f.Payload)
			if perr != nil || d.Offset != uint32(len(img)) || uint64(len(img))+uint64(len(d.Bytes)) > uint64(total) {
				// A late duplicate, answered by a request already sent.
				continue
			}
			img = append(img, d.Bytes...)
			stats.Chunks++
			stats.WireBytes += int64(len(d.Bytes))
			fails = 0
			progress(int64(len(img)), int64(total))
			err = request(wire.TypeAck, wire.Ack{Offset: uint32(len(img))}.Marshal())
		case f.Type == wire.TypeEnd:
			end, perr := wire.ParseEnd(f.Payload)
			if perr != nil || uint32(len(img)) != total {
				continue
			}
			if end.Total == total && sha256.Sum256(img) == end.Sum {
				return img, stats, nil
			}
			if hashRetried {
				return nil, stats, fmt.Errorf("%w (%d bytes)", ErrIntegrity, total)
			}
			// Every chunk passed its CRC, so the fault is older than the
			// wire; one fresh pull from byte 0 is all that can help.
			hashRetried = true
			s.log.Warn("scan image hash mismatch, pulling again")
			img = img[:0]
			stats.Resumes = append(stats.Resumes, 0)
			stats.Retransmits++
			err = request(wire.TypeNak, wire.Nak{Offset: 0, Reason: wire.NakHash}.Marshal())
		case f.Type == wire.TypeError:
			return nil, stats, deviceError(f.Payload)
		default:
			continue
		}
		if err != nil {
			return nil, stats, err
		}
	}
}

// abortQuietly tells the device to drop the transfer when the caller gave
// up, so it is idle for the next resident.
func (s *Serial) abortQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := s.call(ctx, wire.Frame{Type: wire.TypeAbort, Seq: s.nextSeq()}, wire.TypeAborted, s.cfg.ReplyTimeout, 3); err != nil {
		s.log.Warn("scanner abort after cancel failed", "err", err)
	}
}

// nextSeq numbers commands 1..255; 0 belongs to HELLO.
func (s *Serial) nextSeq() byte {
	s.seq++
	if s.seq == 0 {
		s.seq = 1
	}
	return s.seq
}

// call sends a command and waits for its reply of type want (or ERROR)
// with the same sequence number, resending the same frame on a time-out or
// a damaged reply. Resending with the same number is safe even for SCAN:
// the device answers a repeat from its reply cache without acting again.
func (s *Serial) call(ctx context.Context, cmd wire.Frame, want byte, timeout time.Duration, attempts int) (wire.Frame, error) {
	out, err := wire.Encode(cmd)
	if err != nil {
		return wire.Frame{}, err
	}
	var last error
	for range attempts {
		if err := ctx.Err(); err != nil {
			return wire.Frame{}, err
		}
		if _, err := s.port.Write(out); err != nil {
			if !errors.Is(err, serialport.ErrDisconnected) {
				return wire.Frame{}, fmt.Errorf("scanner: write: %w", err)
			}
			last = err
			continue
		}
		deadline := time.Now().Add(timeout)
		for {
			f, err := s.readFrame(ctx, deadline)
			if err != nil {
				if ctx.Err() != nil {
					return wire.Frame{}, ctx.Err()
				}
				if errors.Is(err, errNoFrame) || errors.Is(err, wire.ErrCRC) || errors.Is(err, wire.ErrLength) {
					last = err
					break // resend
				}
				return wire.Frame{}, err
			}
			if f.Seq != cmd.Seq {
				continue // a stale answer to an earlier request
			}
			switch f.Type {
			case want:
				return f, nil
			case wire.TypeError:
				return wire.Frame{}, deviceError(f.Payload)
			}
		}
	}
	return wire.Frame{}, fmt.Errorf("scanner: no answer to command %#02x: %w: %w", cmd.Type, serialport.ErrTimeout, last)
}

// errNoFrame is readFrame's time-out; callers turn it into a NAK or a resend.
var errNoFrame = errors.New("scanner: no complete frame before the deadline")

// readFrame returns the next good frame, a CRC/length error for a damaged
// one (already skipped), or errNoFrame at the deadline.
func (s *Serial) readFrame(ctx context.Context, deadline time.Time) (wire.Frame, error) {
	for {
		if len(s.rx) > 0 {
			f, n, skipped, err := wire.Decode(s.rx)
			if skipped > 0 {
				s.log.Debug("scanner skipped noise", "bytes", skipped)
			}
			s.rx = s.rx[n:]
			if err == nil {
				f.Payload = slices.Clone(f.Payload)
				return f, nil
			}
			if !errors.Is(err, wire.ErrNeedMore) {
				return wire.Frame{}, err
			}
		}
		if err := ctx.Err(); err != nil {
			return wire.Frame{}, err
		}
		if time.Now().After(deadline) {
			return wire.Frame{}, errNoFrame
		}
		n, err := s.port.Read(s.tmp)
		if err != nil {
			if errors.Is(err, serialport.ErrDisconnected) {
				// The adapter is being replugged; the port reopens by
				// itself and the deadline bounds the wait.
				if s.absentSince.IsZero() {
					s.absentSince = time.Now()
				}
				sleep(ctx, 50*time.Millisecond)
				continue
			}
			return wire.Frame{}, fmt.Errorf("scanner: read: %w", err)
		}
		s.absentSince = time.Time{}
		if len(s.rx) == 0 {
			s.rx = s.rx[:0:0] // drop the old backing array once drained
		}
		s.rx = append(s.rx, s.tmp[:n]...)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// deviceError turns an ERROR payload into the matching typed error.
func deviceError(payload []byte) error {
	e, err := wire.ParseError(payload)
	if err != nil {
		return fmt.Errorf("%w: unreadable error report: %w", ErrDevice, err)
	}
	var base error
	switch e.Code {
	case wire.ErrCodeNoDocument:
		base = ErrNoDocument
	case wire.ErrCodePaperJam:
		base = ErrPaperJam
	case wire.ErrCodeCoverOpen:
		base = ErrCoverOpen
	default:
		base = ErrDevice
	}
	if e.Detail == "" {
		return fmt.Errorf("%w (code %#02x)", base, e.Code)
	}
	return fmt.Errorf("%w (code %#02x: %s)", base, e.Code, e.Detail)
}
