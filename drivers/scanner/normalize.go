package scanner

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // devices and scanimage may deliver PNG
	"math"
	"slices"

	xdraw "golang.org/x/image/draw"
)

// Defaults of NormalizeOptions. The thresholds were calibrated on the test
// pages of the pages package (sharp pages 1370–6600, blurred form 18–25, blank
// page 0 ink); real devices may need them tuned, which is why they are
// options.
const (
	DefaultTargetDPI   = 150
	DefaultJPEGQuality = 85
	DefaultBlankBelow  = 0.0005 // ink on less than 0.05 % of the page
	DefaultBlurBelow   = 200    // median Laplacian variance of content tiles
	// AnalysisDPI is the resolution the scores are measured at, so that
	// the thresholds do not depend on the chosen output resolution.
	AnalysisDPI = 150
	// maxPixels refuses images that would take more memory than any real
	// page needs (A3 at 600 dpi is 70 Mpx; A4 at 600 dpi is 35 Mpx).
	maxPixels = 40_000_000
)

// NormalizeOptions says what every page is turned into.
type NormalizeOptions struct {
	TargetDPI   int     // output resolution; 0 means DefaultTargetDPI
	Grey        bool    // output greyscale even when scanned in colour
	JPEGQuality int     // 0 means DefaultJPEGQuality
	BlankBelow  float64 // 0 means DefaultBlankBelow
	BlurBelow   float64 // 0 means DefaultBlurBelow
}

func (o NormalizeOptions) withDefaults() NormalizeOptions {
	if o.TargetDPI == 0 {
		o.TargetDPI = DefaultTargetDPI
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = DefaultJPEGQuality
	}
	if o.BlankBelow == 0 {
		o.BlankBelow = DefaultBlankBelow
	}
	if o.BlurBelow == 0 {
		o.BlurBelow = DefaultBlurBelow
	}
	return o
}

// Normalize decodes a page scanned at srcDPI (0 if unknown: taken to be the
// target), converts it to greyscale if asked or if it already is grey,
// scales it to the target resolution, encodes it as JPEG and scores it.
func Normalize(raw []byte, srcDPI int, o NormalizeOptions) (Page, error) {
	o = o.withDefaults()
	if o.TargetDPI < 50 || o.TargetDPI > 600 || o.JPEGQuality < 1 || o.JPEGQuality > 100 {
		return Page{}, fmt.Errorf("scanner: normalise to %d dpi at quality %d: out of range", o.TargetDPI, o.JPEGQuality)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return Page{}, fmt.Errorf("%w: %dx%d pixels", ErrBadImage, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	if srcDPI <= 0 {
		srcDPI = o.TargetDPI
	}
	grey := o.Grey || isGrey(src)
	out := scaleTo(src, srcDPI, o.TargetDPI, grey)

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: o.JPEGQuality}); err != nil {
		return Page{}, fmt.Errorf("scanner: encode JPEG: %w", err)
	}
	g := toGrey(out)
	if o.TargetDPI != AnalysisDPI {
		g = scaleTo(g, o.TargetDPI, AnalysisDPI, true).(*image.Gray)
	}
	p := Page{
		JPEG:        buf.Bytes(),
		Width:       out.Bounds().Dx(),
		Height:      out.Bounds().Dy(),
		DPI:         o.TargetDPI,
		Grey:        grey,
		InkCoverage: InkCoverage(g),
		Sharpness:   Sharpness(g),
	}
	p.Blank = p.InkCoverage < o.BlankBelow
	p.Blurred = !p.Blank && p.Sharpness < o.BlurBelow
	return p, nil
}

func isGrey(img image.Image) bool {
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	case *image.YCbCr:
		return m.SubsampleRatio == image.YCbCrSubsampleRatio444 && len(m.Cb) == 0
	}
	return false
}

// scaleTo resamples img from one resolution to another into a Gray or RGBA
// image, averaging (never dropping) pixels when it shrinks.
func scaleTo(img image.Image, from, to int, grey bool) image.Image {
	b := img.Bounds()
	w := max(1, int(math.Round(float64(b.Dx())*float64(to)/float64(from))))
	h := max(1, int(math.Round(float64(b.Dy())*float64(to)/float64(from))))
	var dst draw.Image
	if grey {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	if w <= b.Dx() && h <= b.Dy() && (w < b.Dx() || h < b.Dy()) {
		return downscale(img, w, h, grey)
	}
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	// Upscaling (a device that scanned below the target resolution) is
	// rare and the images small, so x/image's kernel scaler is fine here.
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}

func toGrey(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

// inside returns the page without a 4 % margin, where scanner lids and feed
// rollers leave shadows that are not content.
func inside(b image.Rectangle) image.Rectangle {
	mx, my := b.Dx()*4/100, b.Dy()*4/100
	return image.Rect(b.Min.X+mx, b.Min.Y+my, b.Max.X-mx, b.Max.Y-my)
}

// InkCoverage is the share of pixels inside the margins that are at least 60
// levels darker than the paper, whose level is the 90th percentile of the
// page (most of any document is paper).
func InkCoverage(g *image.Gray) float64 {
	r := inside(g.Bounds())
	if r.Empty() {
		return 0
	}
	var hist [256]int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := g.Pix[g.PixOffset(r.Min.X, y):g.PixOffset(r.Max.X, y)]
		for _, v := range row {
			hist[v]++
		}
	}
	total := r.Dx() * r.Dy()
	paper, seen := 0, 0
	for v := 0; v < 256; v++ {
		seen += hist[v]
		if seen*10 >= total*9 {
			paper = v
			break
		}
	}
	ink := 0
	for v := 0; v < paper-60; v++ {
		ink += hist[v]
	}
	return float64(ink) / float64(total)
}

// Sharpness is the median, over 32×32 tiles that hold content (intensity
// standard deviation above 12 levels, well above sensor noise), of the
// variance of the 4-neighbour Laplacian. Measuring per content tile keeps a
// sparse but sharp page from looking blurred because most of it is paper.
// It is 0 when no tile holds content.
func Sharpness(g *image.Gray) float64 {
	const tile = 32
	r := inside(g.Bounds())
	var scores []float64
	for ty := r.Min.Y + 1; ty+tile < r.Max.Y-1; ty += tile {
		for tx := r.Min.X + 1; tx+tile < r.Max.X-1; tx += tile {
			var sum, sum2, lsum, lsum2 float64
			for y := ty; y < ty+tile; y++ {
				for x := tx; x < tx+tile; x++ {
					o := g.PixOffset(x, y)
					v := float64(g.Pix[o])
					l := float64(g.Pix[o-1]) + float64(g.Pix[o+1]) + float64(g.Pix[o-g.Stride]) + float64(g.Pix[o+g.Stride]) - 4*v
					sum += v
					sum2 += v * v
					lsum += l
					lsum2 += l * l
				}
			}
			const n = tile * tile
			if sum2/n-(sum/n)*(sum/n) < 12*12 {
				continue
			}
			scores = append(scores, lsum2/n-(lsum/n)*(lsum/n))
		}
	}
	if len(scores) == 0 {
		return 0
	}
	slices.Sort(scores)
	return scores[len(scores)/2]
}
