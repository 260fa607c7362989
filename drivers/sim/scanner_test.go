package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/scanner/wire"
	"onedoor/drivers/serialport"
)

// rawHost talks to the simulated scanner frame by frame, without the
// driver, to pin down the device side of the protocol.
type rawHost struct {
	t    *testing.T
	port *serialport.Port
	rx   []byte
}

func newRawHost(t *testing.T, s *Scanner, baud int) *rawHost {
	t.Helper()
	pt, err := OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pt) }()
	p, err := serialport.Open(serialport.Config{Path: pt.SlavePath, Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		p.Close()
		pt.Close()
	})
	return &rawHost{t: t, port: p}
}

func (h *rawHost) send(typ, seq byte, payload []byte) {
	h.t.Helper()
	b, err := wire.Encode(wire.Frame{Type: typ, Seq: seq, Payload: payload})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.port.Write(b); err != nil {
		h.t.Fatal(err)
	}
}

// recv returns the next frame, or fails the test after timeout.
func (h *rawHost) recv(timeout time.Duration) (wire.Frame, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 8192)
	for {
		f, n, _, err := wire.Decode(h.rx)
		h.rx = h.rx[n:]
		if err == nil {
			f.Payload = bytes.Clone(f.Payload)
			return f, nil
		}
		if !errors.Is(err, wire.ErrNeedMore) {
			return wire.Frame{}, err
		}
		if time.Now().After(deadline) {
			return wire.Frame{}, serialport.ErrTimeout
		}
		m, err := h.port.Read(buf)
		if err != nil {
			h.t.Fatal(err)
		}
		h.rx = append(h.rx, buf[:m]...)
	}
}

func (h *rawHost) expect(typ byte, seq byte) wire.Frame {
	h.t.Helper()
	// Only a bound on a frame that must come: under CPU load and the race
	// detector, rendering a page before BEGIN took longer than 3 s.
	f, err := h.recv(30 * time.Second)
	if err != nil {
		h.t.Fatalf("waiting for %#02x: %v", typ, err)
	}
	if f.Type != typ || f.Seq != seq {
		h.t.Fatalf("got %v (payload %q), want type %#02x seq %d", f, f.Payload, typ, seq)
	}
	return f
}

func TestScannerSimProtocol(t *testing.T) {
	s := NewScanner(WithScannerBaud(0))
	h := newRawHost(t, s, 115200)
	if err := s.Feed("certificate", 2); err != nil {
		t.Fatal(err)
	}

	// Noise before a frame (a printer probe, a SAM frame) is ignored.
	if _, err := h.port.Write([]byte{0x10, 0x04, 0x01, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.port.Write(wire.HelloFrame()); err != nil {
		t.Fatal(err)
	}
	id, err := wire.ParseIdent(h.expect(wire.TypeIdent, 0).Payload)
	if err != nil || id.MaxChunk != wire.MaxChunk {
		t.Fatalf("ident %+v %v", id, err)
	}

	h.send(wire.TypeOptions, 1, wire.Options{DPI: 100, Mode: wire.ModeGrey, Page: wire.PageA5, Chunk: 4000}.Marshal())
	o, err := wire.ParseOptions(h.expect(wire.TypeOptionsOK, 1).Payload)
	if err != nil || o.Chunk != 4000 || o.DPI != 100 {
		t.Fatalf("options echo %+v %v", o, err)
	}

	// SCAN, then the same SCAN again as if the BEGIN had been lost: the
	// same image is announced and only one sheet leaves the feeder.
	h.send(wire.TypeScan, 2, nil)
	b1 := h.expect(wire.TypeBegin, 2)
	h.send(wire.TypeScan, 2, nil)
	b2 := h.expect(wire.TypeBegin, 2)
	if !bytes.Equal(b1.Payload, b2.Payload) || s.Stats().Scans != 1 {
		t.Fatalf("repeated SCAN scanned again: %d scans", s.Stats().Scans)
	}
	begin, err := wire.ParseBegin(b1.Payload)
	if err != nil || begin.Width != 583 || begin.Height != 827 || begin.Chunk != 4000 {
		t.Fatalf("begin %+v %v", begin, err)
	}

	// Pull the image, asking for the middle first: the device serves any
	// offset, which is what resuming relies on.
	img := make([]byte, begin.Total)
	got := 0
	seq := byte(3)
	for _, off := range append([]uint32{8000}, offsets(begin.Total, 4000)...) {
		h.send(wire.TypeAck, seq, wire.Ack{Offset: off}.Marshal())
		d, err := wire.ParseData(h.expect(wire.TypeData, seq).Payload)
		if err != nil || d.Offset != off {
			t.Fatalf("data at %d: %+v %v", off, d.Offset, err)
		}
		got += copy(img[off:], d.Bytes)
		seq++
	}
	h.send(wire.TypeAck, seq, wire.Ack{Offset: begin.Total}.Marshal())
	end, err := wire.ParseEnd(h.expect(wire.TypeEnd, seq).Payload)
	if err != nil || end.Sum != sha256.Sum256(img) || !bytes.Equal(img, s.LastImage()) {
		t.Fatalf("END %v: hash does not match the pulled image", err)
	}

	// A new command clears the SCAN memory: the same number now scans anew.
	h.send(wire.TypeStatus, 2, nil)
	st, _ := wire.ParseStatus(h.expect(wire.TypeStatusReply, 2).Payload)
	if st.Sheets != 1 || st.Flags&wire.FlagPaper == 0 {
		t.Fatalf("status %+v", st)
	}
	h.send(wire.TypeScan, 2, nil)
	h.expect(wire.TypeBegin, 2)
	if s.Stats().Scans != 2 {
		t.Fatalf("%d scans", s.Stats().Scans)
	}

	// ABORT drops the image; pulling afterwards is refused.
	h.send(wire.TypeAbort, 9, nil)
	h.expect(wire.TypeAborted, 9)
	h.send(wire.TypeAck, 10, wire.Ack{Offset: 0}.Marshal())
	e, _ := wire.ParseError(h.expect(wire.TypeError, 10).Payload)
	if e.Code != wire.ErrCodeNoImage {
		t.Fatalf("after abort: %+v", e)
	}

	// A damaged host frame is dropped silently; the host's time-out covers it.
	bad, _ := wire.Encode(wire.Frame{Type: wire.TypeStatus, Seq: 11})
	bad[len(bad)-1] ^= 1
	if _, err := h.port.Write(bad); err != nil {
		t.Fatal(err)
	}
	if f, err := h.recv(300 * time.Millisecond); !errors.Is(err, serialport.ErrTimeout) {
		t.Fatalf("answered a damaged frame: %v %v", f, err)
	}
	if s.Stats().BadFrames != 1 {
		t.Errorf("bad frames %d", s.Stats().BadFrames)
	}

	// Options outside the device's range are refused with a reason.
	h.send(wire.TypeOptions, 12, wire.Options{DPI: 1200}.Marshal())
	e, _ = wire.ParseError(h.expect(wire.TypeError, 12).Payload)
	if e.Code != wire.ErrCodeBadOptions || !strings.Contains(e.Detail, "1200") {
		t.Fatalf("bad options: %+v", e)
	}
}

func offsets(total, chunk uint32) []uint32 {
	var out []uint32
	for off := uint32(0); off < total; off += chunk {
		out = append(out, off)
	}
	return out
}

func TestScannerSimCommands(t *testing.T) {
	s := NewScanner()
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"pages"}, "form certificate blank blurred", ""},
		{[]string{"feed", "form"}, "fed 1 × form", ""},
		{[]string{"feed", "blank", "3"}, "fed 3 × blank", ""},
		{[]string{"feed", "passport"}, "", "unknown test page"},
		{[]string{"feed", "form", "0"}, "", "bad sheet count"},
		{[]string{"fault", "jam"}, "fault jam armed", ""},
		{[]string{"fault", "fire"}, "", "unknown fault"},
		{[]string{"status"}, "feeder [form blank blank blank], jam true", ""},
		{[]string{"clear"}, "jam cleared", ""},
		{[]string{"status"}, "jam false", ""},
		{[]string{"dance"}, "", "unknown command"},
		{nil, "", "want feed"},
	}
	for _, tc := range tests {
		got, err := s.Command(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q %v, want %q", tc.args, got, err, tc.want)
		}
	}
}
