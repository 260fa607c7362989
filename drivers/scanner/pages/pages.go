// Package pages draws the fictional test documents the scanner simulator
// serves and the image-quality tests measure: an application form, a
// residence certificate with a red seal, a blank sheet and a blurred copy of
// the form. Every name, number and address on them is invented and marked
// 样张 (sample); they are not real documents. Text is drawn with the bundled
// CJK font so the pages look like what a kiosk really scans.
package pages

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"onedoor/assets"
)

// ErrUnknownPage is returned for a page name the generator does not know.
var ErrUnknownPage = errors.New("pages: unknown test page")

// Size is a paper size in millimetres.
type Size struct {
	Name     string
	WidthMM  float64
	HeightMM float64
}

// Paper sizes a kiosk scanner is asked for.
var (
	A4 = Size{"A4", 210, 297}
	A5 = Size{"A5", 148, 210}
)

// Pixels returns the page size in pixels at dpi.
func (s Size) Pixels(dpi int) (w, h int) {
	return int(math.Round(s.WidthMM / 25.4 * float64(dpi))), int(math.Round(s.HeightMM / 25.4 * float64(dpi)))
}

// Names lists the pages Render knows, in a stable order.
func Names() []string { return []string{"form", "certificate", "blank", "blurred"} }

// Generator renders test pages. It holds the parsed fonts; it is not safe
// for concurrent use because font faces and the glyph buffer are not.
type Generator struct {
	cjk   *opentype.Font
	latin *opentype.Font
	buf   sfnt.Buffer
}

// New parses the bundled fonts. Droid Sans Fallback has no Latin letters or
// digits, so those come from the Go font.
func New() (*Generator, error) {
	cjk, err := opentype.Parse(assets.CJKFont)
	if err != nil {
		return nil, fmt.Errorf("pages: parse CJK font: %w", err)
	}
	latin, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("pages: parse Go font: %w", err)
	}
	return &Generator{cjk: cjk, latin: latin}, nil
}

// hasCJK reports whether the CJK face has a glyph for r.
func (g *Generator) hasCJK(r rune) bool {
	i, err := g.cjk.GlyphIndex(&g.buf, r)
	return err == nil && i != 0
}

// runs splits s into pieces drawn with one face each.
func (g *Generator) runs(s string) (parts []string, cjk []bool) {
	for _, r := range s {
		c := g.hasCJK(r)
		if len(parts) == 0 || cjk[len(cjk)-1] != c {
			parts, cjk = append(parts, ""), append(cjk, c)
		}
		parts[len(parts)-1] += string(r)
	}
	return parts, cjk
}

// Render draws the named page at dpi on paper of the given size.
func (g *Generator) Render(name string, size Size, dpi int) (*image.RGBA, error) {
	if dpi < 50 || dpi > 600 {
		return nil, fmt.Errorf("pages: %d dpi is outside 50..600", dpi)
	}
	w, h := size.Pixels(dpi)
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), dpi: float64(dpi), g: g}
	draw.Draw(c.img, c.img.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	var err error
	switch name {
	case "form":
		err = c.form()
	case "certificate":
		err = c.certificate()
	case "blank":
		// Nothing but the paper and the sensor noise below.
	case "blurred":
		if err = c.form(); err == nil {
			// About 0.4 mm of defocus: what a sheet lifted off the glass
			// or a smeared feed looks like.
			boxBlur(c.img, c.px(0.4), 3)
		}
	default:
		return nil, fmt.Errorf("%w: %q (known: %v)", ErrUnknownPage, name, Names())
	}
	if err != nil {
		return nil, err
	}
	addNoise(c.img, uint64(len(name))*7919+uint64(dpi))
	return c.img, nil
}

var (
	paper = color.RGBA{250, 249, 245, 255}
	ink   = color.RGBA{20, 20, 28, 255}
	grey  = color.RGBA{120, 120, 130, 255}
	red   = color.RGBA{205, 30, 35, 255}
	blue  = color.RGBA{25, 45, 140, 255}
)

type canvas struct {
	img *image.RGBA
	dpi float64
	g   *Generator
}

// px converts millimetres to pixels.
func (c *canvas) px(mm float64) int { return int(math.Round(mm / 25.4 * c.dpi)) }

func (c *canvas) faces(pt float64) (cjk, latin font.Face, err error) {
	opts := &opentype.FaceOptions{Size: pt, DPI: c.dpi, Hinting: font.HintingNone}
	if cjk, err = opentype.NewFace(c.g.cjk, opts); err != nil {
		return nil, nil, fmt.Errorf("pages: CJK face %.0fpt: %w", pt, err)
	}
	if latin, err = opentype.NewFace(c.g.latin, opts); err != nil {
		return nil, nil, fmt.Errorf("pages: Latin face %.0fpt: %w", pt, err)
	}
	return cjk, latin, nil
}

// text draws s with its baseline at (xmm, ymm), starting there or centred
// on it.
func (c *canvas) text(s string, pt, xmm, ymm float64, col color.Color, centre bool) error {
	cjk, latin, err := c.faces(pt)
	if err != nil {
		return err
	}
	defer cjk.Close()
	defer latin.Close()
	parts, isCJK := c.g.runs(s)
	d := &font.Drawer{Dst: c.img, Src: image.NewUniform(col)}
	face := func(i int) font.Face {
		if isCJK[i] {
			return cjk
		}
		return latin
	}
	var width fixed.Int26_6
	for i, p := range parts {
		d.Face = face(i)
		width += d.MeasureString(p)
	}
	x := c.px(xmm)
	if centre {
		x -= width.Round() / 2
	}
	d.Dot = fixed.P(x, c.px(ymm))
	for i, p := range parts {
		d.Face = face(i)
		d.DrawString(p)
	}
	return nil
}

func (c *canvas) rect(x0, y0, x1, y1 float64, col color.Color) {
	r := image.Rect(c.px(x0), c.px(y0), c.px(x1), c.px(y1))
	draw.Draw(c.img, r, image.NewUniform(col), image.Point{}, draw.Over)
}

// hline and vline draw rules of width wmm.
func (c *canvas) hline(x0, x1, y, wmm float64, col color.Color) {
	c.rect(x0, y-wmm/2, x1, y+wmm/2, col)
}

func (c *canvas) vline(x, y0, y1, wmm float64, col color.Color) {
	c.rect(x-wmm/2, y0, x+wmm/2, y1, col)
}

func (c *canvas) box(x0, y0, x1, y1, wmm float64, col color.Color) {
	c.hline(x0, x1, y0, wmm, col)
	c.hline(x0, x1, y1, wmm, col)
	c.vline(x0, y0, y1, wmm, col)
	c.vline(x1, y0, y1, wmm, col)
}

// line draws a segment of width wmm between two points given in mm.
func (c *canvas) line(x0, y0, x1, y1, wmm float64, col color.RGBA) {
	ax, ay, bx, by := float64(c.px(x0)), float64(c.px(y0)), float64(c.px(x1)), float64(c.px(y1))
	hw := math.Max(0.5, float64(c.px(wmm))/2)
	r := image.Rect(int(math.Min(ax, bx)-hw), int(math.Min(ay, by)-hw), int(math.Max(ax, bx)+hw)+1, int(math.Max(ay, by)+hw)+1).Intersect(c.img.Bounds())
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
			}
			if math.Hypot(px-(ax+t*dx), py-(ay+t*dy)) <= hw {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

// ring draws a circle outline centred at (cx, cy) with radius r, all in mm.
func (c *canvas) ring(cx, cy, r, wmm float64, col color.RGBA) {
	pcx, pcy, pr, pw := float64(c.px(cx)), float64(c.px(cy)), float64(c.px(r)), math.Max(1, float64(c.px(wmm)))
	b := image.Rect(int(pcx-pr-pw), int(pcy-pr-pw), int(pcx+pr+pw)+1, int(pcy+pr+pw)+1).Intersect(c.img.Bounds())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d := math.Hypot(float64(x)-pcx, float64(y)-pcy)
			if math.Abs(d-pr) <= pw/2 {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

// star fills a five-pointed star centred at (cx, cy) with outer radius r mm.
func (c *canvas) star(cx, cy, r float64, col color.RGBA) {
	pcx, pcy, pr := float64(c.px(cx)), float64(c.px(cy)), float64(c.px(r))
	var pts [10][2]float64
	for i := range pts {
		rad := pr
		if i%2 == 1 {
			rad = pr * 0.382
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts[i] = [2]float64{pcx + rad*math.Cos(a), pcy + rad*math.Sin(a)}
	}
	b := image.Rect(int(pcx-pr), int(pcy-pr), int(pcx+pr)+1, int(pcy+pr)+1).Intersect(c.img.Bounds())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if inPolygon(pts[:], float64(x)+0.5, float64(y)+0.5) {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

func inPolygon(pts [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
		xi, yi, xj, yj := pts[i][0], pts[i][1], pts[j][0], pts[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// form is a fictional residence-permit application form.
func (c *canvas) form() error {
	w := float64(c.img.Bounds().Dx()) / c.dpi * 25.4
	steps := []func() error{
		func() error { return c.text("一门通 · 居住证申领登记表", 20, w/2, 28, ink, true) },
		func() error {
			return c.text("（测试样张 SAMPLE · 内容均为虚构）", 10, w/2, 37, grey, true)
		},
		func() error { return c.text("编号：YMT-SAMPLE-000123", 9, w-75, 46, ink, false) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	rows := [][2]string{
		{"姓名", "示例 王小明"},
		{"性别", "男"},
		{"证件号码", "0000**********000X（样张）"},
		{"现居住地址", "示例省示例市幸福路 1 号 2 栋 301 室"},
		{"联系电话", "138-0000-0000（虚构）"},
		{"申请事项", "居住证首次申领"},
		{"工作单位", "示例科技有限公司"},
	}
	left, right, top, rowH := 20.0, w-20, 52.0, 14.0
	c.box(left, top, right, top+rowH*float64(len(rows)), 0.5, ink)
	for i, r := range rows {
		y := top + rowH*float64(i)
		if i > 0 {
			c.hline(left, right, y, 0.3, ink)
		}
		if err := c.text(r[0], 12, left+4, y+9.5, ink, false); err != nil {
			return err
		}
		if err := c.text(r[1], 12, left+44, y+9.5, blue, false); err != nil {
			return err
		}
	}
	c.vline(left+40, top, top+rowH*float64(len(rows)), 0.3, ink)

	y := top + rowH*float64(len(rows)) + 14
	if err := c.text("提交材料（请在方框内打勾）：", 12, left, y, ink, false); err != nil {
		return err
	}
	materials := []string{"居民身份证复印件", "租房合同或房产证明", "近期一寸免冠照片", "社区居住证明"}
	for i, m := range materials {
		yy := y + 10 + float64(i)*10
		c.box(left+4, yy-4.5, left+9, yy+0.5, 0.35, ink)
		if i != 2 {
			// A hand-drawn tick.
			c.line(left+4.8, yy-2.5, left+6.5, yy-0.5, 0.7, blue)
			c.line(left+6.5, yy-0.5, left+10, yy-6.5, 0.7, blue)
		}
		if err := c.text(m, 12, left+13, yy, ink, false); err != nil {
			return err
		}
	}
	y += 60
	lines := []string{
		"本人承诺以上所填信息真实有效，如有虚假，愿承担相应责任。",
		"本表仅用于一门通自助终端扫描测试，不具有任何法律效力。",
	}
	for i, l := range lines {
		if err := c.text(l, 11, left, y+float64(i)*8, ink, false); err != nil {
			return err
		}
	}
	y += 30
	if err := c.text("申请人签名：", 12, left, y, ink, false); err != nil {
		return err
	}
	c.hline(left+28, left+80, y+1, 0.3, ink)
	if err := c.text("王小明", 16, left+34, y-1, blue, false); err != nil {
		return err
	}
	if err := c.text("日期：2026 年 11 月 25 日", 12, w-85, y, ink, false); err != nil {
		return err
	}
	return c.footer()
}

// certificate is a fictional community residence certificate with a seal.
func (c *canvas) certificate() error {
	w := float64(c.img.Bounds().Dx()) / c.dpi * 25.4
	if err := c.text("居 住 证 明", 26, w/2, 40, ink, true); err != nil {
		return err
	}
	if err := c.text("（测试样张 SAMPLE · 内容均为虚构）", 10, w/2, 50, grey, true); err != nil {
		return err
	}
	body := []string{
		"兹证明示例 李小红（证件号码 0000**********001X，样张）",
		"自 2023 年 3 月起居住在本社区幸福路 1 号 2 栋 301 室，",
		"居住情况属实。",
		"",
		"特此证明。",
		"",
		"本证明仅用于一门通自助终端扫描测试，不具有任何法律效力。",
	}
	for i, l := range body {
		if err := c.text(l, 13, 25, 75+float64(i)*11, ink, false); err != nil {
			return err
		}
	}
	sx, sy := w-60, 175.0
	if err := c.text("示例市幸福路社区居民委员会", 13, sx, sy-2, ink, true); err != nil {
		return err
	}
	if err := c.text("2026 年 11 月 25 日", 13, sx, sy+10, ink, true); err != nil {
		return err
	}
	c.ring(sx, sy, 21, 1.2, red)
	c.star(sx, sy-3, 6, red)
	if err := c.text("示例社区居委会（样章）", 8, sx, sy+12, red, true); err != nil {
		return err
	}
	return c.footer()
}

func (c *canvas) footer() error {
	b := c.img.Bounds()
	w := float64(b.Dx()) / c.dpi * 25.4
	h := float64(b.Dy()) / c.dpi * 25.4
	c.hline(20, w-20, h-22, 0.3, grey)
	return c.text("OneDoor 一门通 · 扫描测试页 · 虚构内容 · 第 1 页 共 1 页", 8, w/2, h-15, grey, true)
}

// boxBlur approximates a Gaussian of the given pixel radius with passes of a
// separable box filter.
func boxBlur(img *image.RGBA, radius, passes int) {
	if radius < 1 {
		return
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	tmp := make([]uint8, len(img.Pix))
	for range passes {
		blur1D(img.Pix, tmp, w, h, 4, img.Stride, radius) // horizontal
		blur1D(tmp, img.Pix, h, w, img.Stride, 4, radius) // vertical
	}
}

// blur1D box-filters lines of n pixels; step is the distance between
// neighbours along a line and lineStep between lines. Alpha is left alone
// (pages are opaque). Edges repeat the border pixel.
func blur1D(src, dst []uint8, n, lines, step, lineStep, radius int) {
	win := 2*radius + 1
	for l := range lines {
		base := l * lineStep
		for ch := range 3 {
			p := src[base+ch:]
			first, last := int(p[0]), int(p[(n-1)*step])
			sum := first * (radius + 1)
			for i := 1; i <= radius; i++ {
				if i < n {
					sum += int(p[i*step])
				} else {
					sum += last
				}
			}
			out := dst[base+ch:]
			for i := range n {
				out[i*step] = uint8((sum + win/2) / win)
				add, sub := last, first
				if j := i + radius + 1; j < n {
					add = int(p[j*step])
				}
				if j := i - radius; j >= 0 {
					sub = int(p[j*step])
				}
				sum += add - sub
			}
		}
		for i := range n {
			dst[base+i*step+3] = src[base+i*step+3]
		}
	}
}

// addNoise adds the mild sensor noise of a real scanner (deterministic per
// page) so blank detection is tested against a sheet that is not perfectly
// white.
func addNoise(img *image.RGBA, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x5CA77E5))
	for i := 0; i < len(img.Pix); i += 4 {
		n := int(math.Round(r.NormFloat64() * 2))
		for ch := range 3 {
			img.Pix[i+ch] = uint8(max(0, min(255, int(img.Pix[i+ch])+n)))
		}
	}
}
