package escpos

import (
	"image"
	"image/color"
)

// Dither converts img to a 1-bit bitmap at most maxW dots wide with
// Floyd–Steinberg error diffusion, so photos and grey logos keep their
// shading on a thermal head that can only print black dots.
func Dither(img image.Image, maxW int) *Bitmap {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	if w > maxW {
		h = max(1, h*maxW/w)
		w = maxW
	}
	grey := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx := r.Min.X + x*r.Dx()/w
			sy := r.Min.Y + y*r.Dy()/h
			c := color.GrayModel.Convert(img.At(sx, sy)).(color.Gray)
			_, _, _, a := img.At(sx, sy).RGBA()
			// Transparent pixels are paper.
			v := float32(c.Y)*float32(a)/0xffff + 255*(1-float32(a)/0xffff)
			grey[y*w+x] = v
		}
	}
	bm := NewBitmap(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			old := grey[y*w+x]
			nv := float32(255)
			if old < 128 {
				nv = 0
				bm.Set(x, y)
			}
			e := old - nv
			if x+1 < w {
				grey[y*w+x+1] += e * 7 / 16
			}
			if y+1 < h {
				if x > 0 {
					grey[(y+1)*w+x-1] += e * 3 / 16
				}
				grey[(y+1)*w+x] += e * 5 / 16
				if x+1 < w {
					grey[(y+1)*w+x+1] += e * 1 / 16
				}
			}
		}
	}
	return bm
}
