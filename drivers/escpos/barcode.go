package escpos

import (
	"errors"
	"fmt"
)

// ErrBadBarcode is returned for data a barcode symbology cannot carry.
var ErrBadBarcode = errors.New("escpos: data not encodable as barcode")

// Code128 prints data as a CODE128 barcode (GS k 73) of the given height in
// dots, with the human-readable text below. Runs of four or more digits use
// code set C (two digits per symbol), the rest set B, or set A for control
// characters, which keeps the symbol short enough for 58 mm paper.
func (b *Builder) Code128(data string, height int) *Builder {
	payload, err := Code128Payload(data)
	if err != nil {
		return b.fail(err)
	}
	b.add(false, GS, 'h', byte(max(1, min(height, 255))))
	b.add(false, GS, 'w', 2)
	b.add(false, GS, 'H', 2)
	return b.add(false, append([]byte{GS, 'k', 73, byte(len(payload))}, payload...)...)
}

// Code128Payload returns the GS k 73 data for s: code-set selectors ({A,
// {B, {C) followed by the symbols, set C digits as binary pairs.
func Code128Payload(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadBarcode)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return nil, fmt.Errorf("%w: byte %#x at %d is not ASCII", ErrBadBarcode, s[i], i)
		}
	}
	digitRun := func(i int) int {
		n := 0
		for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
			n++
		}
		return n
	}
	var out []byte
	set := byte(0)
	for i := 0; i < len(s); {
		if run := digitRun(i); run >= 4 {
			if run%2 == 1 { // the odd digit goes out in set A/B first
				out, set = code128Char(out, set, s[i])
				i++
				run--
			}
			if set != 'C' {
				out, set = append(out, '{', 'C'), 'C'
			}
			for ; run > 0; run -= 2 {
				out = append(out, (s[i]-'0')*10+(s[i+1]-'0'))
				i += 2
			}
			continue
		}
		out, set = code128Char(out, set, s[i])
		i++
	}
	if len(out) > 255 {
		return nil, fmt.Errorf("%w: %d symbols exceed 255", ErrTooLong, len(out))
	}
	return out, nil
}

func code128Char(out []byte, set, c byte) ([]byte, byte) {
	want := byte('B')
	if c < 0x20 {
		want = 'A'
	} else if set == 'A' && c < 0x60 {
		want = 'A' // set A also has upper case and digits: no need to switch
	}
	if set != want {
		out, set = append(out, '{', want), want
	}
	if c == '{' {
		return append(out, '{', '{'), set
	}
	return append(out, c), set
}
