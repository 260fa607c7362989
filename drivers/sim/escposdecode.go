package sim

import (
	"onedoor/drivers/escpos"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// POSOpKind says what one decoded ESC/POS command does.
type POSOpKind int

// Decoded command kinds.
const (
	OpChar           POSOpKind = iota // a printable character (Rune; Garbage when the font has none)
	OpPrint                           // LF, FF: print the line buffer and feed one line
	OpInit                            // ESC @
	OpAlign                           // ESC a n
	OpBold                            // ESC E n, ESC G n
	OpSize                            // GS ! n → W, H
	OpFeedLines                       // ESC d n
	OpFeedDots                        // ESC J n
	OpLineSpacing                     // ESC 3 n (N dots), ESC 2 (N = -1: default)
	OpCut                             // GS V, ESC i, ESC m
	OpRaster                          // GS v 0 → W (bytes), H (rows), Data
	OpQRModel                         // GS ( k fn 65
	OpQRModule                        // GS ( k fn 67
	OpQRLevel                         // GS ( k fn 69
	OpQRStore                         // GS ( k fn 80 → Data
	OpQRPrint                         // GS ( k fn 81
	OpBarcode                         // GS k → N (type), Data
	OpBarcodeHeight                   // GS h n
	OpBarcodeWidth                    // GS w n
	OpChineseOn                       // FS &
	OpChineseOff                      // FS .
	OpRealtime                        // DLE EOT n / DLE ENQ n / DLE DC4, already answered on arrival
	OpTransmitStatus                  // GS r n: answered in order
	OpIgnored                         // a known command the simulator does not render
	OpUnknown                         // bytes the printer would not understand
	OpOversized                       // a command whose data exceeds what the simulator buffers
)

// POSOp is one decoded command.
type POSOp struct {
	Kind    POSOpKind
	N       int
	W, H    int
	Rune    rune
	Garbage bool // OpChar: bytes that are no character of the printer's font
	Data    []byte
	Raw     []byte // the command bytes (not set for OpChar), for traces
}

// maxPOSCommand bounds the bytes one command may carry; a 576-dot strip of
// 2303 rows is about 166 kB, so 1 MB leaves room without letting a bogus
// length field exhaust memory.
const maxPOSCommand = 1 << 20

// POSDecoder turns an ESC/POS byte stream into commands, byte for byte, as
// the printer's firmware would: it can be fed any split of the stream.
type POSDecoder struct {
	chinese  bool // Kanji mode: bytes ≥ 0x81 start GB characters
	fourByte bool // the font has GB18030 four-byte characters
	buf      []byte
	skip     int // bytes still to discard of an oversized command
	gb       func([]byte) (rune, bool)
}

// NewPOSDecoder returns a decoder; chinese is the power-on Kanji mode and
// fourByte whether the font has four-byte GB18030 characters.
func NewPOSDecoder(chinese, fourByte bool) *POSDecoder {
	dec := simplifiedchinese.GB18030.NewDecoder()
	return &POSDecoder{chinese: chinese, fourByte: fourByte, gb: func(b []byte) (rune, bool) {
		out, err := dec.Bytes(b)
		if err != nil {
			return 0, false
		}
		rs := []rune(string(out))
		if len(rs) != 1 || rs[0] == 0xFFFD {
			return 0, false
		}
		return rs[0], true
	}}
}

// Reset discards a partly received command (DLE ENQ 2 clears the buffers).
func (d *POSDecoder) Reset() { d.buf, d.skip = d.buf[:0], 0 }

// Feed decodes p and calls emit for each complete command.
func (d *POSDecoder) Feed(p []byte, emit func(POSOp)) {
	for _, b := range p {
		if d.skip > 0 {
			d.skip--
			continue
		}
		d.buf = append(d.buf, b)
		total := d.need()
		switch {
		case total < 0:
			continue // more bytes needed to know the length
		case total > maxPOSCommand:
			d.skip = total - len(d.buf)
			emit(POSOp{Kind: OpOversized, N: total, Raw: append([]byte(nil), d.buf...)})
			d.buf = d.buf[:0]
			continue
		case len(d.buf) < total:
			continue
		}
		op := d.decode(d.buf)
		d.buf = d.buf[:0]
		if op.Kind == OpChineseOn {
			d.chinese = true
		} else if op.Kind == OpChineseOff {
			d.chinese = false
		}
		emit(op)
	}
}

// need returns the total length of the command at the start of d.buf, or -1
// if more bytes are needed to tell.
func (d *POSDecoder) need() int {
	b := d.buf
	n := len(b)
	at := func(i int) int { // -1 when byte i has not arrived yet
		if i < n {
			return int(b[i])
		}
		return -1
	}
	le16 := func(i int) int {
		if i+1 >= n {
			return -1
		}
		return int(b[i]) | int(b[i+1])<<8
	}
	nulTerminated := func(from int) int {
		for i := from; i < n; i++ {
			if b[i] == 0 {
				return i + 1
			}
		}
		if n > 256 { // no NUL in sight: give up on it
			return n
		}
		return -1
	}
	c := b[0]
	switch {
	case c >= 0x80:
		if !d.chinese {
			return 1
		}
		if c == 0x80 || c == 0xFF {
			return 1
		}
		s := at(1)
		if s < 0 {
			return -1
		}
		if s >= 0x30 && s <= 0x39 {
			return 4
		}
		return 2
	case c == escpos.DLE:
		switch at(1) {
		case -1:
			return -1
		case escpos.EOT, escpos.ENQ:
			return 3
		case 0x14: // DLE DC4 fn m t
			return 5
		}
		return 1
	case c == escpos.ESC:
		switch at(1) {
		case -1:
			return -1
		case '@', '2', 'i', 'm', '<':
			return 2
		case 'a', 'E', 'G', '-', 'M', '!', 'd', 'J', '3', 't', 'R', '{', 'V', 'U', ' ', 'r', 'e', 'K', 'L' & 0x1f:
			return 3
		case '$', '\\':
			return 4
		case 'c':
			return 4
		case 'p':
			return 5
		case 'D', 'B':
			return nulTerminated(2)
		case '*':
			m, k := at(2), le16(3)
			if m < 0 || k < 0 {
				return -1
			}
			if m >= 32 {
				return 5 + 3*k
			}
			return 5 + k
		case 'Z':
			k := le16(5)
			if k < 0 {
				return -1
			}
			return 7 + k
		}
		return 2
	case c == escpos.FS:
		switch at(1) {
		case -1:
			return -1
		case '&', '.':
			return 2
		case '!', 'C', 'W', '-':
			return 3
		case 'S', 'p':
			return 4
		}
		return 2
	case c == escpos.GS:
		switch at(1) {
		case -1:
			return -1
		case '!', 'h', 'w', 'H', 'f', 'r', 'a', 'B', 'I', '/', 'b', 'E':
			return 3
		case 'L', 'W', '$', '\\', 'P':
			return 4
		case 'V':
			m := at(2)
			switch {
			case m < 0:
				return -1
			case m == 0 || m == 1 || m == '0' || m == '1':
				return 3
			}
			return 4
		case 'v':
			x, y := le16(4), le16(6)
			if at(2) < 0 || x < 0 || y < 0 {
				return -1
			}
			return 8 + x*y
		case '(':
			p := le16(3)
			if at(2) < 0 || p < 0 {
				return -1
			}
			return 5 + p
		case 'k':
			m := at(2)
			if m < 0 {
				return -1
			}
			if m <= 6 {
				return nulTerminated(3)
			}
			k := at(3)
			if k < 0 {
				return -1
			}
			return 4 + k
		case '*':
			x, y := at(2), at(3)
			if x < 0 || y < 0 {
				return -1
			}
			return 4 + x*y*8
		}
		return 2
	}
	return 1
}

// decode turns one complete command into an op.
func (d *POSDecoder) decode(b []byte) POSOp {
	raw := func(k POSOpKind) POSOp { return POSOp{Kind: k, Raw: append([]byte(nil), b...)} }
	c := b[0]
	switch {
	case c >= 0x20 && c < 0x7F:
		return POSOp{Kind: OpChar, Rune: rune(c)}
	case c >= 0x80 && !d.chinese:
		r := charmap.CodePage437.DecodeByte(c)
		return POSOp{Kind: OpChar, Rune: r}
	case c >= 0x80:
		if len(b) == 4 && !d.fourByte {
			return POSOp{Kind: OpChar, Rune: 0xFFFD, Garbage: true}
		}
		r, ok := d.gb(b)
		if !ok {
			return POSOp{Kind: OpChar, Rune: 0xFFFD, Garbage: true}
		}
		return POSOp{Kind: OpChar, Rune: r}
	case c == 0x0A || c == 0x0C:
		return POSOp{Kind: OpPrint}
	case c == escpos.DLE:
		if len(b) == 1 {
			return raw(OpIgnored)
		}
		op := raw(OpRealtime)
		op.N = int(b[len(b)-1])
		return op
	case c == escpos.ESC:
		op := raw(OpIgnored)
		arg := 0
		if len(b) > 2 {
			arg = int(b[2])
		}
		switch b[1] {
		case '@':
			op.Kind = OpInit
		case 'a':
			op.Kind, op.N = OpAlign, arg%48 // 0/'0', 1/'1', 2/'2'
		case 'E', 'G':
			op.Kind, op.N = OpBold, arg&1
		case 'd':
			op.Kind, op.N = OpFeedLines, arg
		case 'J':
			op.Kind, op.N = OpFeedDots, arg
		case '3':
			op.Kind, op.N = OpLineSpacing, arg
		case '2':
			op.Kind, op.N = OpLineSpacing, -1
		case 'i', 'm':
			op.Kind = OpCut
		case '!':
			op.Kind, op.N = OpBold, (arg>>3)&1
		case '-', 'M', 't', 'R', '{', 'V', 'c', 'p', 'D', 'B', '$', '\\', 'U', ' ', '*', 'r', 'e':
		default:
			op.Kind = OpUnknown
		}
		return op
	case c == escpos.FS:
		op := raw(OpIgnored)
		switch b[1] {
		case '&':
			op.Kind = OpChineseOn
		case '.':
			op.Kind = OpChineseOff
		}
		return op
	case c == escpos.GS:
		op := raw(OpIgnored)
		switch b[1] {
		case '!':
			op.Kind, op.W, op.H = OpSize, int(b[2]>>4)+1, int(b[2]&7)+1
		case 'V':
			op.Kind = OpCut
		case 'r':
			op.Kind, op.N = OpTransmitStatus, int(b[2])
		case 'h':
			op.Kind, op.N = OpBarcodeHeight, int(b[2])
		case 'w':
			op.Kind, op.N = OpBarcodeWidth, int(b[2])
		case 'v':
			op.Kind = OpRaster
			op.W, op.H = int(b[4])|int(b[5])<<8, int(b[6])|int(b[7])<<8
			op.Data = op.Raw[8:]
		case 'k':
			op.Kind, op.N = OpBarcode, int(b[2])
			if b[2] <= 6 {
				op.Data = op.Raw[3 : len(op.Raw)-1]
			} else {
				op.Data = op.Raw[4:]
			}
		case '(':
			if b[2] != 'k' || len(b) < 8 || b[5] != '1' {
				break
			}
			switch b[6] {
			case 'A':
				op.Kind, op.N = OpQRModel, int(b[7])
			case 'C':
				op.Kind, op.N = OpQRModule, int(b[7])
			case 'E':
				op.Kind, op.N = OpQRLevel, int(b[7])
			case 'P':
				op.Kind, op.Data = OpQRStore, op.Raw[8:]
			case 'Q':
				op.Kind = OpQRPrint
			}
		case 'H', 'f', 'a', 'B', 'I', '/', 'b', 'E', 'L', 'W', '$', '\\', 'P', '*':
		default:
			op.Kind = OpUnknown
		}
		return op
	}
	return POSOp{Kind: OpIgnored, Raw: []byte{c}} // CR, HT and other controls
}
