package scanner

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"onedoor/drivers/scanner/pages"
)

// scanned renders a test page and encodes it as a scanner would send it.
func scanned(t testing.TB, g *pages.Generator, name string, size pages.Size, dpi int, grey bool) []byte {
	t.Helper()
	img, err := g.Render(name, size, dpi)
	if err != nil {
		t.Fatal(err)
	}
	var src image.Image = img
	if grey {
		src = toGrey(img)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestNormalizeFlagsBlankAndBlurredPages(t *testing.T) {
	tests := []struct {
		page        string
		scanDPI     int
		grey        bool
		wantBlank   bool
		wantBlurred bool
	}{
		{"form", 200, true, false, false},
		{"form", 300, true, false, false},
		{"form", 150, true, false, false},
		{"certificate", 200, false, false, false},
		{"certificate", 100, true, false, false},
		{"blank", 200, true, true, false},
		{"blank", 200, false, true, false},
		{"blurred", 200, true, false, true},
		{"blurred", 200, false, false, true},
		{"blurred", 150, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			t.Parallel()
			g, err := pages.New() // a Generator is not safe for concurrent use
			if err != nil {
				t.Fatal(err)
			}
			raw := scanned(t, g, tc.page, pages.A4, tc.scanDPI, tc.grey)
			p, err := Normalize(raw, tc.scanDPI, NormalizeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s at %d dpi (grey %v): ink %.5f sharpness %.0f", tc.page, tc.scanDPI, tc.grey, p.InkCoverage, p.Sharpness)
			if p.Blank != tc.wantBlank || p.Blurred != tc.wantBlurred {
				t.Errorf("blank=%v blurred=%v, want blank=%v blurred=%v", p.Blank, p.Blurred, tc.wantBlank, tc.wantBlurred)
			}
			if p.NeedsRescan() != (tc.wantBlank || tc.wantBlurred) {
				t.Error("NeedsRescan disagrees with the flags")
			}
		})
	}
}

func TestNormalizeOutputFormat(t *testing.T) {
	g, err := pages.New()
	if err != nil {
		t.Fatal(err)
	}
	colourPNG := func() []byte {
		img, err := g.Render("certificate", pages.A5, 200)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	tests := []struct {
		name     string
		raw      []byte
		srcDPI   int
		opts     NormalizeOptions
		w, h     int
		wantGrey bool
	}{
		{"colour PNG kept colour", colourPNG, 200, NormalizeOptions{TargetDPI: 100}, 583, 827, false},
		{"colour PNG to grey", colourPNG, 200, NormalizeOptions{TargetDPI: 150, Grey: true}, 874, 1241, true},
		{"grey JPEG stays grey", scanned(t, g, "form", pages.A4, 200, true), 200, NormalizeOptions{}, 1241, 1754, true},
		{"unknown source dpi kept", scanned(t, g, "form", pages.A5, 100, true), 0, NormalizeOptions{TargetDPI: 120}, 583, 827, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Normalize(tc.raw, tc.srcDPI, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.Width != tc.w || p.Height != tc.h || p.Grey != tc.wantGrey {
				t.Fatalf("got %dx%d grey=%v, want %dx%d grey=%v", p.Width, p.Height, p.Grey, tc.w, tc.h, tc.wantGrey)
			}
			img, err := jpeg.Decode(bytes.NewReader(p.JPEG))
			if err != nil {
				t.Fatalf("output is not a JPEG: %v", err)
			}
			if img.Bounds().Dx() != tc.w || img.Bounds().Dy() != tc.h {
				t.Fatalf("JPEG is %v", img.Bounds())
			}
			if _, isGrey := img.(*image.Gray); isGrey != tc.wantGrey {
				t.Errorf("JPEG colour model %T, want grey=%v", img, tc.wantGrey)
			}
		})
	}
}

func TestNormalizeRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		opts NormalizeOptions
	}{
		{"not an image", []byte("GIF89a? no, just text"), NormalizeOptions{}},
		{"truncated JPEG", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00}, NormalizeOptions{}},
		{"empty", nil, NormalizeOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Normalize(tc.raw, 200, tc.opts); !errors.Is(err, ErrBadImage) {
				t.Fatalf("err = %v, want ErrBadImage", err)
			}
		})
	}
	if _, err := Normalize([]byte{1}, 200, NormalizeOptions{JPEGQuality: 101}); err == nil {
		t.Error("quality 101 accepted")
	}
}
