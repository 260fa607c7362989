package sim

import (
	"reflect"
	"testing"

	"onedoor/drivers/escpos"
)

// FuzzPOSDecoder: any byte stream decodes without panicking, the same way
// however it is split, and a command never claims more bytes than arrived.
func FuzzPOSDecoder(f *testing.F) {
	p, _ := escpos.LoadProfile("generic-80")
	job, _ := escpos.NewBuilder(p, nil).Init().Size(2, 2).Line("受理回执 A1").QR("https://x.cn/t/1", escpos.QRLevelM).Cut().Build()
	f.Add(job.Bytes(), uint8(7))
	f.Add([]byte{0x1D, 0x76, 0x30, 0, 2, 0, 1, 0, 0xF0, 0x0F, 0x81, 0x39, 0xEE, 0x39}, uint8(1))
	f.Add([]byte{0x1B, 0x2A, 33, 2, 0, 1, 2, 3, 4, 5, 6, 0x10, 0x04, 0x01}, uint8(3))
	f.Add([]byte{0x1D, 0x6B, 4, 'A', 'B', 0x1D, 0x28, 0x6B, 0xFF, 0xFF}, uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		whole := collect(NewPOSDecoder(true, false), in, false)
		var parts []POSOp
		d := NewPOSDecoder(true, false)
		step := int(split)%16 + 1
		for i := 0; i < len(in); i += step {
			d.Feed(in[i:min(i+step, len(in))], func(op POSOp) { parts = append(parts, op) })
		}
		if !reflect.DeepEqual(whole, parts) {
			t.Fatalf("split by %d decodes differently", step)
		}
		n := 0
		for _, op := range whole {
			n += len(op.Raw)
			if op.Kind == OpRaster && len(op.Data) != op.W*op.H {
				t.Fatalf("raster %dx%d with %d bytes", op.W, op.H, len(op.Data))
			}
		}
		if n > len(in) {
			t.Fatalf("%d command bytes from %d input bytes", n, len(in))
		}
	})
}

// FuzzPrinterRender: whatever the host sends, the renderer draws it
// without panicking and the page keeps the paper width.
func FuzzPrinterRender(f *testing.F) {
	p, _ := escpos.LoadProfile("generic-58")
	job, _ := escpos.NewBuilder(p, nil).Init().Align(escpos.AlignRight).Size(4, 4).Line("回执㐀").QR("https://x.cn/t/1", escpos.QRLevelH).Code128("GZ0001-20261125-0042", 60).Cut().Build()
	f.Add(job.Bytes())
	f.Add([]byte{0x1D, 0x21, 0x77, 'A', 'B', 0x0A, 0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0xFF, 0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x50, 0x30, 'x', 0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, 0x1D, 0x56, 0x00})
	f.Add([]byte{0x1D, 0x76, 0x30, 0, 0xFF, 0x00, 0x02, 0x00})
	pr, err := NewPrinter(p) // parsing the fonts once keeps the fuzzer fast
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		pr.page = newPageRender(pr)
		pr.pages, pr.paperL, pr.paperE = nil, -1, false
		pr.page.feed(in)
		pr.page.finish(false, false)
		for _, pg := range pr.Pages() {
			if pg.Image.Bounds().Dx() != p.PaperWidthDots {
				t.Fatalf("page %d dots wide", pg.Image.Bounds().Dx())
			}
		}
	})
}
