package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"onedoor/drivers/escpos"
)

// Printer simulates an ESC/POS thermal receipt printer on a serial line. It
// keeps a receive buffer of the profile's size, answers real-time status
// queries (DLE EOT) the moment they arrive, sends XOFF when the buffer is
// nearly full and XON when it has drained, drops bytes that arrive when the
// buffer is full (as real printers do when the host ignores XOFF), and
// prints at a finite speed onto a roll of paper that can run out. What it
// prints is rendered to a PNG at the real paper width and to plain text.
type Printer struct {
	prof   escpos.Profile
	glyphs *escpos.Glyphs
	log    *slog.Logger
	outDir string
	// dotRowsPerSec is the print speed; zero prints instantly.
	dotRowsPerSec int
	baud          int // 0: answers at any line rate
	// noGSr models printers that answer DLE EOT but never GS r.
	noGSr    bool
	xoffFree int
	xonFree  int

	mu       sync.Mutex
	wake     chan struct{} // nudges the print loop: data arrived or a fault cleared
	w        io.Writer     // the master side, set by Serve
	wmu      sync.Mutex    // one writer at a time on the master
	rbuf     []byte        // receive buffer (bytes not yet processed)
	xoff     bool          // XOFF sent, XON not yet
	paperL   int           // dot rows of paper left; <0 means unlimited
	paperE   bool
	cover    bool
	stats    PrinterStats
	page     *pageRender
	pages    []PrintedPage
	clearReq bool
	rtState  int // real-time command detector: 0 idle, 1 after DLE, 2 after DLE EOT, 3 after DLE ENQ
}

// PrinterStats counts what crossed the simulated serial line.
type PrinterStats struct {
	Received   int // bytes that arrived
	Dropped    int // bytes lost because the receive buffer was full
	XOFFs      int // XOFF bytes sent
	XONs       int // XON bytes sent
	StatusReqs int // DLE EOT queries answered
	Unknown    int // commands the printer did not understand
	Garbage    int // characters printed as garbage (no glyph in the font)
	GSr        int // GS r requests answered (in order, from the buffer)
	GSrIgnored int // GS r requests left unanswered (WithoutGSr)
	// LastDataAt is when the last byte other than a real-time command
	// (DLE EOT n, DLE ENQ n) arrived: the end of what was sent to print,
	// not of the status polling that may follow it.
	LastDataAt time.Time
}

// PrintedPage is one piece of paper: everything printed up to a cut, or up
// to the point where the paper ran out.
type PrintedPage struct {
	Image  *image.Gray
	Text   string
	QRData []string // data of every native QR printed
	Images int      // raster images printed (strips of one image count once)
	Cut    bool     // ended by a cut command
	Torn   bool     // ended because the paper ran out
}

// PNG encodes the page image.
func (p PrintedPage) PNG() ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, p.Image); err != nil {
		return nil, fmt.Errorf("encode page: %w", err)
	}
	return b.Bytes(), nil
}

// PrinterOption adjusts a simulated printer.
type PrinterOption func(*Printer)

// WithPrintSpeed sets how many dot rows the head prints per second (a real
// 80 mm printer does about 200 mm/s, 1600 rows/s); zero prints instantly.
func WithPrintSpeed(rowsPerSec int) PrinterOption {
	return func(p *Printer) { p.dotRowsPerSec = rowsPerSec }
}

// WithPrinterBaud makes the printer understand only a host whose line is
// set to baud.
func WithPrinterBaud(baud int) PrinterOption { return func(p *Printer) { p.baud = baud } }

// WithoutGSr makes the printer one of the models that answer real-time
// status (DLE EOT) but never GS r: it prints everything, and a driver that
// waits for GS r's reply to confirm a job waits in vain.
func WithoutGSr() PrinterOption { return func(p *Printer) { p.noGSr = true } }

// WithOutputDir saves every finished page as page-NNN.png and .txt in dir.
func WithOutputDir(dir string) PrinterOption { return func(p *Printer) { p.outDir = dir } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) PrinterOption { return func(p *Printer) { p.log = l } }

// NewPrinter returns a simulated printer of the given profile.
func NewPrinter(prof escpos.Profile, opts ...PrinterOption) (*Printer, error) {
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	g, err := escpos.NewGlyphs()
	if err != nil {
		return nil, err
	}
	p := &Printer{
		prof: prof, glyphs: g, paperL: -1, wake: make(chan struct{}, 1),
		xoffFree: defaultXOFFFree, xonFree: defaultXONFree,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(p)
	}
	p.page = newPageRender(p)
	return p, nil
}

// Name is the device's name in devsim and its symlink.
func (p *Printer) Name() string { return "printer" }

// Profile returns the simulated model's profile.
func (p *Printer) Profile() escpos.Profile { return p.prof }

// Serve runs the printer on the master side of pt until ctx ends or the
// pty fails. With WithPrinterBaud, bytes sent while the host's line is set
// to another rate are noise to the printer and get no answer, so a probe
// finds the printer only at its own baud.
func (p *Printer) Serve(ctx context.Context, pt *PTY) error {
	m, err := PollableMaster(pt)
	if err != nil {
		return err
	}
	defer m.Close()
	stop := context.AfterFunc(ctx, func() { m.SetReadDeadline(time.Now()) })
	defer stop()
	return p.serve(ctx, m, func() bool { return HostBaudMatches(m, p.baud) })
}

// ServeConn runs the printer on any byte stream; it returns when a read
// fails, so the caller ends it by closing rw.
func (p *Printer) ServeConn(ctx context.Context, rw io.ReadWriter) error {
	return p.serve(ctx, rw, nil)
}

func (p *Printer) serve(ctx context.Context, rw io.ReadWriter, accept func() bool) error {
	p.mu.Lock()
	p.w = rw
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.printLoop(ctx)
	}()
	buf := make([]byte, 512)
	var err error
	for {
		n, rerr := rw.Read(buf)
		if n > 0 && (accept == nil || accept()) {
			p.receive(buf[:n])
		}
		if ctx.Err() != nil {
			break
		}
		if rerr != nil {
			// A deadline is only set when ctx ends; EIO is the host side gone.
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, os.ErrClosed) && !errors.Is(rerr, syscall.EIO) && !errors.Is(rerr, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("printer sim read: %w", rerr)
			}
			break
		}
	}
	cancel()
	<-done
	return err
}

func (p *Printer) send(b byte) {
	p.mu.Lock()
	w := p.w
	p.mu.Unlock()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if w != nil {
		_, _ = w.Write([]byte{b}) // a host that went away cannot be told anything
	}
}

func (p *Printer) nudge() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Default flow-control thresholds, after Epson's TM-T88III: busy when 128
// bytes remain free, ready again when 256 are free.
const (
	defaultXOFFFree = 128
	defaultXONFree  = 256
)

// WithFlowThresholds sets when the printer sends XOFF (fewer than xoff bytes
// free) and XON (at least xon free). Citizen's CLP keeps 128 and 1 KB; a
// wider margin gives a host on a loaded machine more time to react.
func WithFlowThresholds(xoff, xon int) PrinterOption {
	return func(p *Printer) { p.xoffFree, p.xonFree = xoff, max(xon, xoff) }
}

// receive runs in the reader goroutine, at "interrupt time": real-time
// commands are answered here, before the bytes join the buffer.
func (p *Printer) receive(b []byte) {
	var replies []byte
	p.mu.Lock()
	now := time.Now()
	for _, c := range b {
		p.stats.Received++
		realtime := p.rtState >= 2 || c == escpos.DLE ||
			(p.rtState == 1 && (c == escpos.EOT || c == escpos.ENQ))
		if !realtime {
			p.stats.LastDataAt = now
		}
		clear := false
		switch p.rtState {
		case 1:
			switch c {
			case escpos.EOT:
				p.rtState = 2
			case escpos.ENQ:
				p.rtState = 3
			case escpos.DLE:
				p.rtState = 1
			default:
				p.rtState = 0
			}
		case 2:
			p.rtState = 0
			if c >= 1 && c <= 4 {
				p.stats.StatusReqs++
				replies = append(replies, p.statusByteLocked(int(c)))
			}
		case 3:
			p.rtState = 0
			if c == 2 {
				clear = true
			}
		default:
			if c == escpos.DLE {
				p.rtState = 1
			}
		}
		if clear {
			// DLE ENQ 2: drop the receive buffer and the line being built.
			p.rbuf = p.rbuf[:0]
			p.clearReq = true // the print loop owns the decoder
			continue
		}
		if len(p.rbuf) >= p.prof.ReceiveBuffer {
			p.stats.Dropped++
			continue
		}
		p.rbuf = append(p.rbuf, c)
	}
	sendXOFF := !p.xoff && p.prof.ReceiveBuffer-len(p.rbuf) < p.xoffFree
	if sendXOFF {
		p.xoff = true
		p.stats.XOFFs++
	}
	p.mu.Unlock()
	for _, r := range replies {
		p.send(r)
	}
	if sendXOFF {
		p.send(escpos.XOFF)
	}
	p.nudge()
}

func (p *Printer) offlineLocked() bool { return p.paperE || p.cover }

func (p *Printer) nearEndLocked() bool {
	return p.paperL >= 0 && p.paperL < 5*defaultLineSpacing
}

// statusByteLocked answers DLE EOT n.
func (p *Printer) statusByteLocked(n int) byte {
	b := byte(0x12)
	switch n {
	case 1:
		if p.offlineLocked() {
			b |= 0x08
		}
	case 2:
		if p.cover {
			b |= 0x04
		}
		if p.paperE {
			b |= 0x20
		}
	case 4:
		if p.nearEndLocked() || p.paperE {
			b |= 0x0C
		}
		if p.paperE {
			b |= 0x60
		}
	}
	return b
}

// printLoop takes bytes from the receive buffer and prints them, unless the
// printer is offline.
func (p *Printer) printLoop(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		var chunk []byte
		if p.clearReq {
			p.clearReq = false
			p.page.dec.Reset()
			p.page.line, p.page.lineTxt = p.page.line[:0], p.page.lineTxt[:0]
		}
		if !p.offlineLocked() && len(p.rbuf) > 0 {
			n := min(len(p.rbuf), 64)
			chunk = append(chunk, p.rbuf[:n]...)
			p.rbuf = append(p.rbuf[:0], p.rbuf[n:]...)
		}
		p.mu.Unlock()
		if chunk == nil {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			case <-tick.C:
			}
			p.maybeXON()
			continue
		}
		rows := p.page.feed(chunk)
		if p.dotRowsPerSec > 0 && rows > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rows) * time.Second / time.Duration(p.dotRowsPerSec)):
			}
		}
		p.maybeXON()
	}
}

func (p *Printer) maybeXON() {
	p.mu.Lock()
	on := p.xoff && !p.offlineLocked() && p.prof.ReceiveBuffer-len(p.rbuf) >= p.xonFree
	if on {
		p.xoff = false
		p.stats.XONs++
	}
	p.mu.Unlock()
	if on {
		p.send(escpos.XON)
	}
}

// goOffline is called by the renderer when the paper runs out.
func (p *Printer) goOffline() {
	p.mu.Lock()
	p.paperE = true
	send := p.busyLocked()
	p.mu.Unlock()
	if send {
		p.send(escpos.XOFF)
	}
}

// busyLocked marks a printer that just went offline busy (XOFF), as with
// the "buffer full + offline" DIP setting, and reports whether the XOFF is
// still to be sent (after p.mu is released).
func (p *Printer) busyLocked() bool {
	if p.xoff {
		return false
	}
	p.xoff = true
	p.stats.XOFFs++
	return true
}

// Stats returns the line counters.
func (p *Printer) Stats() PrinterStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Pages returns the pages printed so far.
func (p *Printer) Pages() []PrintedPage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PrintedPage(nil), p.pages...)
}

// Status describes the simulated state, for the devsim console.
func (p *Printer) Status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	paper := "unlimited"
	if p.paperL >= 0 {
		paper = fmt.Sprintf("%d lines", p.paperL/defaultLineSpacing)
	}
	return fmt.Sprintf("printer %s: paper-end=%v cover-open=%v paper-left=%s buffered=%d pages=%d received=%d dropped=%d xoff=%d xon=%d",
		p.prof.Name, p.paperE, p.cover, paper, len(p.rbuf), len(p.pages), p.stats.Received, p.stats.Dropped, p.stats.XOFFs, p.stats.XONs)
}

// SetPaperLeft makes the paper run out after the given number of default
// lines (30 dot rows each) from now; negative means an endless roll.
func (p *Printer) SetPaperLeft(lines int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lines < 0 {
		p.paperL = -1
		return
	}
	p.paperL = lines * defaultLineSpacing
	if lines == 0 {
		p.paperE = true
	}
}

// RefillPaper loads a new roll; the printer comes back online if its cover
// is shut.
func (p *Printer) RefillPaper() {
	p.mu.Lock()
	p.paperE, p.paperL = false, -1
	p.mu.Unlock()
	p.nudge()
}

// SetGSr makes the printer answer GS r (the default) or, like
// WithoutGSr, never.
func (p *Printer) SetGSr(answer bool) {
	p.mu.Lock()
	p.noGSr = !answer
	p.mu.Unlock()
}

// SetCoverOpen opens or shuts the cover. An open cover takes the printer offline.
func (p *Printer) SetCoverOpen(open bool) {
	p.mu.Lock()
	p.cover = open
	send := open && p.busyLocked()
	p.mu.Unlock()
	if send {
		p.send(escpos.XOFF)
	}
	p.nudge()
}

// Command runs a console command (without the leading "printer"):
//
//	paperout N    the paper runs out after N more lines
//	paper refill  load a new roll
//	cover open|close
//	status
func (p *Printer) Command(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("printer: want paperout N | paper refill | cover open|close | status")
	}
	switch args[0] {
	case "paperout":
		if len(args) != 2 {
			return "", errors.New("printer paperout: want a number of lines")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			return "", fmt.Errorf("printer paperout: bad line count %q", args[1])
		}
		p.SetPaperLeft(n)
		return fmt.Sprintf("paper runs out after %d lines", n), nil
	case "paper":
		if len(args) != 2 || args[1] != "refill" {
			return "", errors.New("printer paper: want refill")
		}
		p.RefillPaper()
		return "paper refilled", nil
	case "cover":
		if len(args) != 2 || (args[1] != "open" && args[1] != "close") {
			return "", errors.New("printer cover: want open or close")
		}
		p.SetCoverOpen(args[1] == "open")
		return "cover " + args[1], nil
	case "status":
		return p.Status(), nil
	}
	return "", fmt.Errorf("printer: unknown command %q", args[0])
}

// finishPage stores a finished page and writes it out if asked to.
func (p *Printer) finishPage(pg PrintedPage) {
	// Files first, so that whoever sees the page in Pages can open them.
	// Only the print loop finishes pages, so n cannot change meanwhile.
	p.mu.Lock()
	n := len(p.pages) + 1
	p.mu.Unlock()
	if p.outDir != "" {
		p.savePage(pg, n)
	}
	p.mu.Lock()
	p.pages = append(p.pages, pg)
	p.mu.Unlock()
}

func (p *Printer) savePage(pg PrintedPage, n int) {
	base := filepath.Join(p.outDir, fmt.Sprintf("page-%03d", n))
	err := os.MkdirAll(p.outDir, 0o755)
	var b []byte
	if err == nil {
		b, err = pg.PNG()
	}
	if err == nil {
		err = os.WriteFile(base+".png", b, 0o644)
	}
	if err == nil {
		err = os.WriteFile(base+".txt", []byte(pg.Text), 0o644)
	}
	if err != nil {
		p.log.Error("printer sim: save page", "err", err)
		return
	}
	p.log.Info("printer sim: page printed", "png", base+".png", "torn", pg.Torn)
}

// consumePaper advances the paper by rows; it reports false when the paper
// ran out first.
func (p *Printer) consumePaper(rows int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paperL < 0 {
		return true
	}
	p.paperL -= rows
	if p.paperL < 0 {
		p.paperL = 0 // not "unlimited": the roll is empty
		return false
	}
	return true
}

func (p *Printer) replyBuffered(n int) {
	p.mu.Lock()
	if p.noGSr {
		p.stats.GSrIgnored++
		p.mu.Unlock()
		return
	}
	p.stats.GSr++
	var b byte
	if n == 1 || n == '1' {
		if p.nearEndLocked() {
			b |= 0x03
		}
		if p.paperE {
			b |= 0x0C
		}
	}
	p.mu.Unlock()
	p.send(b)
}

const defaultLineSpacing = 30

// pageRender turns decoded commands into a page image and text.
type pageRender struct {
	p       *Printer
	dec     *POSDecoder
	canvas  *escpos.Bitmap
	y       int
	text    strings.Builder
	line    []lineGlyph
	lineTxt []rune
	align   int
	lineAl  int
	w, h    int
	bold    bool
	spacing int
	qrData  []byte
	qrMod   int
	qrLevel int
	barH    int
	barW    int
	qrs     []string
	images  int
	inImage bool
}

type lineGlyph struct {
	r       rune
	w, h    int
	bold    bool
	garbage bool
}
