package wire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestHelloFrameIsExactAndInert(t *testing.T) {
	want := []byte{0x16, 0x02, 0x01, 0x00, 0x06, 0x00, 0x17, 0x03, 0x03, 0x16, 0x16, 0x17, 0x00, 0x02, 0x01, 0x06}
	got := HelloFrame()
	if !bytes.Equal(got, want) {
		t.Fatalf("hello frame\n got % x\nwant % x", got, want)
	}
	for i, b := range got {
		if strings.IndexByte(InertBytes, b) < 0 {
			t.Errorf("byte %d (%#02x) of the hello frame is not inert", i, b)
		}
	}
	// The SAM preamble must not appear, or a card reader would try to parse us.
	if bytes.Contains(got, []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}) {
		t.Error("hello frame contains the SAM preamble")
	}
}

// TestKnownFrames pins the example frames printed in
// docs/scanner-protocol.md §6.
func TestKnownFrames(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
		hex  string
	}{
		{"IDENT", Frame{Type: TypeIdent, Payload: Ident{Version: 1, MaxChunk: 4096, Colour: true, Feeder: true, MinDPI: 100, MaxDPI: 300, Text: "SIM"}.Marshal()}, "16 02 81 00 0B 00 01 00 10 03 64 00 2C 01 53 49 4D 5B 99 FF A0"},
		{"STATUS", Frame{Type: TypeStatus, Seq: 1}, "16 02 02 01 00 00 A0 7D 8F 8A"},
		{"STATUS_REPLY", Frame{Type: TypeStatusReply, Seq: 1, Payload: Status{Flags: FlagPaper, Sheets: 1}.Marshal()}, "16 02 82 01 03 00 00 01 01 07 8C 05 60"},
		{"OPTIONS", Frame{Type: TypeOptions, Seq: 2, Payload: Options{DPI: 200, Chunk: 1024}.Marshal()}, "16 02 03 02 06 00 C8 00 00 00 00 04 B4 AA F2 1A"},
		{"SCAN", Frame{Type: TypeScan, Seq: 3}, "16 02 04 03 00 00 12 F6 60 AC"},
		{"BEGIN", Frame{Type: TypeBegin, Seq: 3, Payload: Begin{Total: 100000, Format: FormatJPEG, Width: 1654, Height: 2339, DPI: 200, Chunk: 1024}.Marshal()}, "16 02 84 03 0E 00 A0 86 01 00 01 76 06 23 09 C8 00 00 00 04 56 BF BB C9"},
		{"ERROR", Frame{Type: TypeError, Seq: 3, Payload: Error{Code: ErrCodePaperJam}.Marshal()}, "16 02 EE 03 01 00 02 56 2A BF AC"},
		{"ACK", Frame{Type: TypeAck, Seq: 4, Payload: Ack{}.Marshal()}, "16 02 06 04 04 00 00 00 00 00 EB B0 93 CC"},
		{"DATA", Frame{Type: TypeData, Seq: 4, Payload: Data{Bytes: []byte{0xFF, 0xD8, 0xFF, 0xE0}}.Marshal()}, "16 02 85 04 08 00 00 00 00 00 FF D8 FF E0 9A 90 0E 4E"},
		{"NAK", Frame{Type: TypeNak, Seq: 5, Payload: Nak{Offset: 2048, Reason: NakCRC}.Marshal()}, "16 02 15 05 05 00 00 08 00 00 01 2A 2A 35 A8"},
		{"ABORT", Frame{Type: TypeAbort, Seq: 10}, "16 02 18 0A 00 00 BA 25 7E B9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("% X", b); got != tc.hex {
				t.Errorf("\n got %s\nwant %s", got, tc.hex)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
	}{
		{"empty payload", Frame{Type: TypeStatus, Seq: 7}},
		{"ack", Frame{Type: TypeAck, Seq: 255, Payload: Ack{Offset: 123456}.Marshal()}},
		{"max data", Frame{Type: TypeData, Seq: 1, Payload: Data{Offset: 1, Bytes: bytes.Repeat([]byte{0x16, 0x02}, MaxChunk/2)}.Marshal()}},
		{"payload containing SOF", Frame{Type: TypeError, Seq: 3, Payload: []byte{ErrCodePaperJam, 0x16, 0x02, 0x16}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			f, n, skipped, err := Decode(b)
			if err != nil || n != len(b) || skipped != 0 {
				t.Fatalf("Decode: n=%d skipped=%d err=%v", n, skipped, err)
			}
			if f.Type != tc.f.Type || f.Seq != tc.f.Seq || !bytes.Equal(f.Payload, tc.f.Payload) {
				t.Fatalf("got %v want %v", f, tc.f)
			}
		})
	}
}

func TestEncodeRejectsOversizedPayload(t *testing.T) {
	_, err := Encode(Frame{Type: TypeData, Payload: make([]byte, MaxPayload+1)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// decodeAll feeds a stream through Decode the way the driver does and
// returns the good frames and the errors met.
func decodeAll(stream []byte) (frames []Frame, errs []error) {
	for len(stream) > 0 {
		f, n, _, err := Decode(stream)
		stream = stream[n:]
		switch {
		case errors.Is(err, ErrNeedMore):
			return frames, errs
		case err != nil:
			errs = append(errs, err)
		default:
			frames = append(frames, f)
		}
	}
	return frames, errs
}

func TestDecodeStream(t *testing.T) {
	a, _ := Encode(Frame{Type: TypeAck, Seq: 1, Payload: Ack{Offset: 10}.Marshal()})
	b, _ := Encode(Frame{Type: TypeNak, Seq: 2, Payload: Nak{Offset: 20, Reason: NakCRC}.Marshal()})
	bad := slices.Clone(b)
	bad[8] ^= 0x40 // one flipped bit in the payload
	badLen := slices.Clone(a)
	badLen[4], badLen[5] = 0xFF, 0xFF // length beyond MaxPayload
	printerStatus := []byte{0x10, 0x04, 0x01}
	samFrame := []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED}

	tests := []struct {
		name      string
		stream    []byte
		wantSeqs  []byte
		wantErrIs []error
	}{
		{"two frames", concat(a, b), []byte{1, 2}, nil},
		{"garbage before", concat(printerStatus, samFrame, a), []byte{1}, nil},
		{"corrupt payload then good", concat(bad, a), []byte{1}, []error{ErrCRC}},
		{"corrupt length then good", concat(badLen, b), []byte{2}, []error{ErrLength}},
		{"truncated frame then good", concat(a[:7], b), []byte{2}, []error{ErrCRC}},
		{"only partial", a[:9], nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frames, errs := decodeAll(tc.stream)
			var seqs []byte
			for _, f := range frames {
				seqs = append(seqs, f.Seq)
			}
			if !bytes.Equal(seqs, tc.wantSeqs) {
				t.Errorf("frames with seqs %v, want %v", seqs, tc.wantSeqs)
			}
			if len(errs) != len(tc.wantErrIs) {
				t.Fatalf("errors %v, want %v", errs, tc.wantErrIs)
			}
			for i := range errs {
				if !errors.Is(errs[i], tc.wantErrIs[i]) {
					t.Errorf("error %d = %v, want %v", i, errs[i], tc.wantErrIs[i])
				}
			}
		})
	}
}

func TestDecodeKeepsSplitSOF(t *testing.T) {
	a, _ := Encode(Frame{Type: TypeAck, Seq: 9, Payload: Ack{Offset: 1}.Marshal()})
	stream := concat([]byte{0x41, 0x42}, a[:1])
	_, n, _, err := Decode(stream)
	if !errors.Is(err, ErrNeedMore) || n != 2 {
		t.Fatalf("n=%d err=%v: the lone SOF byte must be kept", n, err)
	}
	f, _, _, err := Decode(concat(stream[n:], a[1:]))
	if err != nil || f.Seq != 9 {
		t.Fatalf("after completing the SOF: %v %v", f, err)
	}
}

func TestPayloadRoundTrips(t *testing.T) {
	id := Ident{Version: 1, MaxChunk: 2048, Colour: true, Feeder: true, MinDPI: 100, MaxDPI: 300, Text: "OneDoor 模拟扫描仪 fw1"}
	if got, err := ParseIdent(id.Marshal()); err != nil || got != id {
		t.Errorf("ident %+v %v", got, err)
	}
	st := Status{State: StateIdle, Flags: FlagPaper | FlagJam, Sheets: 3}
	if got, err := ParseStatus(st.Marshal()); err != nil || got != st {
		t.Errorf("status %+v %v", got, err)
	}
	op := Options{DPI: 200, Mode: ModeGrey, Page: PageA5, Chunk: 1024}
	if got, err := ParseOptions(op.Marshal()); err != nil || got != op {
		t.Errorf("options %+v %v", got, err)
	}
	bg := Begin{Total: 99999, Format: FormatJPEG, Width: 1654, Height: 2339, DPI: 200, Mode: ModeColour, Chunk: 1024}
	if got, err := ParseBegin(bg.Marshal()); err != nil || got != bg {
		t.Errorf("begin %+v %v", got, err)
	}
	d := Data{Offset: 4096, Bytes: []byte{1, 2, 3}}
	if got, err := ParseData(d.Marshal()); err != nil || got.Offset != d.Offset || !bytes.Equal(got.Bytes, d.Bytes) {
		t.Errorf("data %+v %v", got, err)
	}
	e := End{Total: 5, Sum: [32]byte{1, 2, 3}}
	if got, err := ParseEnd(e.Marshal()); err != nil || got != e {
		t.Errorf("end %+v %v", got, err)
	}
	if got, err := ParseAck(Ack{Offset: 77}.Marshal()); err != nil || got.Offset != 77 {
		t.Errorf("ack %+v %v", got, err)
	}
	n := Nak{Offset: 88, Reason: NakTimeout}
	if got, err := ParseNak(n.Marshal()); err != nil || got != n {
		t.Errorf("nak %+v %v", got, err)
	}
	er := Error{Code: ErrCodeCoverOpen, Detail: "cover open"}
	if got, err := ParseError(er.Marshal()); err != nil || got != er {
		t.Errorf("error %+v %v", got, err)
	}
}

func TestPayloadRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) error
		in    []byte
	}{
		{"short ident", func(p []byte) error { _, err := ParseIdent(p); return err }, []byte{1, 2}},
		{"ident zero chunk", func(p []byte) error { _, err := ParseIdent(p); return err }, Ident{Version: 1, MinDPI: 100, MaxDPI: 200}.Marshal()},
		{"ident bad utf8", func(p []byte) error { _, err := ParseIdent(p); return err }, append(Ident{Version: 1, MaxChunk: 1, MinDPI: 1, MaxDPI: 1}.Marshal(), 0xFF)},
		{"options mode", func(p []byte) error { _, err := ParseOptions(p); return err }, []byte{200, 0, 9, 0, 0, 0}},
		{"options chunk", func(p []byte) error { _, err := ParseOptions(p); return err }, Options{DPI: 1, Chunk: MaxChunk + 1}.Marshal()},
		{"begin zero total", func(p []byte) error { _, err := ParseBegin(p); return err }, Begin{Format: FormatJPEG, Chunk: 1}.Marshal()},
		{"begin format", func(p []byte) error { _, err := ParseBegin(p); return err }, Begin{Total: 1, Format: 9, Chunk: 1}.Marshal()},
		{"empty data", func(p []byte) error { _, err := ParseData(p); return err }, []byte{0, 0, 0, 0}},
		{"end short", func(p []byte) error { _, err := ParseEnd(p); return err }, make([]byte, 35)},
		{"ack long", func(p []byte) error { _, err := ParseAck(p); return err }, make([]byte, 5)},
		{"nak short", func(p []byte) error { _, err := ParseNak(p); return err }, make([]byte, 4)},
		{"error empty", func(p []byte) error { _, err := ParseError(p); return err }, nil},
		{"status long", func(p []byte) error { _, err := ParseStatus(p); return err }, make([]byte, 4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.parse(tc.in); !errors.Is(err, ErrPayload) {
				t.Fatalf("err = %v, want ErrPayload", err)
			}
		})
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
