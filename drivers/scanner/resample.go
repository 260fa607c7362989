package scanner

import (
	"image"
	"image/color"
	"math"
)

// Area-average downscaling. x/image/draw's kernel scalers keep a float64
// RGBA buffer of destination width × source height (about 90 MB for an A4
// page at 200 dpi scaled to 150 dpi), too much for a small kiosk PC doing
// this after every page. Averaging the source pixels each destination
// pixel covers gives the same anti-aliased result with memory in the order
// of one row.

// span is the source pixels one destination pixel covers, with weights
// summing to 1.
type span struct {
	start int
	w     []float32
}

// spans maps n source pixels onto m ≤ n destination pixels.
func spans(n, m int) []span {
	out := make([]span, m)
	scale := float64(n) / float64(m)
	for d := range out {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		first := int(math.Floor(lo))
		last := min(n-1, int(math.Ceil(hi))-1)
		s := span{start: first}
		for i := first; i <= last; i++ {
			cover := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			s.w = append(s.w, float32(cover/scale))
		}
		out[d] = s
	}
	return out
}

// rowReader fills buf with source row y as ch channels per pixel (1 grey,
// 3 RGB), as float32 0..255.
type rowReader func(y int, buf []float32)

func newRowReader(src image.Image, grey bool) rowReader {
	b := src.Bounds()
	w := b.Dx()
	switch m := src.(type) {
	case *image.Gray:
		return func(y int, buf []float32) {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				v := float32(row[x])
				if grey {
					buf[x] = v
				} else {
					buf[3*x], buf[3*x+1], buf[3*x+2] = v, v, v
				}
			}
		}
	case *image.YCbCr:
		return func(y int, buf []float32) {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				if grey {
					buf[x] = float32(m.Y[yi])
					continue
				}
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				buf[3*x], buf[3*x+1], buf[3*x+2] = float32(r), float32(g), float32(bl)
			}
		}
	case *image.RGBA:
		return func(y int, buf []float32) {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				r, g, bl := float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
				if grey {
					buf[x] = luma(r, g, bl)
				} else {
					buf[3*x], buf[3*x+1], buf[3*x+2] = r, g, bl
				}
			}
		}
	}
	return func(y int, buf []float32) {
		for x := range w {
			r, g, bl, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			fr, fg, fb := float32(r>>8), float32(g>>8), float32(bl>>8)
			if grey {
				buf[x] = luma(fr, fg, fb)
			} else {
				buf[3*x], buf[3*x+1], buf[3*x+2] = fr, fg, fb
			}
		}
	}
}

// luma is the JFIF/BT.601 weighting Go's color.GrayModel uses.
func luma(r, g, b float32) float32 { return 0.299*r + 0.587*g + 0.114*b }

// downscale averages src into a w×h Gray (grey) or RGBA image; w and h must
// not exceed the source size.
func downscale(src image.Image, w, h int, grey bool) image.Image {
	sb := src.Bounds()
	ch := 3
	if grey {
		ch = 1
	}
	xs, ys := spans(sb.Dx(), w), spans(sb.Dy(), h)
	read := newRowReader(src, grey)
	srcRow := make([]float32, sb.Dx()*ch)
	rowH := make([]float32, w*ch)
	acc := make([]float32, w*ch)

	var gray *image.Gray
	var rgba *image.RGBA
	if grey {
		gray = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for dy, ysp := range ys {
		clear(acc)
		for k, wy := range ysp.w {
			read(ysp.start+k, srcRow)
			for dx, xsp := range xs {
				for c := range ch {
					var sum float32
					for j, wx := range xsp.w {
						sum += wx * srcRow[(xsp.start+j)*ch+c]
					}
					rowH[dx*ch+c] = sum
				}
			}
			for i, v := range rowH {
				acc[i] += wy * v
			}
		}
		if grey {
			row := gray.Pix[dy*gray.Stride:]
			for x := range w {
				row[x] = clamp8(acc[x])
			}
		} else {
			row := rgba.Pix[dy*rgba.Stride:]
			for x := range w {
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = clamp8(acc[3*x]), clamp8(acc[3*x+1]), clamp8(acc[3*x+2]), 255
			}
		}
	}
	if grey {
		return gray
	}
	return rgba
}

func clamp8(v float32) uint8 {
	return uint8(max(0, min(255, v+0.5)))
}
