package escpos

import (
	"fmt"
	"image"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"onedoor/assets"
)

// Font A cell of a receipt printer: 12×24 dots for a half-width (ASCII)
// character, 24×24 for a full-width one. Both the builder's image fallback
// and the simulator's renderer use these metrics, so a line drawn by either
// has the width the printer would give it.
const (
	CellHeight    = 24
	HalfCellWidth = 12
	FullCellWidth = 24
)

// RuneColumns is how many Latin columns r takes on a Chinese receipt
// printer: every multi-byte GB character is printed full width, whatever
// Unicode's East Asian Width says (so '·' and '—' take two columns too).
func RuneColumns(r rune) int {
	if r < 0x80 {
		return 1
	}
	return 2
}

// Bitmap is a 1-bit picture, one byte per dot (1 = black), row-major.
type Bitmap struct {
	W, H int
	Pix  []byte
}

// NewBitmap returns a white bitmap of w×h dots.
func NewBitmap(w, h int) *Bitmap { return &Bitmap{W: w, H: h, Pix: make([]byte, w*h)} }

// At reports whether the dot at x, y is black; outside the bitmap is white.
func (b *Bitmap) At(x, y int) bool {
	if x < 0 || y < 0 || x >= b.W || y >= b.H {
		return false
	}
	return b.Pix[y*b.W+x] != 0
}

// Set blackens the dot at x, y, ignoring dots outside the bitmap.
func (b *Bitmap) Set(x, y int) {
	if x >= 0 && y >= 0 && x < b.W && y < b.H {
		b.Pix[y*b.W+x] = 1
	}
}

// Blit ORs src into b with its top-left corner at x, y, scaled by sx, sy.
func (b *Bitmap) Blit(src *Bitmap, x, y, sx, sy int) {
	for j := 0; j < src.H*sy; j++ {
		for i := 0; i < src.W*sx; i++ {
			if src.Pix[(j/sy)*src.W+i/sx] != 0 {
				b.Set(x+i, y+j)
			}
		}
	}
}

// Glyphs draws characters into font-A cells: CJK from the bundled
// Droid Sans Fallback, Latin and punctuation it lacks from Go Mono, and a
// hollow box for what neither has. A Glyphs is safe for concurrent use.
type Glyphs struct {
	mu    sync.Mutex
	cjk   font.Face
	latin font.Face
	cjkF  *opentype.Font
	cache map[rune]*Bitmap
}

// NewGlyphs parses the bundled fonts.
func NewGlyphs() (*Glyphs, error) {
	cf, err := opentype.Parse(assets.CJKFont)
	if err != nil {
		return nil, fmt.Errorf("parse CJK font: %w", err)
	}
	// 22 px em leaves room for descenders inside the 24-dot cell.
	cjk, err := opentype.NewFace(cf, &opentype.FaceOptions{Size: 22, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("CJK face: %w", err)
	}
	lf, err := opentype.Parse(gomono.TTF)
	if err != nil {
		return nil, fmt.Errorf("parse Go Mono: %w", err)
	}
	// Go Mono advances 0.6 em, so a 20 px em gives the 12-dot half cell.
	latin, err := opentype.NewFace(lf, &opentype.FaceOptions{Size: 20, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("latin face: %w", err)
	}
	return &Glyphs{cjk: cjk, latin: latin, cjkF: cf, cache: map[rune]*Bitmap{}}, nil
}

// Cell returns the unscaled cell of r: 12×24 or 24×24 dots.
func (g *Glyphs) Cell(r rune) *Bitmap {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b, ok := g.cache[r]; ok {
		return b
	}
	w := HalfCellWidth * RuneColumns(r)
	b := NewBitmap(w, CellHeight)
	face := g.cjk
	if _, ok := g.cjk.GlyphAdvance(r); !ok || r < 0x80 {
		face = g.latin
		if _, ok := g.latin.GlyphAdvance(r); !ok {
			face = nil
		}
	}
	if r == ' ' || r == 0x3000 {
		face = g.latin // blank either way; avoids the box
	} else if face == nil {
		for i := 2; i < w-2; i++ {
			b.Set(i, 3)
			b.Set(i, CellHeight-4)
		}
		for j := 3; j < CellHeight-3; j++ {
			b.Set(2, j)
			b.Set(w-3, j)
		}
		g.cache[r] = b
		return b
	}
	if r != ' ' && r != 0x3000 {
		dst := image.NewAlpha(image.Rect(0, 0, w, CellHeight))
		adv, _ := face.GlyphAdvance(r)
		m := face.Metrics()
		// Centre the glyph horizontally in its cell and sit the baseline so
		// ascent and descent share the 24 rows.
		x := (fixed.I(w) - adv) / 2
		y := (fixed.I(CellHeight)-(m.Ascent+m.Descent))/2 + m.Ascent
		d := font.Drawer{Dst: dst, Src: image.Opaque, Face: face, Dot: fixed.Point26_6{X: x, Y: y}}
		d.DrawString(string(r))
		for j := 0; j < CellHeight; j++ {
			for i := 0; i < w; i++ {
				if dst.AlphaAt(i, j).A >= 128 {
					b.Set(i, j)
				}
			}
		}
	}
	g.cache[r] = b
	return b
}

// DrawLine renders s as one printed line of font-A characters scaled by
// w×h (1..8), emboldened when bold, and returns a bitmap exactly as wide as
// the text.
func (g *Glyphs) DrawLine(s string, w, h int, bold bool) *Bitmap {
	cols := 0
	for _, r := range s {
		cols += RuneColumns(r)
	}
	out := NewBitmap(cols*HalfCellWidth*w+1, CellHeight*h)
	x := 0
	for _, r := range s {
		c := g.Cell(r)
		out.Blit(c, x, 0, w, h)
		if bold {
			out.Blit(c, x+1, 0, w, h)
		}
		x += c.W * w
	}
	out.W-- // the spare column only caught the bold offset of the last glyph
	trimmed := NewBitmap(out.W, out.H)
	for j := 0; j < out.H; j++ {
		copy(trimmed.Pix[j*out.W:(j+1)*out.W], out.Pix[j*(out.W+1):j*(out.W+1)+out.W])
	}
	return trimmed
}
