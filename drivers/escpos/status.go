package escpos

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotStatus is returned for a byte that is not a DLE EOT reply.
var ErrNotStatus = errors.New("escpos: not a real-time status byte")

// Status is the printer state read with DLE EOT 1..4.
type Status struct {
	Online          bool `json:"online"`           // DLE EOT 1 bit 3 clear
	WaitingRecovery bool `json:"waiting_recovery"` // DLE EOT 1 bit 5
	FeedPressed     bool `json:"feed_pressed"`     // DLE EOT 1 bit 6
	CoverOpen       bool `json:"cover_open"`       // DLE EOT 2 bit 2
	PaperStop       bool `json:"paper_stop"`       // DLE EOT 2 bit 5: printing stopped by paper end
	ErrorOccurred   bool `json:"error_occurred"`   // DLE EOT 2 bit 6
	CutterError     bool `json:"cutter_error"`     // DLE EOT 3 bit 3
	Unrecoverable   bool `json:"unrecoverable"`    // DLE EOT 3 bit 5
	AutoRecoverable bool `json:"auto_recoverable"` // DLE EOT 3 bit 6
	PaperNearEnd    bool `json:"paper_near_end"`   // DLE EOT 4 bits 2,3
	PaperEnd        bool `json:"paper_end"`        // DLE EOT 4 bits 5,6
}

// StatusQuery is the DLE EOT n command.
func StatusQuery(n int) []byte { return []byte{DLE, EOT, byte(n)} }

// ClearBuffers is DLE ENQ 2: recover from an error after clearing the
// receive and print buffers, so a half-printed job does not resume on its own.
func ClearBuffers() []byte { return []byte{DLE, ENQ, 2} }

// TransmitPaperStatus is GS r 1. Unlike DLE EOT it is processed in order
// from the receive buffer, so its reply means "everything before me has
// been printed".
func TransmitPaperStatus() []byte { return []byte{GS, 'r', 1} }

// IsRealtimeReply reports whether b has the fixed bits of a DLE EOT reply
// (0xx1xx10).
func IsRealtimeReply(b byte) bool { return b&0x93 == 0x12 }

// Apply folds the reply b to DLE EOT n into s.
func (s *Status) Apply(n int, b byte) error {
	if !IsRealtimeReply(b) {
		return fmt.Errorf("%w: %#02x", ErrNotStatus, b)
	}
	bit := func(i uint) bool { return b&(1<<i) != 0 }
	switch n {
	case 1:
		s.Online = !bit(3)
		s.WaitingRecovery = bit(5)
		s.FeedPressed = bit(6)
	case 2:
		s.CoverOpen = bit(2)
		s.PaperStop = bit(5)
		s.ErrorOccurred = bit(6)
	case 3:
		s.CutterError = bit(3)
		s.Unrecoverable = bit(5)
		s.AutoRecoverable = bit(6)
	case 4:
		s.PaperNearEnd = b&0x0C != 0
		s.PaperEnd = b&0x60 != 0
	default:
		return fmt.Errorf("escpos: DLE EOT %d is not a status function", n)
	}
	return nil
}

// Ready reports whether a job can start: online, cover shut, paper in, no error.
func (s Status) Ready() bool {
	return s.Online && !s.CoverOpen && !s.PaperEnd && !s.PaperStop && !s.CutterError && !s.Unrecoverable
}

// String lists the conditions that are set, for technicians.
func (s Status) String() string {
	var f []string
	if s.Online {
		f = append(f, "online")
	} else {
		f = append(f, "offline")
	}
	for _, c := range []struct {
		on   bool
		name string
	}{
		{s.CoverOpen, "cover-open"}, {s.PaperEnd, "paper-end"}, {s.PaperStop, "stopped-by-paper-end"},
		{s.PaperNearEnd, "paper-near-end"}, {s.CutterError, "cutter-error"}, {s.Unrecoverable, "unrecoverable-error"},
		{s.AutoRecoverable, "auto-recoverable-error"}, {s.ErrorOccurred, "error"}, {s.WaitingRecovery, "waiting-recovery"},
		{s.FeedPressed, "feed-pressed"},
	} {
		if c.on {
			f = append(f, c.name)
		}
	}
	return strings.Join(f, ",")
}

// ReplyKind classifies a byte received from a printer.
type ReplyKind int

// What a received byte is.
const (
	ReplyUnknown  ReplyKind = iota
	ReplyXON                // DC1: resume sending
	ReplyXOFF               // DC3: stop sending
	ReplyRealtime           // answer to DLE EOT
	ReplyASB                // one of the four Automatic Status Back bytes
	ReplyBuffered           // answer to GS r (processed in order)
)

// ReplyScanner classifies the bytes a printer sends, one at a time. It keeps
// the state needed to skip the three trailing bytes of an ASB message, which
// would otherwise look like GS r replies.
type ReplyScanner struct {
	asbLeft int
}

// Next classifies b.
func (r *ReplyScanner) Next(b byte) ReplyKind {
	if r.asbLeft > 0 {
		r.asbLeft--
		return ReplyASB
	}
	switch {
	case b == XON:
		return ReplyXON
	case b == XOFF:
		return ReplyXOFF
	case IsRealtimeReply(b):
		return ReplyRealtime
	case b&0x93 == 0x10:
		r.asbLeft = 3
		return ReplyASB
	case b&0x90 == 0:
		return ReplyBuffered
	}
	return ReplyUnknown
}
