package printer

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozqr "github.com/makiuchi-d/gozxing/qrcode"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
)

// rig is a simulated printer on a real pty with the driver opened on the
// slave side.
type rig struct {
	sim *sim.Printer
	drv *Printer
}

func newRig(t *testing.T, profile string, baud int, simOpts ...sim.PrinterOption) *rig {
	t.Helper()
	prof, err := escpos.LoadProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	return newRigProfile(t, prof, baud, simOpts...)
}

func newRigProfile(t *testing.T, prof escpos.Profile, baud int, simOpts ...sim.PrinterOption) *rig {
	t.Helper()
	pt, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sim.NewPrinter(prof, simOpts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sp.Serve(ctx, pt) }()
	drv, err := Open(Config{Path: pt.SlavePath, Baud: baud, Profile: prof, PauseTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		drv.Close()
		cancel()
		pt.Close()
		if err := <-served; err != nil {
			t.Errorf("simulator: %v", err)
		}
	})
	return &rig{sim: sp, drv: drv}
}

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("QR in printed page does not decode: %v", err)
	}
	return res.GetText()
}

func savePage(t *testing.T, name string, pg sim.PrintedPage) {
	dir := os.Getenv("PRINTER_TEST_OUT")
	if dir == "" {
		return
	}
	b, err := pg.PNG()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	os.WriteFile(filepath.Join(dir, name+".txt"), []byte(pg.Text), 0o644)
}

func TestReceiptOverPTY(t *testing.T) {
	tests := []struct {
		profile  string
		nativeQR bool
	}{
		{"generic-80", true},
		{"generic-58", true},
		{"generic-80-noqr", false},
		{"epson-tm-t88iii", false},
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			r := newRig(t, tc.profile, 115200)
			rc := SampleReceipt()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			prog, err := r.drv.Print(ctx, rc)
			if err != nil {
				t.Fatalf("print: %v", err)
			}
			if !prog.Printed || prog.BytesSent != prog.BytesTotal {
				t.Fatalf("progress %+v", prog)
			}
			pages := r.sim.Pages()
			if len(pages) != 1 || !pages[0].Cut || pages[0].Torn {
				t.Fatalf("want one cut page, got %d pages", len(pages))
			}
			pg := pages[0]
			savePage(t, tc.profile, pg)
			if pg.Image.Bounds().Dx() != r.drv.Profile().PaperWidthDots {
				t.Errorf("page width %d dots", pg.Image.Bounds().Dx())
			}
			if tc.profile != "epson-tm-t88iii" { // that one prints Chinese as images
				for _, want := range []string{rc.Number, "张*明", "4419**********123X", "居民身份证"} {
					if !strings.Contains(strings.ReplaceAll(pg.Text, "\n", ""), want) {
						t.Errorf("page text lacks %q:\n%s", want, pg.Text)
					}
				}
			} else if pg.Images < 10 || strings.ContainsFunc(pg.Text, func(r rune) bool { return r >= 0x80 && r != '✂' && !strings.ContainsRune("图像点宽", r) }) {
				// No Chinese font: every Chinese line must arrive as an image.
				t.Errorf("want Chinese only as images, got %d images and text:\n%s", pg.Images, pg.Text)
			}
			if strings.Contains(pg.Text, "\uFFFD") || r.sim.Stats().Garbage > 0 || r.sim.Stats().Unknown > 0 {
				t.Errorf("garbage printed: stats %+v\n%s", r.sim.Stats(), pg.Text)
			}
			if got := len(pg.QRData) > 0; got != tc.nativeQR {
				t.Errorf("native QR printed = %v, want %v", got, tc.nativeQR)
			}
			if got := decodeQR(t, pg.Image); got != rc.TrackingURL {
				t.Errorf("QR decodes to %q, want %q", got, rc.TrackingURL)
			}
			if s := r.sim.Stats(); s.Dropped != 0 {
				t.Errorf("printer dropped %d bytes", s.Dropped)
			}
		})
	}
}

var _ = bytes.Equal
var _ = errors.Is
