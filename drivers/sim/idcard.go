package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// IDCardConfig configures the ID-card reader simulator.
type IDCardConfig struct {
	Baud    int           // rate the SAM talks at; 0 means 115200
	RFDelay time.Duration // SAM↔card exchange before a read answer, like a real reader (~0.3 s)
	Logger  *slog.Logger  // nil means slog.Default()
}

// IDCard simulates a second-generation ID-card reader's SAM module on the
// master side of a pty, byte for byte, paced at its baud. It answers a
// host talking at the wrong rate with silence, as a real UART would (the
// host's bytes arrive garbled); the rate is read from the pty's termios.
//
// Faults are injected with Fault and hit the next card read (30 01 or
// 30 10), once:
//
//	checksum  the answer's check byte is wrong
//	drop      20 bytes go missing from the middle of the answer
//	extra     7 noise bytes are inserted in the middle of the answer
//	silence   no answer at all
//	readfail  SW3 0x41 (read failed) instead of the data
//	pull      the card is pulled after a third of the answer was sent
//
// and two persist until cleared: "mute" (no answer to any command) and
// "none" (clears everything).
type IDCard struct {
	log     *slog.Logger
	rfDelay time.Duration
	cards   []Card

	mu       sync.Mutex
	baud     int
	placed   *Card
	found    bool
	selected bool
	read     bool // the placed card was read: find says 0x80 until it leaves
	fault    string
	muted    bool
}

// NewIDCard returns a simulator holding FictionalCards, with no card placed.
func NewIDCard(cfg IDCardConfig) *IDCard {
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &IDCard{log: cfg.Logger, rfDelay: cfg.RFDelay, cards: FictionalCards(), baud: cfg.Baud}
}

// Name is the device name devsim uses ("idcard").
func (s *IDCard) Name() string { return "idcard" }

// Cards lists the fictional cards by key.
func (s *IDCard) Cards() []Card { return FictionalCards() }

// Place puts the card with that key on the reader.
func (s *IDCard) Place(key string) error {
	for i := range s.cards {
		if s.cards[i].Key == key {
			s.mu.Lock()
			defer s.mu.Unlock()
			c := s.cards[i]
			s.placed, s.found, s.selected, s.read = &c, false, false, false
			return nil
		}
	}
	return fmt.Errorf("no card %q (have %s)", key, cardKeys(s.cards))
}

// Remove takes the card off the reader.
func (s *IDCard) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed, s.found, s.selected, s.read = nil, false, false, false
}

// Fault arms a fault (see IDCard).
func (s *IDCard) Fault(kind string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "checksum", "drop", "extra", "silence", "readfail", "pull":
		s.fault = kind
	case "mute":
		s.muted = true
	case "none":
		s.fault, s.muted = "", false
	default:
		return fmt.Errorf("unknown fault %q (checksum, drop, extra, silence, readfail, pull, mute, none)", kind)
	}
	return nil
}

// Baud is the rate the simulated SAM currently talks at.
func (s *IDCard) Baud() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baud
}

// Command runs one devsim command: place KEY, remove, fault KIND, cards,
// status.
func (s *IDCard) Command(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("idcard: place KEY | remove | fault KIND | cards | status")
	}
	switch args[0] {
	case "place":
		if len(args) != 2 {
			return "", errors.New("idcard place KEY")
		}
		if err := s.Place(args[1]); err != nil {
			return "", err
		}
		return "placed " + args[1], nil
	case "remove":
		s.Remove()
		return "removed", nil
	case "fault":
		if len(args) != 2 {
			return "", errors.New("idcard fault KIND")
		}
		if err := s.Fault(args[1]); err != nil {
			return "", err
		}
		return "fault " + args[1] + " armed", nil
	case "cards":
		var b strings.Builder
		for _, c := range s.cards {
			fmt.Fprintf(&b, "%-12s %-13s %s\n", c.Key, c.Type, c.Name)
		}
		return strings.TrimRight(b.String(), "\n"), nil
	case "status":
		s.mu.Lock()
		defer s.mu.Unlock()
		card := "none"
		if s.placed != nil {
			card = s.placed.Key
		}
		return fmt.Sprintf("baud %d, card %s, read %v, fault %q, muted %v", s.baud, card, s.read, s.fault, s.muted), nil
	}
	return "", fmt.Errorf("idcard: unknown command %q", args[0])
}

const samPreamble = "\xAA\xAA\xAA\x96\x69"

// Serve answers commands on p until ctx ends or the pty fails.
func (s *IDCard) Serve(ctx context.Context, p *PTY) error {
	m, err := PollableMaster(p)
	if err != nil {
		return err
	}
	defer m.Close()
	stop := context.AfterFunc(ctx, func() { m.SetReadDeadline(time.Now()) })
	defer stop()
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := m.Read(chunk)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("idcard sim: read pty: %w", err)
		}
		if !s.baudMatches(m) {
			// A UART at the wrong rate receives noise: nothing to answer.
			buf = buf[:0]
			continue
		}
		buf = append(buf, chunk[:n]...)
		for {
			frame, rest, ok := nextFrame(buf)
			if !ok {
				buf = rest
				break
			}
			buf = rest
			if err := s.handle(ctx, m, frame); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// PollableMaster returns a second handle on the pty's master that honours
// read deadlines, so a simulator can stop reading when its context ends.
// (creack/pty leaves the master in blocking mode, where a Read cannot be
// interrupted.) Use it for all reads and writes; Close it, and only it,
// when done: PTY.Close still closes the original. O_NONBLOCK is shared by
// both handles, so nothing else may read the original meanwhile.
func PollableMaster(p *PTY) (*os.File, error) {
	rc, err := p.Master.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("pty master: %w", err)
	}
	var fd int
	var dupErr error
	rc.Control(func(orig uintptr) {
		fd, dupErr = unix.Dup(int(orig))
	})
	if dupErr != nil {
		return nil, fmt.Errorf("dup pty master: %w", dupErr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), p.Master.Name()), nil
}

// nextFrame cuts one complete host frame out of buf; ok is false when more
// bytes are needed. Noise before a preamble is dropped.
func nextFrame(buf []byte) (frame, rest []byte, ok bool) {
	i := bytes.Index(buf, []byte(samPreamble))
	if i < 0 {
		keep := min(len(buf), len(samPreamble)-1)
		return nil, buf[len(buf)-keep:], false
	}
	buf = buf[i:]
	if len(buf) < 7 {
		return nil, buf, false
	}
	n := int(buf[5])<<8 | int(buf[6])
	if n > 1024 {
		// No host command is that long: a corrupt length. Skip this preamble.
		return nil, buf[1:], false
	}
	if len(buf) < 7+n {
		return nil, buf, false
	}
	return buf[:7+n], buf[7+n:], true
}

// baudMatches compares the rate the host set on its end of the pty with
// the simulated SAM's.
func (s *IDCard) baudMatches(m *os.File) bool { return HostBaudMatches(m, s.Baud()) }

func xorSum(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
	}
	return c
}

func samAnswer(sw3 byte, data []byte) []byte {
	n := 4 + len(data)
	f := []byte(samPreamble)
	f = append(f, byte(n>>8), byte(n), 0x00, 0x00, sw3)
	f = append(f, data...)
	return append(f, xorSum(f[5:]))
}

// handle answers one host frame.
func (s *IDCard) handle(ctx context.Context, w *os.File, f []byte) error {
	s.mu.Lock()
	baud := s.baud
	if s.muted {
		s.mu.Unlock()
		return nil
	}
	if len(f) < 10 {
		s.mu.Unlock()
		return PacedWriteTail(ctx, w, samAnswer(0x11, nil), baud)
	}
	if xorSum(f[5:len(f)-1]) != f[len(f)-1] {
		s.mu.Unlock()
		return PacedWriteTail(ctx, w, samAnswer(0x10, nil), baud)
	}
	cmd, para := f[7], f[8]
	var resp []byte
	var fault string
	newBaud := 0
	switch {
	case cmd == 0x10 && para == 0xFF:
		s.found, s.selected = false, false
		resp = samAnswer(0x90, nil)
	case cmd == 0x11 && para == 0xFF:
		resp = samAnswer(0x90, nil)
	case cmd == 0x12 && para == 0xFF:
		resp = samAnswer(0x90, samID())
	case cmd == 0x20 && para == 0x01:
		if s.placed != nil && !s.read {
			s.found = true
			resp = samAnswer(0x9F, make([]byte, 4))
		} else {
			resp = samAnswer(0x80, nil)
		}
	case cmd == 0x20 && para == 0x02:
		if s.placed != nil && s.found {
			s.selected = true
			resp = samAnswer(0x90, make([]byte, 8))
		} else {
			resp = samAnswer(0x81, nil)
		}
	case cmd == 0x30 && (para == 0x01 || para == 0x10):
		if s.placed == nil || !s.selected {
			resp = samAnswer(0x41, nil)
			break
		}
		data, err := readAnswer(*s.placed, para == 0x10)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		resp = samAnswer(0x90, data)
		fault, s.fault = s.fault, ""
		s.found, s.selected = false, false
		switch fault {
		case "readfail":
			resp = samAnswer(0x41, nil)
		case "pull":
			s.placed = nil
		default:
			s.read = true
		}
	case cmd == 0x30 && para == 0x03:
		switch {
		case s.placed == nil:
			resp = samAnswer(0x41, nil)
		case s.placed.AddressBlock() == nil:
			resp = samAnswer(0x91, nil)
		default:
			resp = samAnswer(0x90, s.placed.AddressBlock())
		}
	case cmd == 0x60 && para <= 4:
		newBaud = []int{115200, 57600, 38400, 19200, 9600}[para]
		resp = samAnswer(0x90, nil)
	case cmd == 0x61 && para == 0xFF:
		resp = samAnswer(0x90, nil)
	default:
		resp = samAnswer(0x21, nil)
	}
	rf := s.rfDelay
	s.mu.Unlock()

	// The pty hands over the host's frame at once; a real SAM has it only
	// after its last byte crossed the wire.
	if !sleepCtx(ctx, time.Duration(len(f))*ByteTime(baud)) {
		return nil
	}

	if cmd == 0x30 && (para == 0x01 || para == 0x10) && rf > 0 && resp[9] == 0x90 {
		if !sleepCtx(ctx, rf) {
			return nil
		}
	}
	switch fault {
	case "checksum":
		resp[len(resp)-1] ^= 0xFF
	case "drop":
		mid := len(resp) / 2
		resp = append(resp[:mid:mid], resp[mid+20:]...)
	case "extra":
		resp = insertNoise(resp)
	case "silence":
		return nil
	case "pull":
		resp = resp[:len(resp)/3]
	}
	s.log.Debug("idcard sim answer", "cmd", fmt.Sprintf("%02X %02X", cmd, para), "sw3", fmt.Sprintf("%02X", resp[min(9, len(resp)-1)]), "bytes", len(resp))
	if err := PacedWriteTail(ctx, w, resp, baud); err != nil {
		return err
	}
	if newBaud != 0 {
		time.Sleep(2 * time.Millisecond) // the SAM switches a moment after answering
		s.mu.Lock()
		s.baud = newBaud
		s.mu.Unlock()
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// PacedWriteTail is PacedWrite with the opposite rounding: each small burst
// is written when its last byte would have arrived on a real line, never
// before. A host then sees every frame complete no earlier than real
// hardware would deliver it, which is what latency benchmarks need.
func PacedWriteTail(ctx context.Context, w *os.File, b []byte, baud int) error {
	const burst = 16
	start := time.Now()
	for off := 0; off < len(b); off += burst {
		end := min(off+burst, len(b))
		if d := time.Until(start.Add(time.Duration(end) * ByteTime(baud))); d > 0 && !sleepCtx(ctx, d) {
			return ctx.Err()
		}
		if _, err := w.Write(b[off:end]); err != nil {
			return fmt.Errorf("write to pty: %w", err)
		}
	}
	return nil
}

// insertNoise puts 7 bytes into the middle of an answer, choosing their
// value so that the frame a host reads (by its length field) fails its
// check: a fault that could pass by luck would make tests flaky.
func insertNoise(resp []byte) []byte {
	mid := len(resp) / 2
	for v := byte(0x11); ; v++ {
		noise := bytes.Repeat([]byte{v}, 7)
		out := append(append(append([]byte(nil), resp[:mid]...), noise...), resp[mid:]...)
		framed := out[:len(resp)] // what the host takes as the frame
		if xorSum(framed[5:len(framed)-1]) != framed[len(framed)-1] {
			return out
		}
	}
}

// readAnswer is the data of a 30 01 (or 30 10) answer: lengths, text,
// photo (and fingerprints).
func readAnswer(c Card, withFP bool) ([]byte, error) {
	text, err := c.TextBlock()
	if err != nil {
		return nil, err
	}
	photo := c.Photo()
	var d []byte
	if withFP {
		fp := c.Fingerprints()
		d = []byte{0x01, 0x00, 0x04, 0x00, byte(len(fp) >> 8), byte(len(fp))}
		d = append(d, text...)
		d = append(d, photo...)
		return append(d, fp...), nil
	}
	d = []byte{0x01, 0x00, 0x04, 0x00}
	d = append(d, text...)
	return append(d, photo...), nil
}

// samID is a fictional SAM management number: 05.01-20261125-0000000042-0123456789.
func samID() []byte {
	return []byte{5, 0, 1, 0, 0x05, 0x29, 0x35, 0x01, 42, 0, 0, 0, 0x15, 0xCD, 0x5B, 0x07}
}
