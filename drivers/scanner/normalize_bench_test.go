package scanner

import (
	"bytes"
	"image/jpeg"
	"testing"

	"onedoor/drivers/scanner/pages"
)

// BenchmarkNormalize times the whole normalisation of an A4 form scanned at
// 200 dpi grey (decode, scale to 150 dpi, JPEG q85, ink and blur scores),
// the work the kiosk does after every transfer. BenchmarkDecodeEncode is
// the baseline: decode the same JPEG and re-encode it, nothing else.
//
//	go test -run XXX -bench 'Normalize|DecodeEncode' -benchtime 10x ./drivers/scanner
func BenchmarkNormalize(b *testing.B) {
	raw := benchPage(b)
	b.SetBytes(int64(len(raw)))
	for range b.N {
		if _, err := Normalize(raw, 200, NormalizeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEncode(b *testing.B) {
	raw := benchPage(b)
	b.SetBytes(int64(len(raw)))
	for range b.N {
		img, err := jpeg.Decode(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if err := jpeg.Encode(&bytes.Buffer{}, img, &jpeg.Options{Quality: DefaultJPEGQuality}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPage(b *testing.B) []byte {
	b.Helper()
	g, err := pages.New()
	if err != nil {
		b.Fatal(err)
	}
	return scanned(b, g, "form", pages.A4, 200, true)
}
