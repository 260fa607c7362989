package main

import (
	"bytes"
	"runtime"
	"testing"

	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"

	"onedoor/assets"
)

// BenchmarkFontParse measures what Fyne 2.7 pays for each text style
// (regular, bold, monospace, ...) that a window draws: it parses the
// theme's font once per style (internal/painter.loadMeasureFont), with no
// sharing between styles that return the same resource. The baseline row
// is Fyne's own Latin face. "retained-MiB" is the live heap a parsed face
// keeps.
func BenchmarkFontParse(b *testing.B) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"fyne-default-NotoSans", theme.DefaultTextFont().Content()},
		{"kiosk-DroidSansFallbackFull", assets.CJKFont},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			face, err := font.ParseTTF(bytes.NewReader(tc.data))
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(face)
			for b.Loop() {
				if _, err := font.ParseTTF(bytes.NewReader(tc.data)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "retained-MiB")
		})
	}
}
