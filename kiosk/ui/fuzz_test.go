package ui_test

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// FuzzFieldTyping types arbitrary text into a field the way a hardware
// keyboard or a keyboard-wedge barcode reader does (any rune, backspaces
// between): the value stays valid UTF-8, never exceeds MaxLen, and
// backspace removes exactly one rune.
func FuzzFieldTyping(f *testing.F) {
	f.Add("13800138000", 11)
	f.Add("44030519900612024X\b\bX", 18)
	f.Add("中文\x00\xff\b", 4)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, input string, maxLen int) {
		if maxLen < 0 || maxLen > 64 {
			return
		}
		fld := ui.NewField("")
		fld.MaxLen = maxLen
		for _, r := range input {
			if r == '\b' {
				before := utf8.RuneCountInString(fld.Value)
				fld.Backspace()
				if after := utf8.RuneCountInString(fld.Value); before > 0 && after != before-1 {
					t.Fatalf("backspace went from %d to %d runes", before, after)
				}
				continue
			}
			fld.AppendRune(r)
			if !utf8.ValidString(fld.Value) {
				t.Fatalf("invalid UTF-8 %q", fld.Value)
			}
			if maxLen > 0 && utf8.RuneCountInString(fld.Value) > maxLen {
				t.Fatalf("%d runes beyond MaxLen %d", utf8.RuneCountInString(fld.Value), maxLen)
			}
		}
	})
}

// FuzzPinyinCandidates looks up arbitrary keypad input: no panic, and every
// candidate is a Han character whose readings start with the input.
func FuzzPinyinCandidates(f *testing.F) {
	for _, s := range []string{"zhong", "lv", "x", "", "ZH", "\xff", "shi "} {
		f.Add(s)
	}
	d := uitest.SharedDict()
	f.Fuzz(func(t *testing.T, input string) {
		for _, r := range d.Candidates(input) {
			if !unicode.Is(unicode.Han, r) {
				t.Fatalf("candidate %q for %q is not Han", r, input)
			}
		}
	})
}
