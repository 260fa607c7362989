package escpos

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"onedoor/assets"
)

func mustProfile(t *testing.T, name string) Profile {
	t.Helper()
	p, err := LoadProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmbeddedProfilesValidate(t *testing.T) {
	names := assets.PrinterProfileNames()
	if len(names) < 3 {
		t.Fatalf("only %d profiles embedded", len(names))
	}
	for _, n := range names {
		p, err := LoadProfile(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if p.Name != n {
			t.Errorf("file %s names itself %q", n, p.Name)
		}
	}
	if p := mustProfile(t, ""); p.Name != assets.DefaultPrinterProfile || p.PaperWidthDots != 576 {
		t.Errorf("default profile %+v", p)
	}
}

func TestParseProfileRejects(t *testing.T) {
	good := "name=\"x\"\npaper_width_dots=384\ncolumns=32\nqr_module=4\ncut=\"full\"\nmax_char_size=4\nchinese=\"gb18030\"\nreceive_buffer=1024\n"
	if _, err := ParseProfile([]byte(good)); err != nil {
		t.Fatalf("good profile: %v", err)
	}
	tests := map[string]string{
		"unknown key":   good + "colour = true\n",
		"odd width":     strings.Replace(good, "384", "380", 1),
		"too many cols": strings.Replace(good, "columns=32", "columns=40", 1),
		"bad cut":       strings.Replace(good, `"full"`, `"guillotine"`, 1),
		"bad encoding":  strings.Replace(good, `"gb18030"`, `"big5"`, 1),
		"tiny buffer":   strings.Replace(good, "1024", "16", 1),
		"not toml":      "name = ",
		"unknown name":  "",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			if name == "unknown name" {
				_, err = LoadProfile("no-such-printer")
			} else {
				_, err = ParseProfile([]byte(text))
			}
			if !errors.Is(err, ErrBadProfile) {
				t.Fatalf("want ErrBadProfile, got %v", err)
			}
		})
	}
}

func build(t *testing.T, p Profile, f func(b *Builder)) []byte {
	t.Helper()
	b := NewBuilder(p, nil)
	f(b)
	j, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return j.Bytes()
}

func TestBuilderBytes(t *testing.T) {
	p80 := mustProfile(t, "generic-80")
	p58 := mustProfile(t, "generic-58")
	epson := mustProfile(t, "epson-tm-t88iii")
	legacy := p58
	legacy.Cut = CutLegacyPartial
	tests := []struct {
		name string
		p    Profile
		f    func(*Builder)
		want []byte
	}{
		{"init chinese", p80, func(b *Builder) { b.Init() }, []byte{0x1B, 0x40, 0x1C, 0x26}},
		{"init no chinese", epson, func(b *Builder) { b.Init() }, []byte{0x1B, 0x40, 0x1C, 0x2E}},
		{"chinese mode", p80, func(b *Builder) { b.Chinese(false).Chinese(true) }, []byte{0x1C, 0x2E, 0x1C, 0x26}},
		{"size 2x2", p80, func(b *Builder) { b.Size(2, 2) }, []byte{0x1D, 0x21, 0x11}},
		{"size clamped to profile", p58, func(b *Builder) { b.Size(8, 0) }, []byte{0x1D, 0x21, 0x30}},
		{"align centre, bold", p80, func(b *Builder) { b.Align(AlignCenter).Bold(true) }, []byte{0x1B, 0x61, 1, 0x1B, 0x45, 1}},
		{"feed", p80, func(b *Builder) { b.Feed(3).FeedDots(24) }, []byte{0x1B, 0x64, 3, 0x1B, 0x4A, 24}},
		{"gb18030 text", p80, func(b *Builder) { b.Line("回执A1") }, []byte{0xBB, 0xD8, 0xD6, 0xB4, 'A', '1', 0x0A}},
		{"controls become spaces", p80, func(b *Builder) { b.Line("a\tb") }, []byte{'a', ' ', 'b', 0x0A}},
		{"feed-partial cut", p80, func(b *Builder) { b.Cut() }, []byte{0x1D, 0x56, 0x42, 0}},
		{"legacy cut", legacy, func(b *Builder) { b.Cut() }, []byte{0x1B, 0x64, 4, 0x1B, 0x6D}},
		{"native QR (reference worked example)", p80, func(b *Builder) { b.QR("ABC", QRLevelM) }, concat(
			[]byte{0x1B, 0x61, 1, 0x1B, 0x4A, 24},
			[]byte{0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00},
			[]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06},
			[]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31},
			[]byte{0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, 0x41, 0x42, 0x43},
			[]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30},
			[]byte{0x1B, 0x4A, 24, 0x1B, 0x61, 0})},
		{"code128", p80, func(b *Builder) { b.Code128("AB123456", 60) }, concat(
			[]byte{0x1D, 0x68, 60, 0x1D, 0x77, 2, 0x1D, 0x48, 2},
			[]byte{0x1D, 0x6B, 73, 9, '{', 'B', 'A', 'B', '{', 'C', 12, 34, 56})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := build(t, tc.p, tc.f); !bytes.Equal(got, tc.want) {
				t.Fatalf("got  % X\nwant % X", got, tc.want)
			}
		})
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestQRLengthAbove255(t *testing.T) {
	data := strings.Repeat("x", 300)
	got := build(t, mustProfile(t, "generic-80"), func(b *Builder) { b.QR(data, QRLevelL) })
	// pL pH = 303 = 0x012F: the length must be two little-endian bytes.
	if !bytes.Contains(got, []byte{0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30, 'x'}) {
		t.Fatalf("store command wrong: % X", got[:40])
	}
}

func TestUnprintableLineBecomesRaster(t *testing.T) {
	tests := []struct {
		profile, line string
		raster        bool
	}{
		{"generic-80", "申请人：张*明", false},
		{"generic-80", "申请人：㐀*明", true}, // four-byte GB18030
		{"epson-tm-t88iii", "ID 4419", false},
		{"epson-tm-t88iii", "申请人", true}, // no Chinese font
		{"generic-80", "😀", true},        // not in GB18030's two-byte set
	}
	for _, tc := range tests {
		t.Run(tc.profile+"/"+tc.line, func(t *testing.T) {
			b := NewBuilder(mustProfile(t, tc.profile), nil)
			b.Line(tc.line)
			j, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			isRaster := false
			for _, c := range j.Commands {
				if c.Image {
					isRaster = true
					if !bytes.HasPrefix(c.Bytes, []byte{0x1D, 0x76, 0x30, 0}) {
						t.Fatalf("image command % X", c.Bytes[:8])
					}
				}
			}
			if isRaster != tc.raster {
				t.Fatalf("raster = %v, want %v", isRaster, tc.raster)
			}
		})
	}
}

func TestRasterStripsFitBuffer(t *testing.T) {
	p := mustProfile(t, "generic-80")
	img := image.NewGray(image.Rect(0, 0, 576, 1000))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	b := NewBuilder(p, nil)
	b.Image(img)
	j, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, c := range j.Commands {
		if !c.Image {
			continue
		}
		x := int(c.Bytes[4]) | int(c.Bytes[5])<<8
		y := int(c.Bytes[6]) | int(c.Bytes[7])<<8
		if x != 72 || y > 256 || len(c.Bytes) != 8+x*y || len(c.Bytes) > p.ReceiveBuffer/4+8 {
			t.Fatalf("strip x=%d y=%d len=%d", x, y, len(c.Bytes))
		}
		rows += y
	}
	if rows != 1000 {
		t.Fatalf("%d rows sent, want 1000", rows)
	}
}

func TestDitherKeepsGreyLevel(t *testing.T) {
	tests := []struct {
		grey      uint8
		lo, hi    float64
		transpare bool
	}{
		{0, 0.99, 1.0, false}, {255, 0, 0.01, false}, {128, 0.4, 0.6, false}, {64, 0.65, 0.85, false}, {0, 0, 0.01, true},
	}
	for _, tc := range tests {
		img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
		a := uint8(255)
		if tc.transpare {
			a = 0
		}
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				img.Set(x, y, color.NRGBA{tc.grey, tc.grey, tc.grey, a})
			}
		}
		bm := Dither(img, 576)
		black := 0
		for _, v := range bm.Pix {
			black += int(v)
		}
		if f := float64(black) / float64(len(bm.Pix)); f < tc.lo || f > tc.hi {
			t.Errorf("grey %d (transparent %v): %.2f black, want %.2f..%.2f", tc.grey, tc.transpare, f, tc.lo, tc.hi)
		}
	}
	if bm := Dither(image.NewGray(image.Rect(0, 0, 1000, 500)), 576); bm.W != 576 || bm.H != 288 {
		t.Errorf("scaled to %dx%d", bm.W, bm.H)
	}
}

func TestCode128Payload(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"ABC", "{BABC", false},
		{"1234", "{C\x0c\x22", false},
		{"12345", "{B1{C\x17\x2d", false},
		{"A1B2", "{BA1B2", false},
		{"{x", "{B{{x", false},
		{"a\tb", "{Ba{A\t{Bb", false},
		{"GZ0001-20261125-0042", "{BGZ{C\x00\x01{B-{C\x14\x1a\x0b\x19{B-{C\x00\x2a", false},
		{"", "", true},
		{"张", "", true},
		{strings.Repeat("a", 300), "", true},
	}
	for _, tc := range tests {
		got, err := Code128Payload(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.err && string(got) != tc.want {
			t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
		}
	}
}

func TestLayout(t *testing.T) {
	if c := Columns("回执A1"); c != 6 {
		t.Errorf("Columns = %d", c)
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"wrap chinese", Wrap("居民身份证换领及户籍信息变更", 10), []string{"居民身份证", "换领及户籍", "信息变更"}},
		{"keep a number whole", Wrap("编号 GZ0001-20261125-0042", 24), []string{"编号", "GZ0001-20261125-0042"}},
		{"split what cannot fit", Wrap("ABCDEFGHIJ", 4), []string{"ABCD", "EFGH", "IJ"}},
		{"no full-width char over the edge", Wrap("abc回执", 4), []string{"abc", "回执"}},
		{"empty", Wrap("", 10), []string{""}},
		{"no comma at line start", Wrap("请妥善保管本回执，凭回执", 16), []string{"请妥善保管本回", "执，凭回执"}},
		{"hanging indent", Labelled("事项：", "居民身份证换领", 14), []string{"事项：居民身份", "      证换领"}},
		{"left right", LeftRight("合计", "12.00", 16), []string{"合计       12.00"}},
	}
	for _, tc := range tests {
		if strings.Join(tc.got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q want %q", tc.name, tc.got, tc.want)
		}
		for _, l := range tc.got {
			if Columns(l) > 24 {
				t.Errorf("%s: line %q too wide", tc.name, l)
			}
		}
	}
}

func TestStatusApply(t *testing.T) {
	tests := []struct {
		n    int
		b    byte
		want Status
		err  bool
	}{
		{1, 0x12, Status{Online: true}, false},
		{1, 0x16, Status{Online: true}, false}, // drawer pin high: still a valid reply
		{1, 0x1A, Status{}, false},
		{2, 0x16, Status{Online: true, CoverOpen: true}, false},
		{2, 0x32, Status{Online: true, PaperStop: true}, false},
		{3, 0x1A, Status{Online: true, CutterError: true}, false},
		{3, 0x52, Status{Online: true, AutoRecoverable: true}, false},
		{4, 0x12, Status{Online: true}, false},
		{4, 0x1E, Status{Online: true, PaperNearEnd: true}, false},
		{4, 0x72, Status{Online: true, PaperEnd: true}, false},
		{4, 0x7E, Status{Online: true, PaperEnd: true, PaperNearEnd: true}, false},
		{1, 0x11, Status{Online: true}, true}, // XON is not a reply
		{1, 0x00, Status{Online: true}, true},
		{5, 0x12, Status{Online: true}, true},
	}
	for _, tc := range tests {
		s := Status{Online: true}
		err := s.Apply(tc.n, tc.b)
		if (err != nil) != tc.err || s != tc.want {
			t.Errorf("Apply(%d, %#02x) = %+v, %v; want %+v", tc.n, tc.b, s, err, tc.want)
		}
	}
}

func TestReplyScanner(t *testing.T) {
	in := []byte{0x13, 0x12, 0x11, 0x10, 0x00, 0x0C, 0x00, 0x00, 0x0F, 0x80}
	want := []ReplyKind{ReplyXOFF, ReplyRealtime, ReplyXON, ReplyASB, ReplyASB, ReplyASB, ReplyASB, ReplyBuffered, ReplyBuffered, ReplyUnknown}
	var sc ReplyScanner
	for i, b := range in {
		if got := sc.Next(b); got != want[i] {
			t.Errorf("byte %d (%#02x): kind %d, want %d", i, b, got, want[i])
		}
	}
}
