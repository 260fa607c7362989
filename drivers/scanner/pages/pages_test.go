package pages

import (
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestRenderSizesAndInk(t *testing.T) {
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		size       Size
		dpi        int
		w, h       int
		wantInkMin float64 // fraction of clearly dark or coloured pixels
		wantInkMax float64
	}{
		{"form", A4, 100, 827, 1169, 0.01, 0.3},
		{"certificate", A4, 100, 827, 1169, 0.005, 0.3},
		{"form", A5, 150, 874, 1240, 0.01, 0.4},
		{"blank", A4, 100, 827, 1169, 0, 0.0001},
		{"blurred", A4, 100, 827, 1169, 0.001, 0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.size.Name, func(t *testing.T) {
			img, err := g.Render(tc.name, tc.size, tc.dpi)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("size %v, want %dx%d", b, tc.w, tc.h)
			}
			ink := inkFraction(img)
			if ink < tc.wantInkMin || ink > tc.wantInkMax {
				t.Errorf("ink fraction %.5f outside [%v, %v]", ink, tc.wantInkMin, tc.wantInkMax)
			}
			if dir := os.Getenv("ONEDOOR_PAGES_OUT"); dir != "" {
				writePNG(t, filepath.Join(dir, tc.name+"-"+tc.size.Name+".png"), img)
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.Render("certificate", A5, 75)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Render("certificate", A5, 75)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Pix) != string(b.Pix) {
		t.Fatal("two renders of the same page differ; the simulator's SHA-256 checks need stable pages")
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Render("passport", A4, 100); !errors.Is(err, ErrUnknownPage) {
		t.Errorf("unknown page: %v", err)
	}
	if _, err := g.Render("form", A4, 5000); err == nil {
		t.Error("5000 dpi accepted")
	}
}

// inkFraction counts pixels far darker than paper or strongly coloured.
func inkFraction(img *image.RGBA) float64 {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, b := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
		if r+g+b < 3*160 || r-b > 80 {
			n++
		}
	}
	return float64(n) / float64(len(img.Pix)/4)
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
