// Package escpos builds the bytes an ESC/POS receipt printer understands
// (GB18030 text, character sizes, native or raster QR, CODE128, dithered
// raster images, cuts) and decodes what such a printer sends back (DLE EOT
// status bytes, XON/XOFF, ASB and GS r replies). It knows nothing about
// serial ports: drivers/printer moves the bytes.
//
// The builder produces a Job made of whole commands, because a real-time
// status query inserted inside another command corrupts it: the driver may
// only query between the commands of a Job.
package escpos

import (
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Control bytes.
const (
	LF   = 0x0A
	DLE  = 0x10
	XON  = 0x11
	XOFF = 0x13
	EOT  = 0x04
	ENQ  = 0x05
	ESC  = 0x1B
	FS   = 0x1C
	GS   = 0x1D
)

// ErrTooLong is returned for data longer than the printer command can carry.
var ErrTooLong = errors.New("escpos: data too long for the command")

// Align is a justification for ESC a.
type Align byte

// Justifications.
const (
	AlignLeft   Align = 0
	AlignCenter Align = 1
	AlignRight  Align = 2
)

// QRLevel is a QR error-correction level.
type QRLevel byte

// QR error-correction levels, as GS ( k fn 169 numbers them.
const (
	QRLevelL QRLevel = '0'
	QRLevelM QRLevel = '1'
	QRLevelQ QRLevel = '2'
	QRLevelH QRLevel = '3'
)

// Command is one complete printer command (or a run of text ending in LF).
type Command struct {
	Bytes []byte
	// Image is true for the strips of a raster image (including text lines and
	// QR codes drawn as images), so the driver can report image bytes.
	Image bool
}

// Job is a sequence of whole commands.
type Job struct {
	Profile  string
	Commands []Command
}

// Bytes returns the job as one byte slice.
func (j Job) Bytes() []byte {
	var out []byte
	for _, c := range j.Commands {
		out = append(out, c.Bytes...)
	}
	return out
}

// Len is the number of bytes of the job.
func (j Job) Len() int {
	n := 0
	for _, c := range j.Commands {
		n += len(c.Bytes)
	}
	return n
}

// Builder assembles a Job for one printer profile. Methods record the first
// error and become no-ops after it; Build returns it.
type Builder struct {
	p     Profile
	g     *Glyphs
	enc   *encoding.Encoder
	cmds  []Command
	align Align
	w, h  int
	bold  bool
	err   error
}

// NewBuilder starts a job for profile p. g draws the characters the printer
// cannot print; it may be shared between builders.
func NewBuilder(p Profile, g *Glyphs) *Builder {
	return &Builder{p: p, g: g, enc: simplifiedchinese.GB18030.NewEncoder(), w: 1, h: 1}
}

// Profile returns the profile the builder targets.
func (b *Builder) Profile() Profile { return b.p }

func (b *Builder) add(image bool, bs ...byte) *Builder {
	if b.err == nil {
		b.cmds = append(b.cmds, Command{Bytes: bs, Image: image})
	}
	return b
}

func (b *Builder) fail(err error) *Builder {
	if b.err == nil {
		b.err = err
	}
	return b
}

// Init resets the printer (ESC @) and selects Chinese mode when the profile
// has a Chinese font (FS &), or leaves it (FS .) so no byte is read as half
// of a GB character.
func (b *Builder) Init() *Builder {
	b.align, b.w, b.h, b.bold = AlignLeft, 1, 1, false
	b.add(false, ESC, '@')
	if b.p.Chinese == ChineseNone {
		return b.add(false, FS, '.')
	}
	return b.add(false, FS, '&')
}

// Chinese enters (FS &) or leaves (FS .) Chinese mode. Line keeps text it
// sends within what the profile's font has, so this is for raw use.
func (b *Builder) Chinese(on bool) *Builder {
	if on {
		return b.add(false, FS, '&')
	}
	return b.add(false, FS, '.')
}

// Align sets the justification of the following lines.
func (b *Builder) Align(a Align) *Builder {
	if a > AlignRight {
		return b.fail(fmt.Errorf("escpos: alignment %d", a))
	}
	b.align = a
	return b.add(false, ESC, 'a', byte(a))
}

// Bold turns emphasis on or off.
func (b *Builder) Bold(on bool) *Builder {
	b.bold = on
	var n byte
	if on {
		n = 1
	}
	return b.add(false, ESC, 'E', n)
}

// Size sets the character magnification, clamped to 1..the profile's maximum.
func (b *Builder) Size(w, h int) *Builder {
	w = max(1, min(w, b.p.MaxCharSize))
	h = max(1, min(h, b.p.MaxCharSize))
	b.w, b.h = w, h
	return b.add(false, GS, '!', byte((w-1)<<4|(h-1)))
}

// CharSize reports the current magnification.
func (b *Builder) CharSize() (w, h int) { return b.w, b.h }

// encodeRune returns the bytes the printer's font takes for r, or false
// when the printer cannot print it.
func (b *Builder) encodeRune(r rune) ([]byte, bool) {
	if r >= 0x20 && r < 0x7F {
		return []byte{byte(r)}, true
	}
	if r < 0x80 || b.p.Chinese == ChineseNone {
		return nil, false
	}
	bs, err := b.enc.Bytes([]byte(string(r)))
	if err != nil {
		return nil, false
	}
	switch {
	case len(bs) == 2 && b.p.Chinese == ChineseGB2312:
		return bs, bs[0] >= 0xA1 && bs[0] <= 0xF7 && bs[1] >= 0xA1 && bs[1] <= 0xFE
	case len(bs) == 2:
		return bs, true
	case len(bs) == 4:
		return bs, b.p.FourByteFont && b.p.Chinese == ChineseGB18030
	}
	return nil, false
}

// Printable reports whether every character of s can be sent as text.
func (b *Builder) Printable(s string) bool {
	for _, r := range s {
		if _, ok := b.encodeRune(r); !ok {
			return false
		}
	}
	return true
}

// Line prints s and ends the line. When the printer's font lacks a character
// of s (a four-byte GB18030 character, or any Chinese on a printer without a
// Chinese font), the whole line is drawn with the bundled font and sent as a
// raster image, because an image cannot share a line with text.
func (b *Builder) Line(s string) *Builder {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
	var out []byte
	ok := true
	for _, r := range s {
		bs, good := b.encodeRune(r)
		if !good {
			ok = false
			break
		}
		out = append(out, bs...)
	}
	if ok {
		return b.add(false, append(out, LF)...)
	}
	if b.g == nil {
		g, err := NewGlyphs()
		if err != nil {
			return b.fail(err)
		}
		b.g = g
	}
	text := b.g.DrawLine(s, b.w, b.h, b.bold)
	// Six blank rows stand in for the line spacing a text line would get.
	bm := NewBitmap(min(text.W, b.p.PaperWidthDots), text.H+6)
	bm.Blit(text, 0, 0, 1, 1)
	return b.bitmap(bm)
}

// Feed prints the buffer and feeds n lines (ESC d n).
func (b *Builder) Feed(n int) *Builder { return b.add(false, ESC, 'd', byte(max(0, min(n, 255)))) }

// FeedDots prints the buffer and feeds n dot rows (ESC J n).
func (b *Builder) FeedDots(n int) *Builder { return b.add(false, ESC, 'J', byte(max(0, min(n, 255)))) }

// Cut feeds the receipt to the cutter and cuts it the way the profile says.
func (b *Builder) Cut() *Builder {
	switch b.p.Cut {
	case CutFeedPartial:
		return b.add(false, GS, 'V', 66, 0)
	case CutFeedFull:
		return b.add(false, GS, 'V', 65, 0)
	case CutPartial:
		return b.Feed(4).add(false, GS, 'V', 1)
	case CutFull:
		return b.Feed(4).add(false, GS, 'V', 0)
	case CutLegacyPartial:
		return b.Feed(4).add(false, ESC, 'm')
	case CutLegacyFull:
		return b.Feed(4).add(false, ESC, 'i')
	default:
		return b.Feed(5)
	}
}

// Raw appends bytes the builder has no method for, as one command.
func (b *Builder) Raw(bs []byte) *Builder { return b.add(false, append([]byte(nil), bs...)...) }

// QR prints data as a QR code (model 2) with the profile's module size:
// natively with GS ( k when the profile has it, else as a raster image
// drawn here. Either way it is centred with a quiet zone of blank paper.
func (b *Builder) QR(data string, level QRLevel) *Builder {
	if data == "" {
		return b.fail(errors.New("escpos: empty QR data"))
	}
	if level < QRLevelL || level > QRLevelH {
		return b.fail(fmt.Errorf("escpos: QR level %q", level))
	}
	mod := b.p.QRModule
	prev := b.align
	b.Align(AlignCenter)
	b.FeedDots(4 * mod)
	if b.p.NativeQR {
		if len(data) > 7089 {
			return b.fail(fmt.Errorf("%w: %d bytes of QR data", ErrTooLong, len(data)))
		}
		n := len(data) + 3
		b.add(false, GS, '(', 'k', 4, 0, '1', 'A', '2', 0)
		b.add(false, GS, '(', 'k', 3, 0, '1', 'C', byte(mod))
		b.add(false, GS, '(', 'k', 3, 0, '1', 'E', byte(level))
		b.add(false, append([]byte{GS, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'}, data...)...)
		b.add(false, GS, '(', 'k', 3, 0, '1', 'Q', '0')
	} else {
		lv := map[QRLevel]qrcode.RecoveryLevel{QRLevelL: qrcode.Low, QRLevelM: qrcode.Medium, QRLevelQ: qrcode.High, QRLevelH: qrcode.Highest}[level]
		q, err := qrcode.New(data, lv)
		if err != nil {
			return b.fail(fmt.Errorf("escpos: encode QR: %w", err))
		}
		q.DisableBorder = true
		bits := q.Bitmap()
		side := len(bits) * mod
		if side > b.p.PaperWidthDots {
			return b.fail(fmt.Errorf("%w: QR of %d dots on %d-dot paper", ErrTooLong, side, b.p.PaperWidthDots))
		}
		bm := NewBitmap(side, side)
		for y, row := range bits {
			for x, black := range row {
				if black {
					for j := 0; j < mod; j++ {
						for i := 0; i < mod; i++ {
							bm.Set(x*mod+i, y*mod+j)
						}
					}
				}
			}
		}
		b.bitmap(bm)
	}
	b.FeedDots(4 * mod)
	return b.Align(prev)
}

// Image prints img as a dithered raster image, scaled down to the paper
// width if wider.
func (b *Builder) Image(img image.Image) *Builder {
	if img.Bounds().Empty() {
		return b.fail(errors.New("escpos: empty image"))
	}
	return b.bitmap(Dither(img, b.p.PaperWidthDots))
}

// bitmap sends bm as GS v 0 strips, aligned by padding on the left, since
// not every printer applies ESC a to raster images.
func (b *Builder) bitmap(bm *Bitmap) *Builder {
	off := 0
	switch b.align {
	case AlignCenter:
		off = (b.p.PaperWidthDots - bm.W) / 2
	case AlignRight:
		off = b.p.PaperWidthDots - bm.W
	}
	off = max(0, off)
	wBytes := (off + bm.W + 7) / 8
	wBytes = min(wBytes, b.p.PaperWidthDots/8)
	// A strip must fit in a quarter of the receive buffer so that the
	// driver can send it whole between status queries.
	rows := max(8, min(256, b.p.ReceiveBuffer/4/wBytes))
	// The padding already places the image; printers that also apply ESC a
	// to raster images would move it again, so justify left meanwhile.
	prev := b.align
	b.add(false, ESC, 'a', 0)
	defer b.add(false, ESC, 'a', byte(prev))
	for y0 := 0; y0 < bm.H; y0 += rows {
		h := min(rows, bm.H-y0)
		cmd := make([]byte, 8, 8+wBytes*h)
		copy(cmd, []byte{GS, 'v', '0', 0, byte(wBytes), byte(wBytes >> 8), byte(h), byte(h >> 8)})
		for y := y0; y < y0+h; y++ {
			for xb := 0; xb < wBytes; xb++ {
				var v byte
				for bit := 0; bit < 8; bit++ {
					if bm.At(xb*8+bit-off, y) {
						v |= 0x80 >> bit
					}
				}
				cmd = append(cmd, v)
			}
		}
		b.add(true, cmd...)
	}
	return b
}

// Build returns the job, or the first error met while building it.
func (b *Builder) Build() (Job, error) {
	if b.err != nil {
		return Job{}, b.err
	}
	return Job{Profile: b.p.Name, Commands: b.cmds}, nil
}
