package sim

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"onedoor/drivers/escpos"
)

func collect(d *POSDecoder, in []byte, byteByByte bool) []POSOp {
	var ops []POSOp
	emit := func(op POSOp) { ops = append(ops, op) }
	if byteByByte {
		for i := range in {
			d.Feed(in[i:i+1], emit)
		}
	} else {
		d.Feed(in, emit)
	}
	return ops
}

func TestPOSDecoder(t *testing.T) {
	type want struct {
		kind POSOpKind
		n    int
		r    rune
		data string
	}
	tests := []struct {
		name     string
		chinese  bool
		fourByte bool
		in       []byte
		want     []want
	}{
		{"gb18030 two-byte and ascii", true, false, []byte{0xBB, 0xD8, 'A', 0x0A}, []want{{OpChar, 0, '回', ""}, {OpChar, 0, 'A', ""}, {OpPrint, 0, 0, ""}}},
		{"four-byte without font is garbage", true, false, []byte{0x81, 0x39, 0xEE, 0x39}, []want{{OpChar, 0, 0xFFFD, ""}}},
		{"four-byte with font", true, true, []byte{0x81, 0x39, 0xEE, 0x39}, []want{{OpChar, 0, '㐀', ""}}},
		{"no chinese mode: code page bytes", false, false, []byte{0xBB, 0xD8}, []want{{OpChar, 0, '╗', ""}, {OpChar, 0, '╪', ""}}},
		{"FS & switches chinese on", false, false, []byte{0x1C, 0x26, 0xBB, 0xD8}, []want{{OpChineseOn, 0, 0, ""}, {OpChar, 0, '回', ""}}},
		{"qr worked example", true, false, []byte{
			0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00,
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06,
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31,
			0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, 0x41, 0x42, 0x43,
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30,
		}, []want{{OpQRModel, '2', 0, ""}, {OpQRModule, 6, 0, ""}, {OpQRLevel, '1', 0, ""}, {OpQRStore, 0, 0, "ABC"}, {OpQRPrint, 0, 0, ""}}},
		{"raster", true, false, []byte{0x1D, 0x76, 0x30, 0, 2, 0, 1, 0, 0xF0, 0x0F}, []want{{OpRaster, 0, 0, "\xf0\x0f"}}},
		{"cuts", true, false, []byte{0x1D, 0x56, 0x42, 0, 0x1D, 0x56, 0x01, 0x1B, 0x6D}, []want{{OpCut, 0, 0, ""}, {OpCut, 0, 0, ""}, {OpCut, 0, 0, ""}}},
		{"realtime and GS r", true, false, []byte{0x10, 0x04, 0x01, 0x1D, 0x72, 0x01}, []want{{OpRealtime, 1, 0, ""}, {OpTransmitStatus, 1, 0, ""}}},
		{"code128", true, false, []byte{0x1D, 0x6B, 73, 5, '{', 'B', 'A', 'B', 'C'}, []want{{OpBarcode, 73, 0, "{BABC"}}},
		{"code39 function A", true, false, []byte{0x1D, 0x6B, 4, 'A', 'B', 0}, []want{{OpBarcode, 4, 0, "AB"}}},
		{"size and feeds", true, false, []byte{0x1D, 0x21, 0x11, 0x1B, 0x64, 3, 0x1B, 0x4A, 9}, []want{{OpSize, 0, 0, ""}, {OpFeedLines, 3, 0, ""}, {OpFeedDots, 9, 0, ""}}},
		{"unknown", true, false, []byte{0x1B, 0x01, 0x1D, 0x02}, []want{{OpUnknown, 0, 0, ""}, {OpUnknown, 0, 0, ""}}},
		{"oversized raster skipped", true, false, append([]byte{0x1D, 0x76, 0x30, 0, 0xFF, 0xFF, 0xFF, 0xFF}, 'x'), []want{{OpOversized, 8 + 65535*65535, 0, ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			whole := collect(NewPOSDecoder(tc.chinese, tc.fourByte), tc.in, false)
			split := collect(NewPOSDecoder(tc.chinese, tc.fourByte), tc.in, true)
			if !reflect.DeepEqual(whole, split) {
				t.Fatalf("byte-by-byte decoding differs:\n%+v\n%+v", whole, split)
			}
			if len(whole) != len(tc.want) {
				t.Fatalf("got %d ops %+v, want %d", len(whole), whole, len(tc.want))
			}
			for i, w := range tc.want {
				g := whole[i]
				if g.Kind != w.kind || (w.n != 0 && g.N != w.n) || (w.r != 0 && g.Rune != w.r) || (w.data != "" && string(g.Data) != w.data) {
					t.Errorf("op %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// rawRig runs a simulated printer on a pty and gives the test the slave
// side as a plain file, so it can misbehave as a host.
func rawRig(t *testing.T, prof escpos.Profile, opts ...PrinterOption) (*Printer, *os.File) {
	t.Helper()
	pt, err := OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPrinter(prof, opts...)
	if err != nil {
		t.Fatal(err)
	}
	host, err := os.OpenFile(pt.SlavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, pt) }()
	t.Cleanup(func() {
		cancel()
		host.Close()
		pt.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return p, host
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPrinterDropsBytesWhenHostIgnoresXOFF(t *testing.T) {
	prof, err := escpos.LoadProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	prof.ReceiveBuffer = 256
	p, host := rawRig(t, prof, WithPrintSpeed(500))
	b := escpos.NewBuilder(prof, nil).Init()
	for i := 0; i < 60; i++ {
		b.Line("受理回执 GZ0001-20261125-0042 居民身份证换领")
	}
	job, err := b.Cut().Build()
	if err != nil {
		t.Fatal(err)
	}
	// All at once, deaf to the XOFF the printer sends back.
	if _, err := host.Write(job.Bytes()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all bytes to arrive", func() bool { return p.Stats().Received >= job.Len() })
	s := p.Stats()
	if s.XOFFs == 0 || s.Dropped == 0 {
		t.Fatalf("want XOFF sent and bytes dropped, got %+v", s)
	}
	reply := make([]byte, 1)
	if _, err := host.Read(reply); err != nil || reply[0] != escpos.XOFF {
		t.Fatalf("host read %#02x, %v; want XOFF", reply[0], err)
	}
}

func TestPrinterAnswersStatusAndCommands(t *testing.T) {
	prof, _ := escpos.LoadProfile("generic-58")
	p, host := rawRig(t, prof)
	ask := func(n byte) byte {
		t.Helper()
		if _, err := host.Write([]byte{0x10, 0x04, n}); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		for {
			if _, err := host.Read(b); err != nil {
				t.Fatal(err)
			}
			if b[0] != escpos.XON && b[0] != escpos.XOFF {
				return b[0]
			}
		}
	}
	tests := []struct {
		cmd  string
		n    byte
		want byte
	}{
		{"status", 1, 0x12},
		{"paperout 2", 4, 0x1E},
		{"paperout 0", 4, 0x7E},
		{"paper refill", 4, 0x12},
		{"cover open", 2, 0x16},
		{"cover open", 1, 0x1A},
		{"cover close", 1, 0x12},
	}
	for _, tc := range tests {
		if _, err := p.Command(strings.Fields(tc.cmd)); err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		if got := ask(tc.n); got != tc.want {
			t.Errorf("after %q DLE EOT %d = %#02x, want %#02x", tc.cmd, tc.n, got, tc.want)
		}
	}
	for _, bad := range []string{"", "paperout", "paperout -1", "paper empty", "cover ajar", "explode"} {
		if _, err := p.Command(strings.Fields(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPrinterRendersPaperWidthAndCut(t *testing.T) {
	prof, _ := escpos.LoadProfile("generic-58")
	dir := t.TempDir()
	p, host := rawRig(t, prof, WithOutputDir(dir))
	job, err := escpos.NewBuilder(prof, nil).Init().Align(escpos.AlignCenter).Size(2, 2).Line("回执").Size(1, 1).Line("ABC").Cut().Build()
	if err != nil {
		t.Fatal(err)
	}
	host.Write(job.Bytes())
	waitFor(t, "a page", func() bool { return len(p.Pages()) == 1 })
	pg := p.Pages()[0]
	if pg.Image.Bounds().Dx() != 384 || !pg.Cut || pg.Text != "回执\nABC\n✂------------------------------\n" {
		t.Fatalf("page %dx%d cut=%v text %q", pg.Image.Bounds().Dx(), pg.Image.Bounds().Dy(), pg.Cut, pg.Text)
	}
	// The double-size title is centred: 96 dots wide on 384, from x=144.
	ink := func(x0, x1, y0, y1 int) bool {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if pg.Image.GrayAt(x, y).Y == 0 {
					return true
				}
			}
		}
		return false
	}
	if ink(0, 140, 0, 48) || ink(244, 384, 0, 48) || !ink(144, 240, 0, 48) {
		t.Error("title not centred at double size")
	}
	if b, err := os.ReadFile(dir + "/page-001.png"); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("page not saved: %v", err)
	}
}

// CODE128 built by escpos, printed by the simulator, scanned by a real
// decoder: set C pairs and set switches must round-trip.
func TestPrinterCode128Scans(t *testing.T) {
	prof, _ := escpos.LoadProfile("generic-80")
	p, host := rawRig(t, prof)
	inputs := []string{"GZ0001-20261125-0042", "12345", "ABC{x}", "20261125"}
	b := escpos.NewBuilder(prof, nil).Init().Align(escpos.AlignCenter)
	for _, in := range inputs {
		b.Code128(in, 60).Cut()
	}
	job, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	host.Write(job.Bytes())
	waitFor(t, "pages", func() bool { return len(p.Pages()) == len(inputs) })
	for i, pg := range p.Pages() {
		bmp, err := gozxing.NewBinaryBitmapFromImage(pg.Image)
		if err != nil {
			t.Fatal(err)
		}
		res, err := oned.NewCode128Reader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("%q does not scan: %v", inputs[i], err)
		}
		if res.GetText() != inputs[i] {
			t.Errorf("scanned %q, want %q", res.GetText(), inputs[i])
		}
	}
	if s := p.Stats(); s.Unknown != 0 {
		t.Errorf("%d commands not understood", s.Unknown)
	}
}

func TestCode128Text(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"{BABC", "ABC", false},
		{"{C\x0c\x22", "1234", false},
		{"{B1{C\x17\x2d", "12345", false},
		{"{B{{x", "{x", false},
		{"ABC", "", true},
		{"{C\x64", "", true},
		{"{B\x01", "", true},
		{"{B{S", "", true},
	}
	for _, tc := range tests {
		got, err := code128Text([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%q → %q, %v", tc.in, got, err)
		}
	}
}
