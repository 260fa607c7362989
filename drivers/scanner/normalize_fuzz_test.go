package scanner

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// FuzzNormalize feeds arbitrary bytes, as a faulty device might send, to
// Normalize: it must return a page or an error, never panic, and refuse
// anything it cannot decode with ErrBadImage.
func FuzzNormalize(f *testing.F) {
	img := image.NewGray(image.Rect(0, 0, 40, 56))
	for i := range img.Pix {
		img.Pix[i] = uint8(200 + i%50)
	}
	img.SetGray(10, 10, color.Gray{0})
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		f.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(p.Bytes(), 100)
	f.Add(j.Bytes(), 0)
	f.Add([]byte("\x89PNG\r\n\x1a\n"), 300)
	f.Fuzz(func(t *testing.T, raw []byte, dpi int) {
		if dpi < 0 || dpi > 1200 {
			dpi = 100
		}
		page, err := Normalize(raw, dpi, NormalizeOptions{TargetDPI: 75})
		if err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("error without ErrBadImage: %v", err)
			}
			return
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(page.JPEG)); err != nil {
			t.Fatalf("accepted page is not a JPEG: %v", err)
		}
	})
}
