// Package printer drives an ESC/POS receipt printer on a serial line: it
// checks paper and cover before a job, writes whole commands paced at the
// baud rate with XON/XOFF flow control done in user space (tarm/serial sets
// none), watches real-time status between commands, confirms after the cut
// that the whole job came out, and can print the last job again. It also
// lays out the resident's receipt for 58 and 80 mm paper.
package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/serialport"
)

// Conditions callers act on.
var (
	ErrPaperOut  = errors.New("printer: out of paper")
	ErrCoverOpen = errors.New("printer: cover open")
	ErrOffline   = errors.New("printer: offline")
	ErrFault     = errors.New("printer: cutter or mechanical error")
	ErrNoReply   = errors.New("printer: no reply to status query")
	ErrNoJob     = errors.New("printer: no job to reprint")
)

// Port is the serial line the printer talks over; *serialport.Port has it.
// Read must return an error wrapping serialport.ErrClosed once the port is
// closed, and other errors while the device is away (the port reopens by
// itself).
type Port interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	Close() error
	State() serialport.State
}

var _ Port = (*serialport.Port)(nil)

// Options say what model the printer is, at what baud it runs and how long
// to wait for it. Zero timeouts take the defaults.
type Options struct {
	// Baud is the line's rate; writes are paced at it. Required.
	Baud    int
	Profile escpos.Profile
	// StatusTimeout bounds the wait for one DLE EOT reply (default 500 ms).
	StatusTimeout time.Duration
	// PauseTimeout is how long an XOFF that came in the middle of a command
	// may last before the driver asks for status anyway (default 2 s): a
	// printer that went offline sends XOFF and never XON.
	PauseTimeout time.Duration
	// DoneTimeout bounds the wait, after the last byte, for the printer to
	// finish printing (default 30 s plus the job's own time).
	DoneTimeout time.Duration
	// SettleTime is how long status is watched after the last byte on a
	// printer that does not confirm a job with GS r: its profile lacks
	// transmit_status, or Probe found it does not answer (default 2 s).
	SettleTime time.Duration
	// ProbeWait bounds Probe's wait for the reply to GS r 1 (default 1 s;
	// the printer is idle then, so a printer that answers does at once).
	ProbeWait time.Duration
	Logger    *slog.Logger
}

// Capabilities are what Probe found the printer to answer. Models differ
// from their profiles: some that print everything never answer GS r.
type Capabilities struct {
	// Probed is false until a Probe got an answer to DLE EOT.
	Probed bool
	// RealtimeStatus: the printer answers DLE EOT (paper, cover, errors).
	RealtimeStatus bool
	// TransmitStatus: the printer answers GS r 1 in order from its buffer,
	// so the end of a job is confirmed by its reply. Without it the end is
	// judged by watching real-time status for Options.SettleTime.
	TransmitStatus bool
}

func (c Capabilities) String() string {
	if !c.Probed {
		return "not probed"
	}
	gsr := "no GS r (end of job by real-time status)"
	if c.TransmitStatus {
		gsr = "GS r"
	}
	return "DLE EOT, " + gsr
}

// Progress says how far a job got.
type Progress struct {
	BytesSent, BytesTotal       int
	CommandsSent, CommandsTotal int
	// Printed is true once the printer confirmed, after the cut, that it
	// had printed everything.
	Printed bool
}

// JobError is a failed job with how far it got. It unwraps to the cause
// (ErrPaperOut, ErrCoverOpen, …).
type JobError struct {
	Err      error
	Progress Progress
}

func (e *JobError) Error() string {
	return fmt.Sprintf("%v (sent %d of %d bytes, %d of %d commands)", e.Err,
		e.Progress.BytesSent, e.Progress.BytesTotal, e.Progress.CommandsSent, e.Progress.CommandsTotal)
}

func (e *JobError) Unwrap() error { return e.Err }

// Event is a change the printer reported on its own.
type Event struct {
	Status escpos.Status
	Err    error // nil when the printer is ready
}

// Printer is one receipt printer. Its methods may be called from any
// goroutine; jobs run one at a time.
type Printer struct {
	cfg    Options
	port   Port
	log    *slog.Logger
	glyphs *escpos.Glyphs

	ops     sync.Mutex // one job or status query at a time
	last    *escpos.Job
	partial bool         // the last job failed with part of it printed on the roll
	caps    Capabilities // written under ops and mu; read under either

	status   chan byte     // DLE EOT replies
	buffered chan byte     // GS r replies
	flow     chan struct{} // nudged on every XON/XOFF
	events   chan Event

	mu       sync.Mutex
	paused   bool  // XOFF received, XON not yet
	lastErr  error // errKind of the last status
	nearEnd  bool
	reported bool // the first status is always an event
	stray    int  // bytes that fit no reply pattern

	stop context.CancelFunc
	done chan struct{}
}

// Open opens the serial port at path (the device may be absent; it is
// opened when it appears) and drives the printer on it with New.
func Open(path string, o Options) (*Printer, error) {
	if err := o.Profile.Validate(); err != nil {
		return nil, err
	}
	if o.Baud <= 0 {
		return nil, fmt.Errorf("printer: baud %d", o.Baud)
	}
	port, err := serialport.Open(serialport.Config{Path: path, Baud: o.Baud, AllowAbsent: true})
	if err != nil {
		return nil, fmt.Errorf("printer: %w", err)
	}
	if o.Logger != nil {
		o.Logger = o.Logger.With("port", path)
	}
	p, err := New(port, o)
	if err != nil {
		port.Close()
		return nil, err
	}
	return p, nil
}

// New drives the printer on port and starts the reader that sorts what the
// printer sends. The printer owns port from now on: Close closes it.
func New(port Port, cfg Options) (*Printer, error) {
	if err := cfg.Profile.Validate(); err != nil {
		return nil, err
	}
	if cfg.Baud <= 0 {
		return nil, fmt.Errorf("printer: baud %d", cfg.Baud)
	}
	if cfg.StatusTimeout <= 0 {
		cfg.StatusTimeout = 500 * time.Millisecond
	}
	if cfg.PauseTimeout <= 0 {
		cfg.PauseTimeout = 2 * time.Second
	}
	if cfg.DoneTimeout <= 0 {
		cfg.DoneTimeout = 30 * time.Second
	}
	if cfg.SettleTime <= 0 {
		cfg.SettleTime = 2 * time.Second
	}
	if cfg.ProbeWait <= 0 {
		cfg.ProbeWait = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g, err := escpos.NewGlyphs()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Printer{
		cfg: cfg, port: port, log: cfg.Logger.With("device", "printer"), glyphs: g,
		status: make(chan byte, 16), buffered: make(chan byte, 16), flow: make(chan struct{}, 1),
		events: make(chan Event, 8), stop: cancel, done: make(chan struct{}),
	}
	go p.reader(ctx)
	return p, nil
}

// Close stops the reader and closes the port.
func (p *Printer) Close() error {
	p.stop()
	err := p.port.Close()
	<-p.done
	return err
}

// Profile is the printer model's profile.
func (p *Printer) Profile() escpos.Profile { return p.cfg.Profile }

// Events delivers status changes noticed while printing or polling. Events
// are dropped when nobody reads them.
func (p *Printer) Events() <-chan Event { return p.events }

// PortState is the serial port's health ("ok", "absent", "error: …").
func (p *Printer) PortState() serialport.State { return p.port.State() }

// StrayBytes counts received bytes that were neither flow control nor a
// status reply (ASB messages, line noise): a growing count on a quiet
// printer points at a wrong baud or a bad cable.
func (p *Printer) StrayBytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stray
}

// reader sorts incoming bytes: flow control, real-time replies, buffered
// replies; anything else (ASB, line noise) is counted and dropped.
func (p *Printer) reader(ctx context.Context) {
	defer close(p.done)
	var sc escpos.ReplyScanner
	buf := make([]byte, 64)
	for ctx.Err() == nil {
		n, err := p.port.Read(buf)
		for _, b := range buf[:n] {
			switch sc.Next(b) {
			case escpos.ReplyXON:
				p.setPaused(false)
			case escpos.ReplyXOFF:
				p.setPaused(true)
			case escpos.ReplyRealtime:
				deliver(p.status, b)
			case escpos.ReplyBuffered:
				deliver(p.buffered, b)
			default:
				p.mu.Lock()
				p.stray++
				p.mu.Unlock()
			}
		}
		if errors.Is(err, serialport.ErrClosed) {
			return
		}
		if err != nil {
			// Unplugged: the port reopens itself; a paused line is
			// meaningless after that.
			p.setPaused(false)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// deliver queues b, dropping the oldest reply if nobody took it: a stale
// reply is worth less than the newest one.
func deliver(ch chan byte, b byte) {
	for {
		select {
		case ch <- b:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

func (p *Printer) setPaused(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
	select {
	case p.flow <- struct{}{}:
	default:
	}
}

func (p *Printer) isPaused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// query sends DLE EOT n and waits for its one-byte reply. The query is
// idempotent, so a reply lost to line noise (or to the port reopening
// under us) is asked for once more before the printer counts as silent.
func (p *Printer) query(ctx context.Context, n int) (byte, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var b byte
		if b, err = p.queryOnce(ctx, n); err == nil || !errors.Is(err, ErrNoReply) {
			return b, err
		}
	}
	return 0, err
}

func (p *Printer) queryOnce(ctx context.Context, n int) (byte, error) {
	for len(p.status) > 0 {
		<-p.status // a reply nobody waited for would be taken for this one
	}
	if _, err := p.port.Write(escpos.StatusQuery(n)); err != nil {
		return 0, fmt.Errorf("printer: status query: %w", err)
	}
	t := time.NewTimer(p.cfg.StatusTimeout)
	defer t.Stop()
	select {
	case b := <-p.status:
		return b, nil
	case <-t.C:
		return 0, fmt.Errorf("%w (DLE EOT %d)", ErrNoReply, n)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// readStatus asks DLE EOT 1, and 2..4 when full or when the printer is offline.
func (p *Printer) readStatus(ctx context.Context, full bool) (escpos.Status, error) {
	var st escpos.Status
	b, err := p.query(ctx, 1)
	if err != nil {
		return st, err
	}
	_ = st.Apply(1, b) // the reader only delivers bytes of the reply pattern
	if !full && st.Online {
		return st, nil
	}
	for n := 2; n <= 4; n++ {
		b, err := p.query(ctx, n)
		if err != nil {
			return st, err
		}
		_ = st.Apply(n, b)
	}
	return st, nil
}

// statusErr maps a status to the error a caller acts on, nil when ready.
func statusErr(st escpos.Status) error {
	switch {
	case st.PaperEnd || st.PaperStop:
		return ErrPaperOut
	case st.CoverOpen:
		return ErrCoverOpen
	case st.CutterError || st.Unrecoverable:
		return ErrFault
	case !st.Online:
		return ErrOffline
	}
	return nil
}

// errKind reduces err to the sentinel it wraps, so that the same condition
// reported twice with different details is not a change.
func errKind(err error) error {
	for _, k := range []error{ErrPaperOut, ErrCoverOpen, ErrFault, ErrOffline, ErrNoReply, serialport.ErrDisconnected} {
		if errors.Is(err, k) {
			return k
		}
	}
	return err
}

func (p *Printer) noteStatus(st escpos.Status, err error) {
	p.mu.Lock()
	kind := errKind(err)
	changed := !p.reported || kind != p.lastErr || st.PaperNearEnd != p.nearEnd
	p.lastErr, p.nearEnd, p.reported = kind, st.PaperNearEnd, true
	p.mu.Unlock()
	if !changed {
		return
	}
	if err != nil {
		p.log.Warn("printer not ready", "status", st.String())
	} else if st.PaperNearEnd {
		p.log.Warn("printer paper near end")
	} else {
		p.log.Info("printer ready")
	}
	select {
	case p.events <- Event{Status: st, Err: err}:
	default:
	}
}

// Status reads DLE EOT 1..4. A printer that does not answer gives ErrNoReply.
func (p *Printer) Status(ctx context.Context) (escpos.Status, error) {
	p.ops.Lock()
	defer p.ops.Unlock()
	st, err := p.readStatus(ctx, true)
	if err == nil {
		p.noteStatus(st, statusErr(st))
	}
	return st, err
}

// Probe finds out what the printer answers: DLE EOT (it must, or the
// printer counts as silent: ErrNoReply) and GS r 1, which some printers
// never answer although their profile has transmit_status. The answer is
// recorded (Capabilities), so that a job on such a printer ends by
// watching real-time status instead of waiting DoneTimeout for a reply
// that never comes and then reporting a receipt that printed as failed.
// A job on a printer not yet probed probes first.
func (p *Printer) Probe(ctx context.Context) (Capabilities, error) {
	p.ops.Lock()
	defer p.ops.Unlock()
	return p.probe(ctx)
}

func (p *Printer) probe(ctx context.Context) (Capabilities, error) {
	st, err := p.readStatus(ctx, true)
	if err != nil {
		return p.Capabilities(), err
	}
	p.noteStatus(st, statusErr(st))
	c := Capabilities{Probed: true, RealtimeStatus: true}
	if p.cfg.Profile.TransmitStatus {
		// Idle now, so the buffer is empty and GS r is answered at once if
		// it is answered at all.
		for len(p.buffered) > 0 {
			<-p.buffered
		}
		if err := p.writeCommand(ctx, escpos.TransmitPaperStatus(), newPacer(p.cfg.Baud)); err != nil {
			return p.Capabilities(), err
		}
		t := time.NewTimer(p.cfg.ProbeWait)
		select {
		case <-p.buffered:
			c.TransmitStatus = true
		case <-t.C:
			p.log.Warn("printer does not answer GS r although its profile says it does; jobs end by watching real-time status",
				"profile", p.cfg.Profile.Name)
		case <-ctx.Done():
			t.Stop()
			return p.Capabilities(), ctx.Err()
		}
		t.Stop()
	}
	p.mu.Lock()
	p.caps = c
	p.mu.Unlock()
	p.log.Info("printer probed", "capabilities", c.String())
	return c, nil
}

// Capabilities is what the last successful Probe found.
func (p *Printer) Capabilities() Capabilities {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.caps
}

// Monitor polls status every interval while no job is running, so that
// paper running out, an open cover or an unplugged printer reach Events
// before a resident needs a receipt. It returns when ctx ends.
func (p *Printer) Monitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.ops.TryLock() {
			continue // a job is running and watching status itself
		}
		st, err := p.readStatus(ctx, true)
		switch {
		case err == nil:
			p.noteStatus(st, statusErr(st))
		case ctx.Err() == nil:
			p.noteStatus(st, err)
		}
		p.ops.Unlock()
	}
}

// Print prints a receipt laid out for the printer's profile.
func (p *Printer) Print(ctx context.Context, r Receipt) (Progress, error) {
	job, err := r.Job(p.cfg.Profile, p.glyphs)
	if err != nil {
		return Progress{}, err
	}
	return p.PrintJob(ctx, job)
}

// PrintJob prints a job built for this printer's profile and remembers it
// for Reprint.
func (p *Printer) PrintJob(ctx context.Context, job escpos.Job) (Progress, error) {
	if job.Profile != "" && job.Profile != p.cfg.Profile.Name {
		// Paper width, fonts and QR support differ: the layout would be wrong.
		return Progress{}, fmt.Errorf("printer: job built for profile %q, printer is %q", job.Profile, p.cfg.Profile.Name)
	}
	p.ops.Lock()
	defer p.ops.Unlock()
	p.last = &job
	return p.run(ctx, job, false)
}

// Reprint prints the last job again from its start, after clearing what
// the printer may still hold of it. Use it after ErrPaperOut once paper is
// loaded: the whole receipt comes out, nothing of it is lost.
func (p *Printer) Reprint(ctx context.Context) (Progress, error) {
	p.ops.Lock()
	defer p.ops.Unlock()
	if p.last == nil {
		return Progress{}, ErrNoJob
	}
	job := *p.last
	if p.partial {
		// The start of the failed receipt is still on the roll (the cover
		// was opened, not the paper used up): cut it off first so the
		// reprint comes out as a receipt of its own.
		cut, err := escpos.NewBuilder(p.cfg.Profile, p.glyphs).Feed(1).Cut().Build()
		if err != nil {
			return Progress{}, err
		}
		job.Commands = append(cut.Commands, job.Commands...)
	}
	return p.run(ctx, job, true)
}

// run sends job. Status is checked before it, between chunks of whole
// commands, while the printer holds us off with XOFF, and after the cut.
func (p *Printer) run(ctx context.Context, job escpos.Job, clearFirst bool) (Progress, error) {
	prog := Progress{BytesTotal: job.Len(), CommandsTotal: len(job.Commands)}
	p.partial = false
	fail := func(err error) (Progress, error) {
		p.partial = prog.BytesSent > 0 && !errors.Is(err, ErrPaperOut)
		if errors.Is(err, ErrPaperOut) || errors.Is(err, ErrCoverOpen) || errors.Is(err, ErrFault) || errors.Is(err, ErrOffline) {
			// Drop the rest of the job from the printer, or it would print
			// the tail of the receipt by itself once paper is loaded.
			_, _ = p.port.Write(escpos.ClearBuffers())
		}
		p.log.Warn("print job failed", "err", err, "sent", prog.BytesSent, "total", prog.BytesTotal)
		return prog, &JobError{Err: err, Progress: prog}
	}
	if clearFirst {
		if _, err := p.port.Write(escpos.ClearBuffers()); err != nil {
			return fail(fmt.Errorf("printer: clear buffers: %w", err))
		}
	}
	p.setPaused(false) // a fresh job starts from a known line state; XOFF re-arrives if still busy
	if !p.Capabilities().Probed {
		// Before the first job: whether the end of a job can be
		// confirmed by GS r. A printer that does not answer at all fails
		// the job below as it always did.
		if _, err := p.probe(ctx); err != nil && ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
	st, err := p.readStatus(ctx, true)
	if err != nil {
		return fail(err)
	}
	serr := statusErr(st)
	p.noteStatus(st, serr)
	if serr != nil {
		return fail(serr)
	}
	chunk := max(64, p.cfg.Profile.ReceiveBuffer/4)
	inChunk := 0
	pacer := newPacer(p.cfg.Baud)
	for _, cmd := range job.Commands {
		if inChunk > 0 && inChunk+len(cmd.Bytes) > chunk {
			// Between whole commands: the only place a DLE EOT may go.
			if err := p.checkpoint(ctx); err != nil {
				return fail(err)
			}
			inChunk = 0
		}
		if err := p.writeCommand(ctx, cmd.Bytes, pacer); err != nil {
			return fail(err)
		}
		inChunk += len(cmd.Bytes)
		prog.BytesSent += len(cmd.Bytes)
		prog.CommandsSent++
	}
	if err := p.awaitPrinted(ctx, job.Len()); err != nil {
		return fail(err)
	}
	prog.Printed = true
	// After the cut: a roll that ended on the last receipt is worth knowing now.
	if st, err := p.readStatus(ctx, true); err == nil {
		p.noteStatus(st, statusErr(st))
	}
	return prog, nil
}

// checkpoint waits out an XOFF and checks status; it is only called between
// whole commands.
func (p *Printer) checkpoint(ctx context.Context) error {
	for {
		if err := p.fault(ctx); err != nil {
			return err
		}
		if !p.isPaused() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.flow:
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// fault asks for real-time status between commands and returns what stops
// the job (ErrPaperOut, ErrCoverOpen, …, or the query's own error), nil
// when the printer can go on.
func (p *Printer) fault(ctx context.Context) error {
	st, err := p.readStatus(ctx, false)
	if err != nil {
		return err
	}
	if serr := statusErr(st); serr != nil {
		p.noteStatus(st, serr)
		return serr
	}
	return nil
}

// xoffSlack is how many bytes may still follow an XOFF: printers send it
// with at least 128 bytes free, so finishing a short command is safe and
// keeps the pause on a command boundary, where status may be asked.
const xoffSlack = 64

// writeCommand writes one command paced at the baud rate, pausing on XOFF.
func (p *Printer) writeCommand(ctx context.Context, b []byte, pc *pacer) error {
	for off := 0; off < len(b); {
		if p.isPaused() && len(b)-off > xoffSlack {
			if err := p.waitXON(ctx); err != nil {
				return err
			}
			pc.restart()
		}
		end := min(off+pc.burst, len(b))
		if p.isPaused() {
			end = len(b) // within the slack: finish the command
		}
		if _, err := p.port.Write(b[off:end]); err != nil {
			return fmt.Errorf("printer: write: %w", err)
		}
		if err := pc.wait(ctx, end-off); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// waitXON waits for XON in the middle of a command. Asking for status here
// would corrupt the command, so it only asks once the pause has lasted
// PauseTimeout, when the printer has most likely gone offline.
func (p *Printer) waitXON(ctx context.Context) error {
	t := time.NewTimer(p.cfg.PauseTimeout)
	defer t.Stop()
	for p.isPaused() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.flow:
		case <-t.C:
			if err := p.fault(ctx); err != nil {
				return err
			}
			t.Reset(p.cfg.PauseTimeout)
		}
	}
	return nil
}

// awaitPrinted sends GS r 1, which the printer answers only when it has
// processed everything before it, and meanwhile polls real-time status so
// that paper running out during the cut is reported as such. For a printer
// that does not answer GS r (its profile lacks transmit_status, or Probe
// found it silent) it only watches status for SettleTime.
func (p *Printer) awaitPrinted(ctx context.Context, n int) error {
	for len(p.buffered) > 0 {
		<-p.buffered
	}
	var answered <-chan byte = p.buffered
	// Generous: a thermal head prints at least ~1 kB/s of receipt data.
	wait := p.cfg.DoneTimeout + time.Duration(n)*time.Millisecond
	if c := p.Capabilities(); p.cfg.Profile.TransmitStatus && (c.TransmitStatus || !c.Probed) {
		if err := p.writeCommand(ctx, escpos.TransmitPaperStatus(), newPacer(p.cfg.Baud)); err != nil {
			return err
		}
	} else {
		// No in-order reply to wait for: watch status for a while instead.
		answered, wait = nil, p.cfg.SettleTime
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(300 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-answered:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			if answered == nil {
				return nil // settled without a fault
			}
			return fmt.Errorf("%w: printer did not confirm the end of the job", ErrNoReply)
		case <-poll.C:
			if err := p.fault(ctx); err != nil {
				return err
			}
		}
	}
}

// pacer keeps writes no faster than the wire, so the kernel's transmit
// queue stays short and an XOFF stops us within a few bytes.
type pacer struct {
	byteTime time.Duration
	burst    int
	start    time.Time
	sent     int
}

func newPacer(baud int) *pacer {
	bt := time.Duration(float64(time.Second) * 10 / float64(baud))
	// About 2 ms of wire time per write: what is already written when an
	// XOFF arrives eats into the printer's margin (128 bytes is 11 ms at
	// 115200 baud).
	// At low rates at least 8 bytes, or sleeping per byte costs more than
	// the wire (8 bytes are 8 ms at 9600 baud, well inside the margin).
	return &pacer{byteTime: bt, burst: max(8, int(2*time.Millisecond/bt)), start: time.Now()}
}

func (pc *pacer) restart() { pc.start, pc.sent = time.Now(), 0 }

func (pc *pacer) wait(ctx context.Context, n int) error {
	pc.sent += n
	d := time.Until(pc.start.Add(time.Duration(pc.sent) * pc.byteTime))
	if d < -20*time.Millisecond {
		// We were held up (status query, XOFF): do not burst to catch up.
		pc.restart()
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
