package wire

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Colour modes and page sizes as they travel in OPTIONS.
const (
	ModeGrey   byte = 0
	ModeColour byte = 1

	PageA4 byte = 0
	PageA5 byte = 1
)

// Image formats announced in BEGIN.
const (
	FormatJPEG byte = 1
	FormatPNG  byte = 2
)

// Status flag bits in STATUS_REPLY.
const (
	FlagPaper     byte = 1 << 0 // a sheet is in the feeder
	FlagJam       byte = 1 << 1
	FlagCoverOpen byte = 1 << 2
)

// Device states in STATUS_REPLY.
const (
	StateIdle         byte = 0
	StateTransferring byte = 1
)

// NAK reasons.
const (
	NakCRC     byte = 1 // the frame arrived damaged
	NakTimeout byte = 2 // nothing complete arrived in time (stall)
	NakOrder   byte = 3 // a chunk arrived at an unexpected offset
	NakHash    byte = 4 // the image SHA-256 did not match; start again
)

// Error codes in ERROR.
const (
	ErrCodeNoDocument byte = 0x01
	ErrCodePaperJam   byte = 0x02
	ErrCodeCoverOpen  byte = 0x03
	ErrCodeBadFrame   byte = 0x10
	ErrCodeBadOptions byte = 0x11
	ErrCodeNoImage    byte = 0x12
	ErrCodeBusy       byte = 0x13
)

// maxText bounds free text fields so a corrupt device cannot make us keep
// arbitrary strings.
const maxText = 200

// Ident is the IDENT payload, the reply to HELLO.
type Ident struct {
	Version  byte   // protocol version, 1
	MaxChunk uint16 // largest chunk the device will send
	Colour   bool   // colour mode supported
	Feeder   bool   // sheet feeder (ADF) rather than flatbed
	MinDPI   uint16
	MaxDPI   uint16
	Text     string // vendor, model, firmware, serial in free form
}

// Marshal encodes the payload.
func (m Ident) Marshal() []byte {
	b := []byte{m.Version}
	b = binary.LittleEndian.AppendUint16(b, m.MaxChunk)
	var flags byte
	if m.Colour {
		flags |= 1
	}
	if m.Feeder {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint16(b, m.MinDPI)
	b = binary.LittleEndian.AppendUint16(b, m.MaxDPI)
	return append(b, truncText(m.Text)...)
}

// ParseIdent decodes an IDENT payload.
func ParseIdent(p []byte) (Ident, error) {
	if len(p) < 8 {
		return Ident{}, fmt.Errorf("%w: ident is %d bytes", ErrPayload, len(p))
	}
	text, err := parseText(p[8:])
	if err != nil {
		return Ident{}, err
	}
	m := Ident{
		Version:  p[0],
		MaxChunk: binary.LittleEndian.Uint16(p[1:3]),
		Colour:   p[3]&1 != 0,
		Feeder:   p[3]&2 != 0,
		MinDPI:   binary.LittleEndian.Uint16(p[4:6]),
		MaxDPI:   binary.LittleEndian.Uint16(p[6:8]),
		Text:     text,
	}
	if m.MaxChunk == 0 || m.MaxChunk > MaxChunk || m.MinDPI == 0 || m.MinDPI > m.MaxDPI {
		return Ident{}, fmt.Errorf("%w: ident limits chunk=%d dpi=%d..%d", ErrPayload, m.MaxChunk, m.MinDPI, m.MaxDPI)
	}
	return m, nil
}

// Status is the STATUS_REPLY payload.
type Status struct {
	State  byte
	Flags  byte
	Sheets byte // sheets in the feeder, 0xFF when the device cannot count
}

// Marshal encodes the payload.
func (m Status) Marshal() []byte { return []byte{m.State, m.Flags, m.Sheets} }

// ParseStatus decodes a STATUS_REPLY payload.
func ParseStatus(p []byte) (Status, error) {
	if len(p) != 3 {
		return Status{}, fmt.Errorf("%w: status is %d bytes", ErrPayload, len(p))
	}
	return Status{State: p[0], Flags: p[1], Sheets: p[2]}, nil
}

// Options is the OPTIONS payload and its OPTIONS_OK echo.
type Options struct {
	DPI   uint16
	Mode  byte
	Page  byte
	Chunk uint16 // 0 asks for the device's maximum
}

// Marshal encodes the payload.
func (m Options) Marshal() []byte {
	b := binary.LittleEndian.AppendUint16(nil, m.DPI)
	b = append(b, m.Mode, m.Page)
	return binary.LittleEndian.AppendUint16(b, m.Chunk)
}

// ParseOptions decodes an OPTIONS or OPTIONS_OK payload.
func ParseOptions(p []byte) (Options, error) {
	if len(p) != 6 {
		return Options{}, fmt.Errorf("%w: options is %d bytes", ErrPayload, len(p))
	}
	m := Options{
		DPI:   binary.LittleEndian.Uint16(p[0:2]),
		Mode:  p[2],
		Page:  p[3],
		Chunk: binary.LittleEndian.Uint16(p[4:6]),
	}
	if m.Mode > ModeColour || m.Page > PageA5 || m.Chunk > MaxChunk {
		return Options{}, fmt.Errorf("%w: options mode=%d page=%d chunk=%d", ErrPayload, m.Mode, m.Page, m.Chunk)
	}
	return m, nil
}

// Begin is the BEGIN payload: the scan succeeded and an image of Total
// bytes is ready to be pulled.
type Begin struct {
	Total  uint32
	Format byte
	Width  uint16
	Height uint16
	DPI    uint16
	Mode   byte
	Chunk  uint16
}

// Marshal encodes the payload.
func (m Begin) Marshal() []byte {
	b := binary.LittleEndian.AppendUint32(nil, m.Total)
	b = append(b, m.Format)
	b = binary.LittleEndian.AppendUint16(b, m.Width)
	b = binary.LittleEndian.AppendUint16(b, m.Height)
	b = binary.LittleEndian.AppendUint16(b, m.DPI)
	b = append(b, m.Mode)
	return binary.LittleEndian.AppendUint16(b, m.Chunk)
}

// ParseBegin decodes a BEGIN payload.
func ParseBegin(p []byte) (Begin, error) {
	if len(p) != 14 {
		return Begin{}, fmt.Errorf("%w: begin is %d bytes", ErrPayload, len(p))
	}
	m := Begin{
		Total:  binary.LittleEndian.Uint32(p[0:4]),
		Format: p[4],
		Width:  binary.LittleEndian.Uint16(p[5:7]),
		Height: binary.LittleEndian.Uint16(p[7:9]),
		DPI:    binary.LittleEndian.Uint16(p[9:11]),
		Mode:   p[11],
		Chunk:  binary.LittleEndian.Uint16(p[12:14]),
	}
	if m.Total == 0 || (m.Format != FormatJPEG && m.Format != FormatPNG) || m.Chunk == 0 || m.Chunk > MaxChunk || m.Mode > ModeColour {
		return Begin{}, fmt.Errorf("%w: begin total=%d format=%d chunk=%d mode=%d", ErrPayload, m.Total, m.Format, m.Chunk, m.Mode)
	}
	return m, nil
}

// Data is the DATA payload: image bytes starting at Offset.
type Data struct {
	Offset uint32
	Bytes  []byte
}

// Marshal encodes the payload.
func (m Data) Marshal() []byte {
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(m.Bytes)), m.Offset)
	return append(b, m.Bytes...)
}

// ParseData decodes a DATA payload. Bytes aliases p.
func ParseData(p []byte) (Data, error) {
	if len(p) < 5 || len(p) > MaxPayload {
		return Data{}, fmt.Errorf("%w: data is %d bytes", ErrPayload, len(p))
	}
	return Data{Offset: binary.LittleEndian.Uint32(p[0:4]), Bytes: p[4:]}, nil
}

// End is the END payload: the whole image has been pulled; Sum is the
// SHA-256 of all Total bytes.
type End struct {
	Total uint32
	Sum   [32]byte
}

// Marshal encodes the payload.
func (m End) Marshal() []byte {
	b := binary.LittleEndian.AppendUint32(nil, m.Total)
	return append(b, m.Sum[:]...)
}

// ParseEnd decodes an END payload.
func ParseEnd(p []byte) (End, error) {
	if len(p) != 36 {
		return End{}, fmt.Errorf("%w: end is %d bytes", ErrPayload, len(p))
	}
	m := End{Total: binary.LittleEndian.Uint32(p[0:4])}
	copy(m.Sum[:], p[4:])
	return m, nil
}

// Ack is the ACK payload: the host has every byte before Offset and wants
// the chunk that starts there (or END when Offset equals the total).
type Ack struct{ Offset uint32 }

// Marshal encodes the payload.
func (m Ack) Marshal() []byte { return binary.LittleEndian.AppendUint32(nil, m.Offset) }

// ParseAck decodes an ACK payload.
func ParseAck(p []byte) (Ack, error) {
	if len(p) != 4 {
		return Ack{}, fmt.Errorf("%w: ack is %d bytes", ErrPayload, len(p))
	}
	return Ack{Offset: binary.LittleEndian.Uint32(p)}, nil
}

// Nak is the NAK payload: resend from Offset, for Reason.
type Nak struct {
	Offset uint32
	Reason byte
}

// Marshal encodes the payload.
func (m Nak) Marshal() []byte {
	return append(binary.LittleEndian.AppendUint32(nil, m.Offset), m.Reason)
}

// ParseNak decodes a NAK payload.
func ParseNak(p []byte) (Nak, error) {
	if len(p) != 5 {
		return Nak{}, fmt.Errorf("%w: nak is %d bytes", ErrPayload, len(p))
	}
	return Nak{Offset: binary.LittleEndian.Uint32(p[0:4]), Reason: p[4]}, nil
}

// Error is the ERROR payload.
type Error struct {
	Code   byte
	Detail string
}

// Marshal encodes the payload.
func (m Error) Marshal() []byte { return append([]byte{m.Code}, truncText(m.Detail)...) }

// ParseError decodes an ERROR payload.
func ParseError(p []byte) (Error, error) {
	if len(p) < 1 {
		return Error{}, fmt.Errorf("%w: empty error", ErrPayload)
	}
	text, err := parseText(p[1:])
	if err != nil {
		return Error{}, err
	}
	return Error{Code: p[0], Detail: text}, nil
}

func truncText(s string) []byte {
	b := []byte(s)
	if len(b) <= maxText {
		return b
	}
	b = b[:maxText]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return b
}

func parseText(p []byte) (string, error) {
	if len(p) > maxText || !utf8.Valid(p) {
		return "", fmt.Errorf("%w: text field of %d bytes is not short UTF-8", ErrPayload, len(p))
	}
	return string(p), nil
}
