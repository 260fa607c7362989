package sim

import (
	"errors"
	"fmt"
	"image"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/skip2/go-qrcode"

	"onedoor/drivers/escpos"
)

// maxPageRows ends a page that never gets cut, so that a stream without cuts
// cannot grow the canvas without bound.
const maxPageRows = 60000

func newPageRender(p *Printer) *pageRender {
	r := &pageRender{p: p, dec: NewPOSDecoder(p.prof.Chinese != escpos.ChineseNone, p.prof.FourByteFont)}
	r.reset()
	r.canvas = escpos.NewBitmap(p.prof.PaperWidthDots, 0)
	return r
}

func (r *pageRender) reset() {
	r.align, r.w, r.h, r.bold, r.spacing = 0, 1, 1, false, defaultLineSpacing
	r.barH, r.barW = 162, 3 // Epson's power-on defaults
	r.line, r.lineTxt = r.line[:0], r.lineTxt[:0]
}

// feed processes received bytes and returns the dot rows the paper moved.
// When the paper runs out part way, the unprocessed bytes go back to the
// front of the receive buffer, where a real printer would still hold them.
func (r *pageRender) feed(b []byte) int {
	rows := 0
	for i := range b {
		torn := false
		r.dec.Feed(b[i:i+1], func(op POSOp) {
			n, ok := r.apply(op)
			rows += n
			torn = torn || !ok
		})
		if torn {
			r.p.mu.Lock()
			r.p.rbuf = append(append([]byte(nil), b[i+1:]...), r.p.rbuf...)
			r.p.mu.Unlock()
			return rows
		}
	}
	return rows
}

// advance moves the paper; false means it ran out, the page was torn off
// and the printer went offline.
func (r *pageRender) advance(rows int) bool {
	if rows <= 0 {
		return true
	}
	if !r.p.consumePaper(rows) {
		r.finish(false, true)
		r.p.goOffline()
		return false
	}
	r.y += rows
	if r.y > maxPageRows {
		r.finish(false, false)
	}
	return true
}

// grow makes the canvas at least rows tall.
func (r *pageRender) grow(rows int) {
	c := r.canvas
	if rows <= c.H {
		return
	}
	pix := make([]byte, c.W*rows)
	copy(pix, c.Pix)
	c.Pix, c.H = pix, rows
}

func (r *pageRender) lineWidth() int {
	w := 0
	for _, g := range r.line {
		w += escpos.HalfCellWidth * escpos.RuneColumns(g.r) * g.w
	}
	return w
}

func (r *pageRender) xFor(width int) int {
	switch r.align {
	case 1:
		return max(0, (r.canvas.W-width)/2)
	case 2:
		return max(0, r.canvas.W-width)
	}
	return 0
}

// printLine prints the line buffer; with an empty buffer it only feeds.
func (r *pageRender) printLine() (int, bool) {
	if len(r.line) == 0 {
		return r.spacing, r.advance(r.spacing)
	}
	width, height := r.lineWidth(), 0
	for _, g := range r.line {
		height = max(height, escpos.CellHeight*g.h)
	}
	al := r.align
	r.align = r.lineAl
	x := r.xFor(width)
	r.align = al
	r.grow(r.y + height)
	for _, g := range r.line {
		c := r.p.glyphs.Cell(g.r)
		// Characters of a line share its baseline: shorter ones sit low.
		top := r.y + height - escpos.CellHeight*g.h
		r.canvas.Blit(c, x, top, g.w, g.h)
		if g.bold {
			r.canvas.Blit(c, x+1, top, g.w, g.h)
		}
		x += c.W * g.w
	}
	r.text.WriteString(string(r.lineTxt))
	r.text.WriteByte('\n')
	r.line, r.lineTxt = r.line[:0], r.lineTxt[:0]
	adv := max(r.spacing, height+6)
	return adv, r.advance(adv)
}

func (r *pageRender) flushIfPending() (int, bool) {
	if len(r.line) == 0 {
		return 0, true
	}
	return r.printLine()
}

// apply executes one command; it returns the rows fed and false if the
// paper ran out.
func (r *pageRender) apply(op POSOp) (int, bool) {
	if op.Kind != OpRaster {
		r.inImage = false
	}
	switch op.Kind {
	case OpChar:
		g := lineGlyph{r: op.Rune, w: r.w, h: r.h, bold: r.bold, garbage: op.Garbage}
		if op.Garbage {
			r.p.mu.Lock()
			r.p.stats.Garbage++
			r.p.mu.Unlock()
		}
		rows, ok := 0, true
		if r.lineWidth()+escpos.HalfCellWidth*escpos.RuneColumns(g.r)*g.w > r.canvas.W {
			rows, ok = r.printLine() // the printer wraps a line that is too long
		}
		if len(r.line) == 0 {
			r.lineAl = r.align
		}
		r.line = append(r.line, g)
		r.lineTxt = append(r.lineTxt, op.Rune)
		return rows, ok
	case OpPrint:
		return r.printLine()
	case OpInit:
		r.reset()
	case OpAlign:
		if op.N <= 2 {
			r.align = op.N
		}
	case OpBold:
		r.bold = op.N != 0
	case OpSize:
		r.w, r.h = min(op.W, r.p.prof.MaxCharSize), min(op.H, r.p.prof.MaxCharSize)
	case OpLineSpacing:
		r.spacing = op.N
		if op.N < 0 {
			r.spacing = defaultLineSpacing
		}
	case OpFeedLines:
		n, ok := r.flushIfPending()
		if !ok {
			return n, false
		}
		return n + op.N*r.spacing, r.advance(op.N * r.spacing)
	case OpFeedDots:
		n, ok := r.flushIfPending()
		if !ok {
			return n, false
		}
		return n + op.N, r.advance(op.N)
	case OpCut:
		n, ok := r.flushIfPending()
		if !ok {
			return n, false
		}
		if len(op.Raw) == 4 { // GS V 65/66 n: feed to the cutter first
			const cutterGap = 3 * defaultLineSpacing
			if !r.advance(cutterGap + op.N) {
				return n, false
			}
			n += cutterGap
		}
		r.grow(r.y + 2)
		for x := 0; x < r.canvas.W; x += 8 {
			for i := 0; i < 4; i++ {
				r.canvas.Set(x+i, r.y)
			}
		}
		r.text.WriteString("✂------------------------------\n")
		r.finish(true, false)
		return n, true
	case OpRaster:
		n, ok := r.flushIfPending()
		if !ok {
			return n, false
		}
		if !r.inImage {
			r.images++
			r.text.WriteString(fmt.Sprintf("[图像 %d点宽]\n", op.W*8))
		}
		r.inImage = true
		x0 := r.xFor(op.W * 8)
		r.grow(r.y + op.H)
		for y := 0; y < op.H; y++ {
			for xb := 0; xb < op.W; xb++ {
				v := op.Data[y*op.W+xb]
				for bit := 0; bit < 8; bit++ {
					if v&(0x80>>bit) != 0 {
						r.canvas.Set(x0+xb*8+bit, r.y+y)
					}
				}
			}
		}
		return n + op.H, r.advance(op.H)
	case OpQRModule:
		r.qrMod = op.N
	case OpQRLevel:
		r.qrLevel = op.N
	case OpQRStore:
		r.qrData = append(r.qrData[:0], op.Data...)
	case OpQRPrint:
		if !r.p.prof.NativeQR {
			r.unknown()
			return 0, true
		}
		return r.printQR()
	case OpBarcodeHeight:
		r.barH = max(1, op.N)
	case OpBarcodeWidth:
		r.barW = max(1, min(op.N, 6))
	case OpBarcode:
		n, ok := r.flushIfPending()
		if !ok {
			return n, false
		}
		return r.printBarcode(op, n)
	case OpTransmitStatus:
		r.p.replyBuffered(op.N)
	case OpUnknown, OpOversized:
		r.unknown()
	case OpQRModel:
		if !r.p.prof.NativeQR {
			r.unknown()
		}
	case OpChineseOn, OpChineseOff, OpRealtime, OpIgnored:
	}
	return 0, true
}

// printBarcode draws a CODE128 symbol re-encoded from the text the host's
// GS k 73 data stands for, so a wrong code-set encoding shows up as a
// barcode that scans to the wrong text. Other symbologies get a hatched
// placeholder of the right height.
func (r *pageRender) printBarcode(op POSOp, n int) (int, bool) {
	h := r.barH
	if op.N != 73 {
		r.text.WriteString(fmt.Sprintf("[条码 %q]\n", op.Data))
		r.grow(r.y + h)
		for x := 40; x < r.canvas.W-40; x += 3 {
			for y := 0; y < h; y++ {
				r.canvas.Set(x, r.y+y)
			}
		}
		return n + h, r.advance(h)
	}
	text, err := code128Text(op.Data)
	if err != nil {
		r.unknown()
		return n, true
	}
	m, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, 0, 1, nil)
	if err != nil {
		r.unknown()
		return n, true
	}
	w := m.GetWidth() * r.barW
	if w > r.canvas.W {
		r.unknown() // the printer does not print a symbol wider than the paper
		return n, true
	}
	x0 := r.xFor(w)
	r.grow(r.y + h)
	for x := 0; x < m.GetWidth(); x++ {
		if !m.Get(x, 0) {
			continue
		}
		for i := 0; i < r.barW; i++ {
			for y := 0; y < h; y++ {
				r.canvas.Set(x0+x*r.barW+i, r.y+y)
			}
		}
	}
	r.text.WriteString(fmt.Sprintf("[条码 %s]\n", text))
	return n + h, r.advance(h)
}

// code128Text is the text GS k 73 data stands for: code-set selectors
// ({A {B {C) switch sets, {{ is a brace, and in set C each byte is a
// binary number 0–99 written as two digits.
func code128Text(d []byte) (string, error) {
	if len(d) < 2 || d[0] != '{' || (d[1] != 'A' && d[1] != 'B' && d[1] != 'C') {
		return "", errors.New("CODE128 data does not start with a code set")
	}
	var out []byte
	set := byte(0)
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c == '{' && i+1 < len(d) {
			i++
			switch d[i] {
			case 'A', 'B', 'C':
				set = d[i]
				continue
			case '{':
				out = append(out, '{')
				continue
			}
			return "", fmt.Errorf("CODE128 escape {%c not supported", d[i])
		}
		if set == 'C' {
			if c > 99 {
				return "", fmt.Errorf("set C value %d", c)
			}
			out = append(out, '0'+c/10, '0'+c%10)
			continue
		}
		if c >= 0x80 || (set == 'B' && c < 0x20) {
			return "", fmt.Errorf("byte %#x not in set %c", c, set)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return "", errors.New("empty CODE128")
	}
	return string(out), nil
}

func (r *pageRender) unknown() {
	r.p.mu.Lock()
	r.p.stats.Unknown++
	r.p.mu.Unlock()
}

// printQR re-draws the stored symbol with a QR encoder, so the printed code
// is whatever the host stored, byte for byte.
func (r *pageRender) printQR() (int, bool) {
	n, ok := r.flushIfPending()
	if !ok || len(r.qrData) == 0 || !utf8.Valid(r.qrData) {
		return n, ok
	}
	lv := map[int]qrcode.RecoveryLevel{'0': qrcode.Low, '1': qrcode.Medium, '2': qrcode.High, '3': qrcode.Highest}[r.qrLevel]
	q, err := qrcode.New(string(r.qrData), lv)
	if err != nil {
		r.unknown()
		return n, true
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	mod := max(1, min(r.qrMod, 16))
	side := len(bits) * mod
	x0 := r.xFor(side)
	r.grow(r.y + side)
	for y, row := range bits {
		for x, black := range row {
			if !black {
				continue
			}
			for j := 0; j < mod; j++ {
				for i := 0; i < mod; i++ {
					r.canvas.Set(x0+x*mod+i, r.y+y*mod+j)
				}
			}
		}
	}
	r.qrs = append(r.qrs, string(r.qrData))
	r.text.WriteString(fmt.Sprintf("[二维码 %s]\n", r.qrData))
	return n + side, r.advance(side)
}

// finish closes the current page and starts a new one.
func (r *pageRender) finish(cut, torn bool) {
	h := max(r.y, r.canvas.H) + 8
	img := image.NewGray(image.Rect(0, 0, r.canvas.W, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < r.canvas.H; y++ {
		for x := 0; x < r.canvas.W; x++ {
			if r.canvas.Pix[y*r.canvas.W+x] != 0 {
				img.Pix[y*img.Stride+x] = 0
			}
		}
	}
	pg := PrintedPage{Image: img, Text: r.text.String(), QRData: r.qrs, Images: r.images, Cut: cut, Torn: torn}
	r.canvas = escpos.NewBitmap(r.canvas.W, 0)
	r.y, r.qrs, r.images, r.inImage = 0, nil, 0, false
	r.text.Reset()
	r.line, r.lineTxt = r.line[:0], r.lineTxt[:0]
	r.p.finishPage(pg)
}
