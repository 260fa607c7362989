package idcard

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"onedoor/internal/testdate"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/serialport"
	"onedoor/pii"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden request frames from the reference (idcard-sam.md §3).
func TestEncodeCommandGolden(t *testing.T) {
	tests := []struct {
		name      string
		cmd, para byte
		data      []byte
		want      string
	}{
		{"reset", 0x10, 0xFF, nil, "AA AA AA 96 69 00 03 10 FF EC"},
		{"status", 0x11, 0xFF, nil, "AA AA AA 96 69 00 03 11 FF ED"},
		{"SAM ID", 0x12, 0xFF, nil, "AA AA AA 96 69 00 03 12 FF EE"},
		{"find", 0x20, 0x01, nil, "AA AA AA 96 69 00 03 20 01 22"},
		{"select", 0x20, 0x02, nil, "AA AA AA 96 69 00 03 20 02 21"},
		{"read", 0x30, 0x01, nil, "AA AA AA 96 69 00 03 30 01 32"},
		{"read with fingerprint", 0x30, 0x10, nil, "AA AA AA 96 69 00 03 30 10 23"},
		{"additional address", 0x30, 0x03, nil, "AA AA AA 96 69 00 03 30 03 30"},
		{"baud 115200", 0x60, 0x00, nil, "AA AA AA 96 69 00 03 60 00 63"},
		{"baud 57600", 0x60, 0x01, nil, "AA AA AA 96 69 00 03 60 01 62"},
		{"baud 38400", 0x60, 0x02, nil, "AA AA AA 96 69 00 03 60 02 61"},
		{"baud 19200", 0x60, 0x03, nil, "AA AA AA 96 69 00 03 60 03 60"},
		{"baud 9600", 0x60, 0x04, nil, "AA AA AA 96 69 00 03 60 04 67"},
		{"max RF bytes", 0x61, 0xFF, []byte{0x50}, "AA AA AA 96 69 00 04 61 FF 50 CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodeCommand(tc.cmd, tc.para, tc.data); !bytes.Equal(got, unhex(t, tc.want)) {
				t.Fatalf("got % X, want %s", got, tc.want)
			}
		})
	}
}

// Golden answer frames round-trip through DecodeFrame and encodeResponse.
func TestDecodeFrameGolden(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		sw3     byte
		dataLen int
	}{
		{"status ok", "AA AA AA 96 69 00 04 00 00 90 94", 0x90, 0},
		{"find ok", "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, 4},
		{"select ok", "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", 0x90, 8},
		{"no card", "AA AA AA 96 69 00 04 00 00 80 84", 0x80, 0},
		{"read failed", "AA AA AA 96 69 00 04 00 00 41 45", 0x41, 0},
		{"select failed", "AA AA AA 96 69 00 04 00 00 81 85", 0x81, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := unhex(t, tc.frame)
			r, err := DecodeFrame(f)
			if err != nil {
				t.Fatal(err)
			}
			if r.SW3 != tc.sw3 || len(r.Data) != tc.dataLen {
				t.Fatalf("decoded %+v", r)
			}
			if back := encodeResponse(r); !bytes.Equal(back, f) {
				t.Fatalf("re-encoded % X", back)
			}
		})
	}
}

// The read answer's header from the reference: length 0x0508, text 256,
// photo 1024, checksum over everything.
func TestReadAnswerHeaderGolden(t *testing.T) {
	data := append([]byte{0x01, 0x00, 0x04, 0x00}, make([]byte, 256+1024)...)
	for i := 4; i < 4+256; i += 2 {
		data[i] = ' ' // an empty resident text block: all U+0020
	}
	f := encodeResponse(Response{SW3: 0x90, Data: data})
	if len(f) != 1295 {
		t.Fatalf("frame %d bytes, want 1295", len(f))
	}
	if want := unhex(t, "AA AA AA 96 69 05 08 00 00 90 01 00 04 00"); !bytes.Equal(f[:14], want) {
		t.Fatalf("header % X", f[:14])
	}
	r, err := DecodeFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	id, err := decodeReadData(r.Data, false)
	if err != nil {
		t.Fatal(err)
	}
	if id.Type != Resident || len(id.PhotoWLT) != 1024 {
		t.Fatalf("decoded %+v", id)
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	good := unhex(t, "AA AA AA 96 69 00 04 00 00 90 94")
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"bad checksum", append(good[:10:10], 0x95), ErrChecksum},
		{"short", good[:9], ErrFrame},
		{"no preamble", append([]byte{0xAB}, good[1:]...), ErrFrame},
		{"length too small", unhex(t, "AA AA AA 96 69 00 02 90 92"), ErrFrame},
		{"length disagrees", append(good[:11:11], 0x00), ErrFrame},
		{"length too large", append(unhex(t, "AA AA AA 96 69 FF FF"), make([]byte, 10)...), ErrFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeFrame(tc.frame); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// memPort is an in-memory byte source with the port's Resync/ReadFull
// contract, for the fuzzer (a pty per input would be far too slow).
type memPort struct{ b []byte }

func (m *memPort) Resync(_ context.Context, pre []byte, _ time.Time) (int, error) {
	i := bytes.Index(m.b, pre)
	if i < 0 {
		n := len(m.b)
		m.b = nil
		return n, serialport.ErrTimeout
	}
	m.b = m.b[i+len(pre):]
	return i, nil
}

func (m *memPort) ReadFull(_ context.Context, buf []byte, _ time.Time) error {
	if len(m.b) < len(buf) {
		m.b = nil
		return serialport.ErrTimeout
	}
	copy(buf, m.b)
	m.b = m.b[len(buf):]
	return nil
}

func TestReadFrameFromStream(t *testing.T) {
	status := "AA AA AA 96 69 00 04 00 00 90 94"
	tests := []struct {
		name   string
		stream string
		sw3    byte
		want   error
	}{
		{"clean", status, 0x90, nil},
		{"noise first", "00 AA 13 AA AA " + status, 0x90, nil},
		{"truncated", "AA AA AA 96 69 00 08 00 00 9F 00", 0, serialport.ErrTimeout},
		{"absurd length", "AA AA AA 96 69 7F FF 00", 0, ErrFrame},
		{"bad check", "AA AA AA 96 69 00 04 00 00 90 95", 0, ErrChecksum},
		{"nothing", "", 0, serialport.ErrTimeout},
	}
	// One buffer for every case, dirty from the one before, as a Reader
	// reuses it from command to command.
	var buf []byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Response
			var err error
			r, buf, err = readFrame(context.Background(), &memPort{b: unhex(t, tc.stream)}, time.Time{}, buf)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && r.SW3 != tc.sw3 {
				t.Fatalf("SW3 %02X", r.SW3)
			}
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{
		"AA AA AA 96 69 00 04 00 00 90 94",
		"AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97",
		"AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C",
		"00 AA AA AA AA 96 69 00 04 00 00 80 84",
		"AA AA AA 96 69 05 08 00 00 90 01 00 04 00",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		// A dirty buffer, as a Reader hands in: nothing of it may show.
		r, _, err := readFrame(context.Background(), &memPort{b: stream}, time.Time{}, bytes.Repeat([]byte{0xAA}, 32))
		if err != nil {
			if !errors.Is(err, ErrFrame) && !errors.Is(err, ErrChecksum) && !errors.Is(err, serialport.ErrTimeout) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// A frame that passed every check must be exactly what was sent:
		// re-encoding it finds it in the stream.
		if !bytes.Contains(stream, encodeResponse(r)) {
			t.Fatalf("decoded %+v is not in the stream", r)
		}
		if r.SW3 == sw3OK && len(r.Data) >= 4 {
			// Whatever the data says, splitting it must not panic.
			decodeReadData(r.Data, false)
			decodeReadData(r.Data, true)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	resident := make([]byte, 256)
	for i := 0; i < 256; i += 2 {
		resident[i] = ' '
	}
	f.Add(resident)
	for _, marker := range []byte{'J', 'I', 'Y'} {
		b := bytes.Clone(resident)
		b[248] = marker
		f.Add(b)
	}
	f.Add(make([]byte, 256))
	f.Fuzz(func(t *testing.T, block []byte) {
		id, err := DecodeText(block)
		if err != nil {
			if !errors.Is(err, ErrTextBlock) && !errors.Is(err, ErrUnknownCardType) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if id.Type == "" {
			t.Fatal("decoded without a type")
		}
		// Validation must never panic on anything the decoder lets through.
		_ = id.Validate(testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		_ = pii.MaskID(id.IDNumber)
	})
}
