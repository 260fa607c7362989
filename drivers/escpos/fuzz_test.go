package escpos

import (
	"errors"
	"testing"
)

// FuzzStatusApply: any byte either decodes or is rejected as not a reply,
// never both, and rejection leaves the status untouched.
func FuzzStatusApply(f *testing.F) {
	for _, b := range []byte{0x12, 0x16, 0x1A, 0x1E, 0x72, 0x7E, 0x11, 0x13, 0x00, 0xFF} {
		for n := 0; n <= 5; n++ {
			f.Add(n, b)
		}
	}
	f.Fuzz(func(t *testing.T, n int, b byte) {
		s := Status{Online: true, CoverOpen: true}
		before := s
		err := s.Apply(n, b)
		if IsRealtimeReply(b) != !errors.Is(err, ErrNotStatus) {
			t.Fatalf("byte %#02x: reply pattern %v but error %v", b, IsRealtimeReply(b), err)
		}
		if err != nil && s != before {
			t.Fatalf("rejected byte changed status: %+v", s)
		}
		if err == nil && n == 4 && s.PaperEnd != (b&0x60 != 0) {
			t.Fatalf("paper end bit misread in %#02x", b)
		}
	})
}

// FuzzReplyScanner: every byte gets exactly one kind; XON/XOFF and status
// bytes outside an ASB message are always recognised.
func FuzzReplyScanner(f *testing.F) {
	f.Add([]byte{0x13, 0x12, 0x11})
	f.Add([]byte{0x10, 0x00, 0x0C, 0x00, 0x12})
	f.Add([]byte{0x90, 0x0F, 0x00, 0x7E})
	f.Fuzz(func(t *testing.T, in []byte) {
		var sc ReplyScanner
		asb := 0
		for i, b := range in {
			k := sc.Next(b)
			if asb > 0 {
				asb--
				if k != ReplyASB {
					t.Fatalf("byte %d inside ASB classified %d", i, k)
				}
				continue
			}
			switch {
			case b == XON && k != ReplyXON, b == XOFF && k != ReplyXOFF:
				t.Fatalf("byte %d: flow control %#02x classified %d", i, b, k)
			case IsRealtimeReply(b) && k != ReplyRealtime:
				t.Fatalf("byte %d: status %#02x classified %d", i, b, k)
			}
			if k == ReplyASB {
				asb = 3
			}
		}
	})
}

// FuzzCode128Payload: whatever it accepts starts with a code-set selector
// and fits GS k's one-byte length.
func FuzzCode128Payload(f *testing.F) {
	for _, s := range []string{"ABC", "12345", "{x", "a\tb", "GZ0001-20261125-0042", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Code128Payload(s)
		if err != nil {
			return
		}
		if len(p) < 3 || p[0] != '{' || (p[1] != 'A' && p[1] != 'B' && p[1] != 'C') || len(p) > 255 {
			t.Fatalf("%q → %q", s, p)
		}
	})
}

// FuzzWrap: no line is wider than asked unless it is one character, and
// no non-space character is lost.
func FuzzWrap(f *testing.F) {
	f.Add("居民身份证换领 GZ0001-20261125-0042", 10)
	f.Add("ABCDEFGHIJ", 4)
	f.Fuzz(func(t *testing.T, s string, cols int) {
		if cols < 2 || cols > 80 {
			return
		}
		in, out := 0, 0
		for _, r := range s {
			if r != ' ' {
				in++
			}
		}
		for _, l := range Wrap(s, cols) {
			if Columns(l) > cols && len([]rune(l)) > 1 {
				t.Fatalf("line %q wider than %d", l, cols)
			}
			for _, r := range l {
				if r != ' ' {
					out++
				}
			}
		}
		if in != out {
			t.Fatalf("%d characters in, %d out", in, out)
		}
	})
}
