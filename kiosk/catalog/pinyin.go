package catalog

import (
	"strings"
	"unicode/utf8"
)

//go:generate go run ../internal/pinyingen -table catalog -o pinyin_table.go

// pinyinOf returns the toneless readings of r separated by spaces (ü
// written v), or "" when r is not a GB2312 Han character. It binary-searches
// the generated constant, so search needs no table built at start-up and
// keeps nothing in the heap.
func pinyinOf(r rune) string {
	t := hanReadings
	lo, hi := 0, len(t) // both at the start of a record (or the end)
	for lo < hi {
		mid := lo + (hi-lo)/2
		// The record containing mid starts after the last newline before
		// it; LastIndexByte gives -1 when that is lo itself.
		s := lo + strings.LastIndexByte(t[lo:mid], '\n') + 1
		e := s + strings.IndexByte(t[s:], '\n') + 1
		c, n := utf8.DecodeRuneInString(t[s:])
		switch {
		case c == r:
			return t[s+n : e-1]
		case c < r:
			lo = e
		default:
			hi = s
		}
	}
	return ""
}

// maxPinyinQuery is the longest query word matched as pinyin: the set of
// positions reached in the word is a bitmask.
const maxPinyinQuery = 63

// isPinyinQuery reports whether w (lower-cased) can be pinyin: ASCII
// letters only, as typed on the Latin/pinyin keypad.
func isPinyinQuery(w string) bool {
	if w == "" || len(w) > maxPinyinQuery {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// matchPinyin reports whether the pinyin word w is spelt by consecutive Han
// characters of text, each character contributing a non-empty prefix of
// one of its readings. That covers what residents type: initials (jzz for
// 居住证, also zh/ch/sh as two letters), full pinyin (juzhuzheng), a mix
// (juzz), and an unfinished last syllable (juzh), in any reading of a
// polyphonic character (参保 as canbao). Like the plain search it matches
// anywhere in the text, not only at its start.
//
// It runs one pass over text keeping the set of positions in w reached by
// a run ending at the current character (bit p: w[:p] spelt), so the cost
// is linear in the text however ambiguous the readings are.
func matchPinyin(text, w string) bool {
	done := uint64(1) << len(w)
	var reach uint64 // positions reached after the previous character
	for _, r := range text {
		py := pinyinOf(r)
		if py == "" {
			reach = 0 // a run of Han characters ends here
			continue
		}
		from := reach | 1 // a match may also start at this character
		reach = 0
		for p := 0; p < len(w); p++ {
			if from&(1<<p) == 0 {
				continue
			}
			for reading := range strings.FieldsSeq(py) {
				// Every common prefix of reading and w[p:] is a way
				// this character can be typed.
				for k := 0; k < len(reading) && p+k < len(w) && reading[k] == w[p+k]; k++ {
					reach |= 1 << (p + k + 1)
				}
			}
		}
		if reach&done != 0 {
			return true
		}
	}
	return false
}
