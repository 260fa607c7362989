package ecert

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Renderer draws certificates as PNG images for people to read. Its face
// is a CJK font (the kiosk's embedded one in practice); without one it
// draws with a basic Latin face, enough for tests.
type Renderer struct {
	face font.Face
}

// NewRenderer parses fontData (TrueType/OpenType); nil uses the basic face.
func NewRenderer(fontData []byte) (*Renderer, error) {
	if len(fontData) == 0 {
		return &Renderer{face: basicfont.Face7x13}, nil
	}
	f, err := opentype.Parse(fontData)
	if err != nil {
		return nil, fmt.Errorf("certificate font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 22, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("certificate font: %w", err)
	}
	return &Renderer{face: face}, nil
}

// PNG renders c: its type, number, holder (masked), agency, dates and
// fields, framed, with a red seal mark naming the agency.
func (r *Renderer) PNG(c Certificate) ([]byte, error) {
	lines := []string{
		c.TypeName,
		"编号 " + c.Number,
		"持证人 " + c.Holder.Name + "  " + c.Holder.IDMasked,
	}
	for _, f := range c.Fields {
		lines = append(lines, f.Name+" "+f.Value)
	}
	until := c.ValidUntil
	if until == "" {
		until = "长期"
	}
	lines = append(lines, "发证日期 "+c.IssuedOn, "有效期 "+c.ValidFrom+" 至 "+until, "发证机关 "+c.Agency.Name)
	lh := r.face.Metrics().Height.Ceil() + 10
	w, h := 760, 60+lh*len(lines)+40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0xfd, 0xfa, 0xf0, 0xff}), image.Point{}, draw.Src)
	red := color.RGBA{0xb7, 0x1c, 0x1c, 0xff}
	for x := 8; x < w-8; x++ {
		for _, y := range []int{8, 9, h - 9, h - 10} {
			img.Set(x, y, red)
		}
	}
	for y := 8; y < h-8; y++ {
		for _, x := range []int{8, 9, w - 9, w - 10} {
			img.Set(x, y, red)
		}
	}
	// The seal mark: a red ring at the lower right.
	cx, cy, rad := w-110, h-90, 60
	for y := cy - rad; y <= cy+rad; y++ {
		for x := cx - rad; x <= cx+rad; x++ {
			d := (x-cx)*(x-cx) + (y-cy)*(y-cy)
			if d <= rad*rad && d >= (rad-5)*(rad-5) {
				img.Set(x, y, red)
			}
		}
	}
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: r.face}
	for i, l := range lines {
		d.Dot = fixed.P(40, 50+lh*i)
		if i == 0 {
			d.Src = image.NewUniform(red)
		} else {
			d.Src = image.NewUniform(color.Black)
		}
		d.DrawString(l)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", c.Number, err)
	}
	return b.Bytes(), nil
}
