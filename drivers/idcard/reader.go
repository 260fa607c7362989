package idcard

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"time"

	"onedoor/drivers/serialport"
)

// Port is what the reader needs from a serial port; *serialport.Port has it.
type Port interface {
	Write(b []byte) (int, error)
	Flush() error
	Resync(ctx context.Context, preamble []byte, deadline time.Time) (int, error)
	ReadFull(ctx context.Context, buf []byte, deadline time.Time) error
}

// Options tune a Reader. Zero values are sensible defaults.
type Options struct {
	// Baud is the port's rate; timeouts grow with the wire time at it.
	// Zero means 115200.
	Baud int
	// Logger receives protocol events without personal data. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock validity dates are checked against. Nil means
	// time.Now.
	Now func() time.Time
	// TimeoutScale multiplies the time allowed for the SAM's own work on
	// each command (0.5 s for short commands, 1.5–2 s for reads, on top of
	// twice the wire time). Zero means 1; raise it for readers behind slow
	// hubs or converters, or for simulators on a heavily loaded machine.
	TimeoutScale float64
	// TraceCardData lets the port's byte trace keep card answers (30 xx),
	// which hold the resident's name, number and address. Off by default:
	// the trace then records only their length.
	TraceCardData bool
}

// Reader speaks the SAM host protocol over one port. It is not safe for
// concurrent use: the driver goroutine that owns the port owns the reader.
type Reader struct {
	port      Port
	baud      int
	log       *slog.Logger
	now       func() time.Time
	traceCard bool
	scale     float64
	// req and frame are reused from command to command, so that the find
	// poll, which Watch sends dozens of times a second, allocates nothing
	// here.
	req, frame []byte
}

// tracer is a port with a byte trace, like *serialport.Port.
type tracer interface {
	Trace() *serialport.Trace
}

// NewReader wraps an open port.
func NewReader(p Port, o Options) *Reader {
	if o.Baud <= 0 {
		o.Baud = 115200
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TimeoutScale <= 0 {
		o.TimeoutScale = 1
	}
	return &Reader{port: p, baud: o.Baud, log: o.Logger, now: o.Now, traceCard: o.TraceCardData, scale: o.TimeoutScale}
}

// wireTime is how long n bytes take at the reader's baud, 8N1.
func (r *Reader) wireTime(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(r.baud)
}

// Transact sends one command and reads its answer. The deadline allows
// twice the wire time of request and expected answer plus slack for the
// SAM (and, for reads, the RF exchange with the card). A non-success SW3
// comes back as *StatusError together with the response.
func (r *Reader) Transact(ctx context.Context, cmd, para byte, data []byte) (Response, error) {
	resp, err := r.exchange(ctx, cmd, para, data)
	if err != nil {
		return Response{}, err
	}
	ok := resp.SW3 == sw3OK || (cmd == cmdCard && para == paraFind && resp.SW3 == sw3FindOK)
	if !ok {
		return resp, &StatusError{Cmd: cmd, Para: para, SW1: resp.SW1, SW2: resp.SW2, SW3: resp.SW3}
	}
	return resp, nil
}

// exchange is Transact without judging SW3.
func (r *Reader) exchange(ctx context.Context, cmd, para byte, data []byte) (Response, error) {
	r.req = appendCommand(r.req[:0], cmd, para, data)
	req := r.req
	respLen, slack := 11, 500*time.Millisecond
	switch {
	case cmd == cmdRead && para == paraReadFP:
		respLen, slack = 2321, 2*time.Second
	case cmd == cmdRead && para == paraReadAddr:
		respLen, slack = 81, 800*time.Millisecond
	case cmd == cmdRead:
		respLen, slack = 1295, 1500*time.Millisecond
	case cmd == cmdSAMID:
		respLen, slack = 27, 500*time.Millisecond
	}
	deadline := time.Now().Add(2*r.wireTime(len(req)+respLen) + time.Duration(float64(slack)*r.scale))
	// Stale bytes from an earlier, abandoned answer would be taken for this one.
	if err := r.port.Flush(); err != nil {
		return Response{}, fmt.Errorf("idcard: command %02X %02X: %w", cmd, para, err)
	}
	if t, ok := r.port.(tracer); ok && cmd == cmdRead && !r.traceCard {
		t.Trace().Withhold(true)
		defer t.Trace().Withhold(false)
	}
	if _, err := r.port.Write(req); err != nil {
		return Response{}, fmt.Errorf("idcard: command %02X %02X: %w", cmd, para, err)
	}
	resp, frame, err := readFrame(ctx, r.port, deadline, r.frame)
	// A fingerprint read's 2 KiB is not worth keeping for the polls.
	if cap(frame) <= 128 {
		r.frame = frame
	}
	if err != nil {
		return Response{}, fmt.Errorf("idcard: command %02X %02X: %w", cmd, para, err)
	}
	return resp, nil
}

// Reset resets the SAM (10 FF).
func (r *Reader) Reset(ctx context.Context) error {
	_, err := r.Transact(ctx, cmdReset, paraAnything, nil)
	return err
}

// Status asks whether the SAM is working (11 FF).
func (r *Reader) Status(ctx context.Context) error {
	_, err := r.Transact(ctx, cmdStatus, paraAnything, nil)
	return err
}

// SAMID reads the SAM's management number (12 FF), formatted as
// AA.BB-CCCCCCCC-DDDDDDDDDD-EEEEEEEEEE.
func (r *Reader) SAMID(ctx context.Context) (string, error) {
	resp, err := r.Transact(ctx, cmdSAMID, paraAnything, nil)
	if err != nil {
		return "", err
	}
	d := resp.Data
	if len(d) != 16 {
		return "", fmt.Errorf("%w: SAM ID has %d bytes, want 16", ErrFrame, len(d))
	}
	le := binary.LittleEndian
	return fmt.Sprintf("%02d.%02d-%08d-%010d-%010d", le.Uint16(d[0:]), le.Uint16(d[2:]), le.Uint32(d[4:]), le.Uint32(d[8:]), le.Uint32(d[12:])), nil
}

// Find looks for a card in the field (20 01). It fails with ErrNoCard when
// there is none, and also while a card that was already read stays there.
func (r *Reader) Find(ctx context.Context) error {
	_, err := r.Transact(ctx, cmdCard, paraFind, nil)
	return err
}

// findCard is Find for the Watch loop. "No card", the answer to nearly
// every poll, is found == false with a nil error rather than a
// *StatusError, so that an idle reader's polls allocate nothing here.
func (r *Reader) findCard(ctx context.Context) (found bool, err error) {
	resp, err := r.exchange(ctx, cmdCard, paraFind, nil)
	switch {
	case err != nil:
		return false, err
	case resp.SW3 == sw3FindOK:
		return true, nil
	case resp.SW3 == sw3NoCard:
		return false, nil
	}
	return false, &StatusError{Cmd: cmdCard, Para: paraFind, SW1: resp.SW1, SW2: resp.SW2, SW3: resp.SW3}
}

// Select selects the found card (20 02).
func (r *Reader) Select(ctx context.Context) error {
	_, err := r.Transact(ctx, cmdCard, paraSelect, nil)
	return err
}

// ReadCard reads and decodes the selected card (30 01, or 30 10 with
// fingerprints). It does not validate; ReadIdentity does.
func (r *Reader) ReadCard(ctx context.Context, withFingerprint bool) (Identity, error) {
	para := byte(paraReadBase)
	if withFingerprint {
		para = paraReadFP
	}
	resp, err := r.Transact(ctx, cmdRead, para, nil)
	if err != nil {
		return Identity{}, err
	}
	return decodeReadData(resp.Data, withFingerprint)
}

// decodeReadData splits a read answer into text, photo and fingerprint by
// its length prefixes.
func decodeReadData(d []byte, withFingerprint bool) (Identity, error) {
	hdr := 4
	if withFingerprint {
		hdr = 6
	}
	if len(d) < hdr {
		return Identity{}, fmt.Errorf("%w: read answer of %d bytes has no length header", ErrFrame, len(d))
	}
	tl := int(binary.BigEndian.Uint16(d[0:]))
	pl := int(binary.BigEndian.Uint16(d[2:]))
	fl := 0
	if withFingerprint {
		fl = int(binary.BigEndian.Uint16(d[4:]))
	}
	if tl != textBlockSize || hdr+tl+pl+fl != len(d) {
		return Identity{}, fmt.Errorf("%w: read answer lengths text %d photo %d fingerprint %d do not add up to %d", ErrFrame, tl, pl, fl, len(d)-hdr)
	}
	id, err := DecodeText(d[hdr : hdr+tl])
	if err != nil {
		return Identity{}, err
	}
	id.PhotoWLT = append([]byte(nil), d[hdr+tl:hdr+tl+pl]...)
	if fl > 0 {
		id.Fingerprint = append([]byte(nil), d[hdr+tl+pl:]...)
	}
	return id, nil
}

// AdditionalAddress reads the newest 追加住址 (30 03); "" when the card has
// none. The Watch loop also uses it to see whether a read card is still on
// the reader.
func (r *Reader) AdditionalAddress(ctx context.Context) (string, error) {
	resp, err := r.Transact(ctx, cmdRead, paraReadAddr, nil)
	if errors.Is(err, ErrNoContent) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if len(resp.Data) != 70 {
		return "", fmt.Errorf("%w: additional address of %d bytes, want 70", ErrFrame, len(resp.Data))
	}
	return field(resp.Data, 0, 70), nil
}

// SetBaud tells the SAM to talk at a new rate from now on (60 0x); the
// setting persists in the module. The port must then be reopened at the
// new rate, after the ~5 ms the SAM needs to switch.
func (r *Reader) SetBaud(ctx context.Context, baud int) error {
	var para byte
	switch baud {
	case 115200:
		para = 0
	case 57600:
		para = 1
	case 38400:
		para = 2
	case 19200:
		para = 3
	case 9600:
		para = 4
	default:
		return fmt.Errorf("idcard: the SAM cannot run at %d baud", baud)
	}
	_, err := r.Transact(ctx, cmdSetBaud, para, nil)
	return err
}

// ReadIdentity runs one complete read: find, select, read, decode and
// validate. On ErrExpired the identity is returned too, complete, so the
// caller can tell the resident which card expired when.
func (r *Reader) ReadIdentity(ctx context.Context) (Identity, error) {
	if err := r.Find(ctx); err != nil {
		return Identity{}, err
	}
	if err := r.Select(ctx); err != nil {
		return Identity{}, err
	}
	id, err := r.ReadCard(ctx, false)
	if err != nil {
		return Identity{}, err
	}
	if err := id.Validate(r.now()); err != nil {
		if errors.Is(err, ErrExpired) {
			return id, err
		}
		return Identity{}, err
	}
	return id, nil
}

// PhotoDecoder turns the card's 1,024-byte WLT photo into an image
// (102×126 pixels). Decoders are licensed vendor libraries; a deployment
// that has one wraps it in this interface.
type PhotoDecoder interface {
	DecodeWLT(wlt []byte) (image.Image, error)
}

// ErrNoPhotoDecoder means no licensed WLT decoder is configured.
var ErrNoPhotoDecoder = errors.New("idcard: no WLT photo decoder configured")

// Photo decodes the card photo with dec.
func (id *Identity) Photo(dec PhotoDecoder) (image.Image, error) {
	if dec == nil {
		return nil, ErrNoPhotoDecoder
	}
	if len(id.PhotoWLT) != photoSize {
		return nil, fmt.Errorf("idcard: photo is %d bytes, want %d", len(id.PhotoWLT), photoSize)
	}
	return dec.DecodeWLT(id.PhotoWLT)
}

// Prober identifies an ID-card reader for drivers/probe: it asks for the
// SAM status (harmless) and, when that answers, for the SAM number.
type Prober struct{}

// Kind is "idcard".
func (Prober) Kind() string { return "idcard" }

// Bauds lists the SAM's rates, factory default first.
func (Prober) Bauds() []int { return []int{115200, 57600, 38400, 19200, 9600} }

// Identify reports whether a SAM answers on p.
func (Prober) Identify(ctx context.Context, p *serialport.Port) (string, bool) {
	r := NewReader(p, Options{Baud: p.Config().Baud})
	if err := r.Status(ctx); err != nil {
		return "", false
	}
	id, err := r.SAMID(ctx)
	if err != nil {
		return "SAM (number unreadable)", true
	}
	return "SAM " + id, true
}

// ErrNoReader means no SAM answered at any of the bauds tried.
var ErrNoReader = errors.New("idcard: no reader answered")

// Discover opens path at each baud in turn (115200, 57600, 38400, 19200,
// 9600 when bauds is empty) and returns the port and baud at which the SAM
// answers the status command. The port is opened with AllowAbsent unset: a
// missing device fails at once.
func Discover(ctx context.Context, path string, bauds []int) (*serialport.Port, int, error) {
	if len(bauds) == 0 {
		bauds = Prober{}.Bauds()
	}
	for _, b := range bauds {
		p, err := serialport.Open(serialport.Config{Path: path, Baud: b})
		if err != nil {
			return nil, 0, err
		}
		if err := NewReader(p, Options{Baud: b}).Status(ctx); err == nil {
			return p, b, nil
		}
		p.Close()
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
	}
	return nil, 0, fmt.Errorf("%w on %s at %v baud", ErrNoReader, path, bauds)
}
