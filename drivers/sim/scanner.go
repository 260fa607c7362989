package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"onedoor/drivers/scanner/pages"
	"onedoor/drivers/scanner/wire"
)

// Scanner simulates a sheet-fed document scanner speaking the OneDoor
// serial scanner protocol (docs/scanner-protocol.md). Sheets are fed by
// name from the pages generator; each SCAN takes one, renders it at the
// requested resolution and colour mode, and serves it as a JPEG in chunks
// paced at the baud rate. Faults are armed from the devsim console or a
// test: a paper jam, a cover left open, a corrupted chunk, or a stall in
// the middle of a chunk.
type Scanner struct {
	baud     int
	stallFor time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	gen    *pages.Generator // made at the first scan; not safe for concurrent use: guarded by mu
	cache  map[string][]byte
	feeder []string
	jam    bool
	cover  bool
	opts   wire.Options
	// Armed faults: the index of the chunk whose next sending the fault
	// hits, or -1 when not armed.
	corruptAt, stallAt int
	badHashes          int  // END frames still to send with a wrong SHA-256
	dropBegin          bool // lose the next answer to SCAN

	image     []byte
	begin     wire.Begin
	sum       [32]byte
	lastScan  byte   // sequence number of the last SCAN answered
	lastReply []byte // and its reply, resent if the host repeats it
	stats     ScannerStats
}

// ScannerStats records what the simulated scanner did, for tests.
type ScannerStats struct {
	Scans      int      // sheets scanned
	DataFrames int      // DATA frames sent, repeats included
	DataBytes  int64    // image bytes sent, repeats included
	Naks       []uint32 // offsets the host asked to resend from
	Corrupted  []uint32 // offsets of chunks sent damaged
	Stalled    []uint32 // offsets of chunks cut short by a stall
	BadFrames  int      // host frames dropped for a bad CRC
}

// ScannerOption adjusts a simulated scanner.
type ScannerOption func(*Scanner)

// WithScannerBaud paces replies as a UART at baud would; 0 sends at pty
// speed.
func WithScannerBaud(baud int) ScannerOption { return func(s *Scanner) { s.baud = baud } }

// WithStall sets how long a stall fault keeps the scanner silent.
func WithStall(d time.Duration) ScannerOption { return func(s *Scanner) { s.stallFor = d } }

// WithScannerLogger sets the logger (default: discard).
func WithScannerLogger(l *slog.Logger) ScannerOption { return func(s *Scanner) { s.log = l } }

// NewScanner returns a simulated scanner with an empty feeder.
func NewScanner(opts ...ScannerOption) *Scanner {
	s := &Scanner{
		baud:      115200,
		stallFor:  1500 * time.Millisecond,
		log:       slog.New(slog.DiscardHandler),
		cache:     map[string][]byte{},
		opts:      wire.Options{DPI: 200, Mode: wire.ModeGrey, Page: wire.PageA4, Chunk: 1024},
		corruptAt: -1,
		stallAt:   -1,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name is the device's name in devsim.
func (s *Scanner) Name() string { return "scanner" }

// scannerIdent is what the simulated scanner answers to HELLO.
func scannerIdent() wire.Ident {
	return wire.Ident{
		Version: 1, MaxChunk: wire.MaxChunk, Colour: true, Feeder: true, MinDPI: 100, MaxDPI: 300,
		Text: "OneDoor SIM-A4 sheet-fed scanner fw 1.0 (simulated)",
	}
}

// Feed puts sheets in the feeder, scanned in order.
func (s *Scanner) Feed(page string, n int) error {
	if !slices.Contains(pages.Names(), page) {
		return fmt.Errorf("%w: %q (known: %s)", pages.ErrUnknownPage, page, strings.Join(pages.Names(), ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.feeder = append(s.feeder, page)
	}
	return nil
}

// Fault arms a fault: "jam" and "cover" hold until Clear; "corrupt" damages
// the third chunk of a transfer and "stall" cuts the second chunk short and
// goes silent, each once, when that chunk is next sent; "hash" sends the
// next END with a wrong SHA-256 (arm it twice to fail the retry too);
// "drop" loses the next answer to SCAN on the line.
func (s *Scanner) Fault(kind string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "jam":
		s.jam = true
	case "cover":
		s.cover = true
	case "corrupt":
		s.corruptAt = 2
	case "stall":
		s.stallAt = 1
	case "hash":
		s.badHashes++
	case "drop":
		s.dropBegin = true
	default:
		return fmt.Errorf("scanner: unknown fault %q (jam, cover, corrupt, stall, hash, drop)", kind)
	}
	return nil
}

// Clear removes a jam and closes the cover; the jammed sheet stays in the
// feeder, as when a resident pulls it straight and closes the lid.
func (s *Scanner) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jam, s.cover = false, false
}

// Stats returns a copy of the counters.
func (s *Scanner) Stats() ScannerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Naks = slices.Clone(st.Naks)
	st.Corrupted = slices.Clone(st.Corrupted)
	st.Stalled = slices.Clone(st.Stalled)
	return st
}

// LastImage returns the image of the last scan as sent (before any fault
// damaged a chunk), for tests to compare with what the driver received.
func (s *Scanner) LastImage() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.image)
}

// Status describes the simulated state, for the devsim console.
func (s *Scanner) Status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("feeder %v, jam %v, cover open %v, %d dpi %s, scans %d, corrupt armed %v, stall armed %v",
		s.feeder, s.jam, s.cover, s.opts.DPI, modeName(s.opts.Mode), s.stats.Scans, s.corruptAt >= 0, s.stallAt >= 0)
}

// Command runs a console command (without the leading "scanner"):
//
//	feed PAGE [N]                 put N (default 1) sheets of a test page in the feeder
//	fault jam|cover|corrupt|stall|hash|drop  arm a fault
//	clear                         clear a jam, close the cover
//	pages                         list the test pages
//	status
func (s *Scanner) Command(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("scanner: want feed PAGE [N] | fault jam|cover|corrupt|stall|hash|drop | clear | pages | status")
	}
	switch args[0] {
	case "feed":
		if len(args) < 2 || len(args) > 3 {
			return "", errors.New("scanner feed: want PAGE [N]")
		}
		n := 1
		if len(args) == 3 {
			var err error
			if n, err = strconv.Atoi(args[2]); err != nil || n < 1 || n > 100 {
				return "", fmt.Errorf("scanner feed: bad sheet count %q", args[2])
			}
		}
		if err := s.Feed(args[1], n); err != nil {
			return "", err
		}
		return fmt.Sprintf("fed %d × %s", n, args[1]), nil
	case "fault":
		if len(args) != 2 {
			return "", errors.New("scanner fault: want jam, cover, corrupt, stall, hash or drop")
		}
		if err := s.Fault(args[1]); err != nil {
			return "", err
		}
		return "fault " + args[1] + " armed", nil
	case "clear":
		s.Clear()
		return "jam cleared, cover closed", nil
	case "pages":
		return strings.Join(pages.Names(), " "), nil
	case "status":
		return s.Status(), nil
	}
	return "", fmt.Errorf("scanner: unknown command %q", args[0])
}

// rxChunk is a read from the line and when it arrived.
type rxChunk struct {
	b  []byte
	at time.Time
}

// Serve answers the host on pt until ctx ends or the pty fails. The pty
// master is a blocking file (no read deadlines), so a reader goroutine feeds
// a channel; it ends when the pty is closed.
func (s *Scanner) Serve(ctx context.Context, pt *PTY) error {
	in := make(chan rxChunk, 64)
	rerr := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pt.Master.Read(buf)
			if n > 0 {
				select {
				case in <- rxChunk{b: slices.Clone(buf[:n]), at: time.Now()}:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				rerr <- err
				return
			}
		}
	}()
	var rx []byte
	var deafUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-rerr:
			if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EIO) {
				return nil
			}
			return fmt.Errorf("scanner sim read: %w", err)
		case c := <-in:
			if c.at.Before(deafUntil) {
				continue // sent while the scanner was stalled: lost
			}
			if !s.hostBaudMatches(pt) {
				continue // at the wrong rate a UART receives only garbage
			}
			rx = append(rx, c.b...)
		}
		for {
			f, used, _, derr := wire.Decode(rx)
			rx = rx[used:]
			if errors.Is(derr, wire.ErrNeedMore) {
				break
			}
			if derr != nil {
				s.mu.Lock()
				s.stats.BadFrames++
				s.mu.Unlock()
				continue // the host times out and asks again
			}
			stalled, err := s.handle(ctx, pt, f)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if stalled {
				// A frozen device hears nothing: drop what is queued.
				deafUntil, rx = time.Now(), nil
				break
			}
		}
	}
}

// handle answers one host frame. stalled reports that the scanner just
// came back from a stall, so input queued meanwhile must be dropped.
func (s *Scanner) handle(ctx context.Context, pt *PTY, f wire.Frame) (stalled bool, err error) {
	reply := func(typ byte, payload []byte) error {
		b, err := wire.Encode(wire.Frame{Type: typ, Seq: f.Seq, Payload: payload})
		if err != nil {
			return err
		}
		return s.write(ctx, pt, b)
	}
	fail := func(code byte, detail string) error {
		return reply(wire.TypeError, wire.Error{Code: code, Detail: detail}.Marshal())
	}
	if f.Type != wire.TypeScan {
		// A repeated SCAN is recognised only while nothing else came in
		// between; a new host session (which starts with other commands)
		// may reuse sequence numbers.
		s.mu.Lock()
		s.lastReply = nil
		s.mu.Unlock()
	}
	switch f.Type {
	case wire.TypeHello:
		if string(f.Payload) != wire.HelloMagic {
			return false, fail(wire.ErrCodeBadFrame, "bad hello")
		}
		return false, reply(wire.TypeIdent, scannerIdent().Marshal())
	case wire.TypeStatus:
		return false, reply(wire.TypeStatusReply, s.status().Marshal())
	case wire.TypeOptions:
		o, err := wire.ParseOptions(f.Payload)
		if err != nil {
			return false, fail(wire.ErrCodeBadOptions, err.Error())
		}
		id := scannerIdent()
		if o.DPI < id.MinDPI || o.DPI > id.MaxDPI {
			return false, fail(wire.ErrCodeBadOptions, fmt.Sprintf("%d dpi outside %d..%d", o.DPI, id.MinDPI, id.MaxDPI))
		}
		if o.Chunk == 0 || o.Chunk > id.MaxChunk {
			o.Chunk = id.MaxChunk
		}
		s.mu.Lock()
		s.opts = o
		s.mu.Unlock()
		return false, reply(wire.TypeOptionsOK, o.Marshal())
	case wire.TypeScan:
		b, err := s.scan(f.Seq)
		if err != nil {
			return false, err
		}
		s.mu.Lock()
		lost := s.dropBegin
		s.dropBegin = false
		s.mu.Unlock()
		if lost {
			s.log.Info("scanner sim lost its SCAN answer")
			return false, nil
		}
		return false, s.write(ctx, pt, b)
	case wire.TypeAck, wire.TypeNak:
		var off uint32
		if f.Type == wire.TypeAck {
			a, err := wire.ParseAck(f.Payload)
			if err != nil {
				return false, fail(wire.ErrCodeBadFrame, err.Error())
			}
			off = a.Offset
		} else {
			n, err := wire.ParseNak(f.Payload)
			if err != nil {
				return false, fail(wire.ErrCodeBadFrame, err.Error())
			}
			off = n.Offset
			s.mu.Lock()
			s.stats.Naks = append(s.stats.Naks, off)
			s.mu.Unlock()
		}
		return s.sendFrom(ctx, pt, f.Seq, off)
	case wire.TypeAbort:
		s.mu.Lock()
		s.image = nil
		s.mu.Unlock()
		return false, reply(wire.TypeAborted, nil)
	}
	return false, fail(wire.ErrCodeBadFrame, fmt.Sprintf("unknown command %#02x", f.Type))
}

func (s *Scanner) status() wire.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := wire.Status{State: wire.StateIdle, Sheets: byte(min(len(s.feeder), 254))}
	if len(s.feeder) > 0 {
		st.Flags |= wire.FlagPaper
	}
	if s.jam {
		st.Flags |= wire.FlagJam
	}
	if s.cover {
		st.Flags |= wire.FlagCoverOpen
	}
	if s.image != nil {
		st.State = wire.StateTransferring
	}
	return st
}

// scan takes a sheet and prepares its image, returning the encoded reply.
// A repeated SCAN (same sequence number, nothing else in between) gets the
// same reply: the host lost the first one, and must not lose a sheet for it.
func (s *Scanner) scan(seq byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastReply != nil && seq == s.lastScan {
		return s.lastReply, nil
	}
	var payload []byte
	typ := wire.TypeError
	switch {
	case s.cover:
		payload = wire.Error{Code: wire.ErrCodeCoverOpen, Detail: "cover open"}.Marshal()
	case s.jam:
		payload = wire.Error{Code: wire.ErrCodePaperJam, Detail: "paper jam at the feed roller"}.Marshal()
	case len(s.feeder) == 0:
		payload = wire.Error{Code: wire.ErrCodeNoDocument, Detail: "feeder empty"}.Marshal()
	default:
		page := s.feeder[0]
		img, w, h, err := s.renderLocked(page)
		if err != nil {
			payload = wire.Error{Code: wire.ErrCodeBadFrame, Detail: err.Error()}.Marshal()
			break
		}
		s.feeder = s.feeder[1:]
		s.image = img
		s.sum = sha256.Sum256(img)
		s.begin = wire.Begin{Total: uint32(len(img)), Format: wire.FormatJPEG, Width: uint16(w), Height: uint16(h), DPI: s.opts.DPI, Mode: s.opts.Mode, Chunk: s.opts.Chunk}
		s.stats.Scans++
		typ, payload = wire.TypeBegin, s.begin.Marshal()
		s.log.Info("scanner sim scanned", "page", page, "bytes", len(img))
	}
	b, err := wire.Encode(wire.Frame{Type: typ, Seq: seq, Payload: payload})
	if err != nil {
		return nil, err
	}
	s.lastScan, s.lastReply = seq, b
	return b, nil
}

// renderLocked draws and encodes a page as this device would send it.
func (s *Scanner) renderLocked(page string) ([]byte, int, int, error) {
	size := pages.A4
	if s.opts.Page == wire.PageA5 {
		size = pages.A5
	}
	key := fmt.Sprintf("%s/%s/%d/%d", page, size.Name, s.opts.DPI, s.opts.Mode)
	if b, ok := s.cache[key]; ok {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		return b, cfg.Width, cfg.Height, err
	}
	if s.gen == nil {
		g, err := pages.New()
		if err != nil {
			return nil, 0, 0, err
		}
		s.gen = g
	}
	rgba, err := s.gen.Render(page, size, int(s.opts.DPI))
	if err != nil {
		return nil, 0, 0, err
	}
	var img image.Image = rgba
	if s.opts.Mode == wire.ModeGrey {
		g := image.NewGray(rgba.Bounds())
		draw.Draw(g, g.Bounds(), rgba, image.Point{}, draw.Src)
		img = g
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, 0, 0, err
	}
	s.cache[key] = buf.Bytes()
	return buf.Bytes(), rgba.Bounds().Dx(), rgba.Bounds().Dy(), nil
}

// sendFrom answers an ACK or NAK: the chunk at off, or END once the host
// has everything, with an armed fault applied.
func (s *Scanner) sendFrom(ctx context.Context, pt *PTY, seq byte, off uint32) (stalled bool, err error) {
	s.mu.Lock()
	if s.image == nil {
		s.mu.Unlock()
		b, err := wire.Encode(wire.Frame{Type: wire.TypeError, Seq: seq, Payload: wire.Error{Code: wire.ErrCodeNoImage, Detail: "no image to send"}.Marshal()})
		if err != nil {
			return false, err
		}
		return false, s.write(ctx, pt, b)
	}
	total := uint32(len(s.image))
	if off >= total {
		end := wire.End{Total: total, Sum: s.sum}
		if s.badHashes > 0 {
			s.badHashes--
			end.Sum[0] ^= 0xFF
		}
		s.mu.Unlock()
		b, err := wire.Encode(wire.Frame{Type: wire.TypeEnd, Seq: seq, Payload: end.Marshal()})
		if err != nil {
			return false, err
		}
		return false, s.write(ctx, pt, b)
	}
	n := min(uint32(s.begin.Chunk), total-off)
	b, err := wire.Encode(wire.Frame{Type: wire.TypeData, Seq: seq, Payload: wire.Data{Offset: off, Bytes: s.image[off : off+n]}.Marshal()})
	if err != nil {
		s.mu.Unlock()
		return false, err
	}
	s.stats.DataFrames++
	s.stats.DataBytes += int64(n)
	index := int(off / uint32(s.begin.Chunk))
	corrupt, stall := s.corruptAt == index, s.stallAt == index
	if corrupt {
		s.corruptAt = -1
	}
	if stall {
		s.stallAt = -1
	}
	if corrupt {
		s.stats.Corrupted = append(s.stats.Corrupted, off)
		b[len(b)/2] ^= 0x5A // line noise in the middle of the chunk
	}
	if stall {
		s.stats.Stalled = append(s.stats.Stalled, off)
	}
	stallFor := s.stallFor
	s.mu.Unlock()

	if !stall {
		return false, s.write(ctx, pt, b)
	}
	// Send half the frame, then hang: whatever the host sends meanwhile is
	// lost, as in a device whose firmware froze with its UART unserviced.
	if err := s.write(ctx, pt, b[:len(b)/2]); err != nil {
		return false, err
	}
	s.log.Info("scanner sim stalling", "offset", off, "for", stallFor)
	t := time.NewTimer(stallFor)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
	}
	return true, nil
}

func (s *Scanner) write(ctx context.Context, pt *PTY, b []byte) error {
	if s.baud <= 0 {
		if _, err := pt.Master.Write(b); err != nil {
			return fmt.Errorf("write to pty: %w", err)
		}
		return nil
	}
	return PacedWrite(ctx, pt.Master, b, s.baud)
}

// hostBaudMatches compares the rate the host set on its end of the pty with
// the simulated scanner's, so probing at the wrong baud meets silence.
func (s *Scanner) hostBaudMatches(pt *PTY) bool { return HostBaudMatches(pt.Master, s.baud) }

func modeName(m byte) string {
	if m == wire.ModeColour {
		return "colour"
	}
	return "grey"
}
