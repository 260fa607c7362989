// Package wire is the byte layer of the OneDoor serial scanner protocol
// (docs/scanner-protocol.md): frame encoding, a resynchronising frame
// decoder and the payload of every message. It has no I/O so that the
// driver, the simulator and the fuzz tests share exactly one codec.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// SOF opens every frame. Both bytes are inert control codes for ESC/POS
// printers and SAM card readers, which matters because probing sends our
// hello to ports that may hold either.
const SOF = "\x16\x02"

// Frame geometry.
const (
	HeaderLen  = 6    // SOF(2) type(1) seq(1) length(2)
	TrailerLen = 4    // CRC-32
	MaxChunk   = 4096 // largest image chunk a DATA frame may carry
	MaxPayload = 4 + MaxChunk
	Overhead   = HeaderLen + TrailerLen
)

// Message types. Host-to-device types borrow their ASCII control-code
// meaning where one exists (ACK, NAK, CAN) so a byte trace reads naturally.
const (
	TypeHello   byte = 0x01
	TypeStatus  byte = 0x02
	TypeOptions byte = 0x03
	TypeScan    byte = 0x04
	TypeAck     byte = 0x06
	TypeNak     byte = 0x15
	TypeAbort   byte = 0x18

	TypeIdent       byte = 0x81
	TypeStatusReply byte = 0x82
	TypeOptionsOK   byte = 0x83
	TypeBegin       byte = 0x84
	TypeData        byte = 0x85
	TypeEnd         byte = 0x86
	TypeAborted     byte = 0x98
	TypeError       byte = 0xEE
)

// Decoder errors. ErrNeedMore is not a failure: the caller reads more bytes.
var (
	ErrNeedMore = errors.New("scanner wire: incomplete frame")
	ErrCRC      = errors.New("scanner wire: frame CRC mismatch")
	ErrLength   = errors.New("scanner wire: frame length out of range")
	ErrPayload  = errors.New("scanner wire: malformed payload")
	ErrTooLarge = errors.New("scanner wire: payload too large")
)

// Frame is one decoded frame. Payload aliases the decoder's input.
type Frame struct {
	Type    byte
	Seq     byte
	Payload []byte
}

func (f Frame) String() string {
	return fmt.Sprintf("frame type=%#02x seq=%d len=%d", f.Type, f.Seq, len(f.Payload))
}

// Append encodes f onto dst.
func Append(dst []byte, f Frame) ([]byte, error) {
	if len(f.Payload) > MaxPayload {
		return dst, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(f.Payload))
	}
	start := len(dst)
	dst = append(dst, SOF[0], SOF[1], f.Type, f.Seq)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(f.Payload)))
	dst = append(dst, f.Payload...)
	crc := crc32.ChecksumIEEE(dst[start+2:])
	return binary.LittleEndian.AppendUint32(dst, crc), nil
}

// Encode returns f as bytes.
func Encode(f Frame) ([]byte, error) {
	return Append(make([]byte, 0, Overhead+len(f.Payload)), f)
}

// Decode looks for one frame in buf. It returns how many leading bytes the
// caller may drop whatever the outcome, so a stream can be fed through it
// repeatedly:
//   - a good frame: consumed ends just after it;
//   - ErrNeedMore: consumed skips only garbage before a possible SOF;
//   - ErrCRC or ErrLength: consumed skips one byte past the bad SOF so the
//     search resumes inside the bad frame, where the real next frame may
//     start if the length field itself was hit.
//
// skipped counts garbage bytes dropped before the SOF, for tracing.
func Decode(buf []byte) (f Frame, consumed, skipped int, err error) {
	i := indexSOF(buf)
	if i < 0 {
		// Keep a trailing first SOF byte: its partner may be in the next read.
		keep := 0
		if len(buf) > 0 && buf[len(buf)-1] == SOF[0] {
			keep = 1
		}
		return Frame{}, len(buf) - keep, len(buf) - keep, ErrNeedMore
	}
	b := buf[i:]
	if len(b) < HeaderLen {
		return Frame{}, i, i, ErrNeedMore
	}
	n := int(binary.LittleEndian.Uint16(b[4:6]))
	if n > MaxPayload {
		return Frame{}, i + 1, i, fmt.Errorf("%w: %d", ErrLength, n)
	}
	total := HeaderLen + n + TrailerLen
	if len(b) < total {
		return Frame{}, i, i, ErrNeedMore
	}
	want := binary.LittleEndian.Uint32(b[HeaderLen+n : total])
	if got := crc32.ChecksumIEEE(b[2 : HeaderLen+n]); got != want {
		return Frame{Type: b[2], Seq: b[3]}, i + 1, i, fmt.Errorf("%w: type %#02x seq %d", ErrCRC, b[2], b[3])
	}
	return Frame{Type: b[2], Seq: b[3], Payload: b[HeaderLen : HeaderLen+n]}, i + total, i, nil
}

// indexSOF is bytes.Index(buf, []byte(SOF)) without the conversion.
func indexSOF(buf []byte) int {
	for i := 0; i+1 < len(buf); i++ {
		if buf[i] == SOF[0] && buf[i+1] == SOF[1] {
			return i
		}
	}
	return -1
}

// HelloMagic is the fixed HELLO payload. It was searched for so that every
// byte of the whole hello frame, CRC included, lies in InertBytes: an
// ESC/POS printer that receives it prints nothing and executes nothing.
const HelloMagic = "\x17\x03\x03\x16\x16\x17"

// InertBytes are the control codes that no ESC/POS printer, SAM reader or
// raw-mode tty acts on: no printable byte, no LF/CR/FF/HT, no ESC/FS/GS/DLE
// introducer, no XON/XOFF, no BEL/ENQ/CAN/EOT and none of the legacy
// single-byte print-mode codes (SO, SI, DC2, DC4, VT, BS).
const InertBytes = "\x00\x01\x02\x03\x06\x15\x16\x17\x19\x1A"

// HelloFrame returns the 16-byte hello frame (always sequence 0).
func HelloFrame() []byte {
	b, _ := Encode(Frame{Type: TypeHello, Payload: []byte(HelloMagic)})
	return b
}
