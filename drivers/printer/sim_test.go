package printer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
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
	// A loaded test machine (and the race detector) can delay a reply well
	// past the 500 ms a real printer is given. It can also hold the
	// simulator's XON back: an XOFF in the middle of a raster command,
	// which the simulator ends after about 2 ms of printing, was measured
	// lasting up to 0.8 s under CPU load (3 busy loops on 2 cores beside
	// the whole suite). A pause longer than PauseTimeout makes the driver
	// ask for status inside the command, which corrupts it (as on a real
	// printer), so TestXOFFPausesDriverAndNothingIsDropped printed an
	// unreadable QR code with 500 ms here (7 of 30 runs). 5 s is beyond
	// any pause seen; a printer that goes offline mid-command
	// (TestPaperOutMidJobThenReprint) is still found well within its 30 s.
	drv, err := Open(pt.SlavePath, Options{Baud: baud, Profile: prof, PauseTimeout: 5 * time.Second, StatusTimeout: 2 * time.Second})
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
				// Undo the wrapping (newline plus hanging indent) to find the item whole.
				flat := regexp.MustCompile(`\n *`).ReplaceAllString(pg.Text, "")
				for _, want := range []string{rc.Number, rc.Item, "张*明", "4419**********123X"} {
					if !strings.Contains(flat, want) {
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
			// Decode the QR from the PNG file's bytes, as a technician would
			// scan the saved page.
			pngBytes, err := pg.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, format, err := image.Decode(bytes.NewReader(pngBytes))
			if err != nil || format != "png" {
				t.Fatalf("page PNG: %v (%s)", err, format)
			}
			if got := decodeQR(t, img); got != rc.TrackingURL {
				t.Errorf("QR decodes to %q, want %q", got, rc.TrackingURL)
			}
			if s := r.sim.Stats(); s.Dropped != 0 {
				t.Errorf("printer dropped %d bytes", s.Dropped)
			}
		})
	}
}

func TestFourByteCharacterPrintsAsImage(t *testing.T) {
	// 㐀 (U+3400) is 81 39 EE 39 in GB18030: four bytes, missing from the
	// fonts of most printers.
	fourByte := []byte{0x81, 0x39, 0xEE, 0x39}
	tests := []struct {
		name      string
		fontHasIt bool
	}{
		{"font without four-byte characters", false},
		{"font with four-byte characters", true},
	}
	var pageImages []*image.Gray
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prof, err := escpos.LoadProfile("generic-80")
			if err != nil {
				t.Fatal(err)
			}
			prof.FourByteFont = tc.fontHasIt
			r := newRigProfile(t, prof, 115200)
			rc := SampleReceipt()
			rc.ApplicantName = "㐀小明"
			job, err := rc.Job(prof, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(job.Bytes(), fourByte); got != tc.fontHasIt {
				t.Errorf("four-byte code sent as text = %v, want %v", got, tc.fontHasIt)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := r.drv.PrintJob(ctx, job); err != nil {
				t.Fatal(err)
			}
			pg := r.sim.Pages()[0]
			savePage(t, "fourbyte-"+strings.Fields(tc.name)[1], pg)
			if s := r.sim.Stats(); s.Garbage != 0 || strings.Contains(pg.Text, "\uFFFD") {
				t.Fatalf("garbage printed (%d characters):\n%s", s.Garbage, pg.Text)
			}
			if got := strings.Contains(pg.Text, "㐀*明"); got != tc.fontHasIt {
				t.Errorf("name printed as text = %v, want %v:\n%s", got, tc.fontHasIt, pg.Text)
			}
			// The native-QR profile prints no other image: the name line is it.
			wantImages := 0
			if !tc.fontHasIt {
				wantImages = 1
			}
			if pg.Images != wantImages {
				t.Errorf("%d images printed, want %d:\n%s", pg.Images, wantImages, pg.Text)
			}
			pageImages = append(pageImages, pg.Image)
		})
	}
	// The image line is drawn with the same font and cell metrics as the
	// printer's own font: both receipts must come out dot for dot the same.
	if len(pageImages) == 2 {
		a, b := pageImages[0], pageImages[1]
		if a.Bounds() != b.Bounds() {
			t.Fatalf("page sizes differ: %v vs %v", a.Bounds(), b.Bounds())
		}
		diff := 0
		for i := range a.Pix {
			if a.Pix[i] != b.Pix[i] {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("image fallback differs from the font rendering in %d dots", diff)
		}
	}
}

func TestPaperOutMidJobThenReprint(t *testing.T) {
	for _, profile := range []string{"generic-80", "generic-80-noqr"} {
		t.Run(profile, func(t *testing.T) {
			r := newRig(t, profile, 115200)
			r.sim.SetPaperLeft(8) // runs out a third of the way down the receipt
			rc := SampleReceipt()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			prog, err := r.drv.Print(ctx, rc)
			if !errors.Is(err, ErrPaperOut) {
				t.Fatalf("want ErrPaperOut, got %v", err)
			}
			var je *JobError
			if !errors.As(err, &je) || je.Progress.BytesTotal == 0 || je.Progress.Printed || prog != je.Progress {
				t.Fatalf("want progress in a JobError, got %#v", err)
			}
			t.Logf("stopped: %v", err)
			pages := r.sim.Pages()
			if len(pages) != 1 || !pages[0].Torn || strings.Contains(pages[0].Text, "承诺办结") {
				t.Fatalf("want one torn partial page, got %d pages", len(pages))
			}
			st, err := r.drv.Status(ctx)
			if err != nil || !st.PaperEnd || st.Online {
				t.Fatalf("status after paper out: %+v, %v", st, err)
			}
			r.sim.RefillPaper()
			// The tail of the job must not print by itself after the refill.
			time.Sleep(200 * time.Millisecond)
			if n := len(r.sim.Pages()); n != 1 {
				t.Fatalf("%d pages after refill, before reprint", n)
			}
			prog, err = r.drv.Reprint(ctx)
			if err != nil || !prog.Printed {
				t.Fatalf("reprint: %+v, %v", prog, err)
			}
			pages = r.sim.Pages()
			if len(pages) != 2 || !pages[1].Cut {
				t.Fatalf("want a second, cut page; got %d pages", len(pages))
			}
			full := strings.ReplaceAll(pages[1].Text, "\n", "")
			for _, want := range []string{"受理回执", rc.Number, "张*明", "承诺办结", "咨询电话"} {
				if !strings.Contains(full, want) {
					t.Errorf("reprinted page lacks %q:\n%s", want, pages[1].Text)
				}
			}
			if got := decodeQR(t, pages[1].Image); got != rc.TrackingURL {
				t.Errorf("reprinted QR decodes to %q", got)
			}
		})
	}
}

func TestXOFFPausesDriverAndNothingIsDropped(t *testing.T) {
	prof, err := escpos.LoadProfile("generic-80-noqr")
	if err != nil {
		t.Fatal(err)
	}
	// 1500 dot rows/s prints the receipt's text more slowly than 115200
	// baud delivers it, so the buffer fills and the printer sends XOFF
	// (once or twice a receipt). The XOFF margin is room for the
	// scheduling delays of a loaded test machine (and the race detector)
	// on both sides of the pty, which a real UART does not have: the
	// simulator may read and answer bytes the driver wrote long before.
	// 384 bytes (33 ms of wire time, in a 1 KiB buffer) overflowed under
	// CPU load (92 bytes dropped in 1 of 30 runs, 3 busy loops on 2 cores
	// beside the whole suite); 3 KiB is 270 ms. A driver that ignores XOFF
	// still overflows it by 800 to 2,800 bytes (tried).
	prof.ReceiveBuffer = 4096
	r := newRigProfile(t, prof, 115200, sim.WithPrintSpeed(1500), sim.WithFlowThresholds(3072, 3584))
	rc := SampleReceipt()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := r.drv.Print(ctx, rc); err != nil {
		t.Fatal(err)
	}
	s := r.sim.Stats()
	if s.XOFFs == 0 || s.XONs == 0 {
		t.Fatalf("the printer never held the driver off: %+v", s)
	}
	if s.Dropped != 0 {
		t.Fatalf("%d bytes dropped despite flow control (%+v)", s.Dropped, s)
	}
	pg := r.sim.Pages()[0]
	if got := decodeQR(t, pg.Image); got != rc.TrackingURL {
		t.Errorf("QR decodes to %q", got)
	}
	if !strings.Contains(pg.Text, rc.Number) || s.Garbage != 0 || s.Unknown != 0 {
		t.Errorf("page damaged (%+v):\n%s", s, pg.Text)
	}
	t.Logf("XOFF %d times, XON %d times, %d bytes", s.XOFFs, s.XONs, s.Received)
}

func TestPreflightRefusesJob(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*sim.Printer)
		want  error
	}{
		{"cover open", func(p *sim.Printer) { p.SetCoverOpen(true) }, ErrCoverOpen},
		{"no paper", func(p *sim.Printer) { p.SetPaperLeft(0) }, ErrPaperOut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "generic-58", 9600)
			tc.setup(r.sim)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			prog, err := r.drv.Print(ctx, SampleReceipt())
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			if prog.BytesSent != 0 || len(r.sim.Pages()) != 0 {
				t.Fatalf("job started anyway: %+v", prog)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*sim.Printer)
		check func(escpos.Status) bool
	}{
		{"ready", func(*sim.Printer) {}, func(s escpos.Status) bool { return s.Ready() && !s.PaperNearEnd }},
		{"near end", func(p *sim.Printer) { p.SetPaperLeft(3) }, func(s escpos.Status) bool { return s.Ready() && s.PaperNearEnd }},
		{"paper end", func(p *sim.Printer) { p.SetPaperLeft(0) }, func(s escpos.Status) bool { return !s.Online && s.PaperEnd && s.PaperStop }},
		{"cover open", func(p *sim.Printer) { p.SetCoverOpen(true) }, func(s escpos.Status) bool { return !s.Online && s.CoverOpen && !s.PaperEnd }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "generic-80", 9600)
			tc.setup(r.sim)
			st, err := r.drv.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(st) {
				t.Fatalf("status %s", st)
			}
		})
	}
}

func TestNoPrinterGivesNoReply(t *testing.T) {
	pt, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	prof, _ := escpos.LoadProfile("")
	drv, err := Open(pt.SlavePath, Options{Baud: 9600, Profile: prof, StatusTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	if _, err := drv.Status(context.Background()); !errors.Is(err, ErrNoReply) {
		t.Fatalf("want ErrNoReply, got %v", err)
	}
	if _, err := drv.Reprint(context.Background()); !errors.Is(err, ErrNoJob) {
		t.Fatalf("want ErrNoJob, got %v", err)
	}
}

func TestEndOfJobWithoutTransmitStatus(t *testing.T) {
	for _, gsr := range []bool{true, false} {
		t.Run(fmt.Sprintf("transmit_status=%v", gsr), func(t *testing.T) {
			prof, _ := escpos.LoadProfile("generic-58")
			prof.TransmitStatus = gsr
			r := newRigProfile(t, prof, 115200)
			r.drv.cfg.SettleTime = 300 * time.Millisecond
			prog, err := r.drv.Print(context.Background(), SampleReceipt())
			if err != nil || !prog.Printed {
				t.Fatalf("%+v, %v", prog, err)
			}
			want := 0
			if gsr {
				want = 2 // the probe before the first job, and the job's end
			}
			if got := r.sim.Stats().GSr; got != want {
				t.Fatalf("GS r sent %d times, want %d", got, want)
			}
			// Without GS r the driver cannot know when printing ends; the
			// simulator may still be at it.
			deadline := time.Now().Add(10 * time.Second)
			for len(r.sim.Pages()) != 1 {
				if time.Now().After(deadline) {
					t.Fatal("receipt not printed")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// The cover is opened while the receipt is printing: the job stops with
// ErrCoverOpen, and Reprint first cuts off the half-printed start, then
// prints the whole receipt on its own slip.
func TestCoverOpenedMidJobThenReprint(t *testing.T) {
	r := newRig(t, "generic-80", 115200, sim.WithPrintSpeed(800))
	rc := SampleReceipt()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for r.sim.Stats().Received < 300 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // let the head get going
		r.sim.SetCoverOpen(true)
	}()
	_, err := r.drv.Print(ctx, rc)
	if !errors.Is(err, ErrCoverOpen) {
		t.Fatalf("want ErrCoverOpen, got %v", err)
	}
	if n := len(r.sim.Pages()); n != 0 {
		t.Fatalf("%d pages finished while the cover was open", n)
	}
	r.sim.SetCoverOpen(false)
	if _, err := r.drv.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	pages := r.sim.Pages()
	if len(pages) != 2 {
		t.Fatalf("want the cut-off start and the reprint, got %d pages", len(pages))
	}
	if strings.Contains(pages[0].Text, "咨询电话") || !strings.Contains(pages[0].Text, "受理回执") {
		t.Errorf("first slip should be the interrupted start:\n%s", pages[0].Text)
	}
	full := regexp.MustCompile(`\n *`).ReplaceAllString(pages[1].Text, "")
	for _, want := range []string{"受理回执", rc.Number, rc.Item, "咨询电话"} {
		if !strings.Contains(full, want) {
			t.Errorf("reprint lacks %q:\n%s", want, pages[1].Text)
		}
	}
	if got := decodeQR(t, pages[1].Image); got != rc.TrackingURL {
		t.Errorf("reprinted QR decodes to %q", got)
	}
}
